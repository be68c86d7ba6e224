-- wrk script for benches/http_load.rs: every request is a GET of a path
-- drawn at random from a file of paths (one per line, starting with "/").
--
--   ZP_BENCH_TOKEN=zpat_... wrk -t2 -c32 -d30s --latency \
--     -s benches/wrk/random_paths.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- The bearer token comes from the environment (ZP_BENCH_TOKEN), so that it
-- does not appear in the process list; without it no Authorization header
-- is sent.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

local paths = {}

function init(args)
  local file_name = args[1]
  assert(file_name, "usage: wrk ... -s random_paths.lua URL -- PATHS_FILE")
  local file = assert(io.open(file_name, "r"))
  for line in file:lines() do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. file_name)

  local token = os.getenv("ZP_BENCH_TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end

  -- Each thread draws its own sequence.
  math.randomseed(os.time() * 1000 + (thread_number or 0))
  for _ = 1, 10 do
    math.random()
  end
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
