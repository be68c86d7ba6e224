-- wrk script for benches/http_load.rs: every request is a GET of a line
-- drawn at random from a file of "PATH<TAB>TOKEN" lines (the path starting
-- with "/"), sent with that line's token as its bearer token. The
-- benchmark's person runs use it: a person token is bound to one client, so
-- each path carries the token of the client it names.
--
--   wrk -t2 -c32 -d30s --latency \
--     -s benches/wrk/token_paths.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- The tokens stay in the file (written readable by its owner only), out of
-- the process list; nothing here prints them.
--
-- Per request it does what random_paths.lua does (one random draw, one
-- wrk.format with the same two headers, Host and Authorization) plus one
-- table assignment, so that the load generator costs the same in both runs.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

local paths = {}
local authorizations = {}
local headers = {}

function init(args)
  local file_name = args[1]
  assert(file_name, "usage: wrk ... -s token_paths.lua URL -- PATHS_FILE")
  local file = assert(io.open(file_name, "r"))
  for line in file:lines() do
    if line ~= "" then
      local path, token = line:match("^([^\t]+)\t([^\t]+)$")
      -- The message names the line, never its content.
      assert(path, "line " .. (#paths + 1) .. " of " .. file_name .. " is not PATH<TAB>TOKEN")
      paths[#paths + 1] = path
      authorizations[#authorizations + 1] = "Bearer " .. token
    end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. file_name)

  -- wrk's own headers (Host), and the line's Authorization per request.
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end

  -- Each thread draws its own sequence.
  math.randomseed(os.time() * 1000 + (thread_number or 0))
  for _ = 1, 10 do
    math.random()
  end
end

function request()
  local i = math.random(#paths)
  headers["Authorization"] = authorizations[i]
  return wrk.format("GET", paths[i], headers)
end
