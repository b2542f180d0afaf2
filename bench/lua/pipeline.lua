-- GET / with PIPELINE_DEPTH (default 16) requests written back to back per
-- connection; wrk counts every response.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local depth = tonumber(os.getenv("PIPELINE_DEPTH") or "16")
local batch

init = function(args)
  local r = {}
  for i = 1, depth do r[i] = wrk.format(nil, "/") end
  batch = table.concat(r)
end

request = function()
  return batch
end
