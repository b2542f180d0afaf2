-- POST /upload with a 1 MiB body (UPLOAD_BYTES overrides); the app answers
-- the body's length.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.path = "/upload"
wrk.body = string.rep("x", tonumber(os.getenv("UPLOAD_BYTES") or "1048576"))
wrk.headers["Content-Type"] = "application/octet-stream"
