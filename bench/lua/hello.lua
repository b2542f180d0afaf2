-- GET / on every connection, one request at a time.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
