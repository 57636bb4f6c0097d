-- wrk script for bench/routes.py: every request goes to a host and path
-- picked at random among the configured routes.
--
--   wrk -s bench/routes.lua http://127.0.0.1:PORT -- TARGETS_FILE
--
-- TARGETS_FILE has one "host path" pair a line. The requests are formatted
-- once in init, so that the per-request cost in wrk is the same whatever
-- the number of routes.

local requests = {}
local count = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local host, path = line:match("^(%S+)%s+(%S+)$")
    if host then
      count = count + 1
      requests[count] = wrk.format("GET", path, { ["Host"] = host })
    end
  end
  file:close()
  assert(count > 0, "no targets in " .. args[1])
  -- Each wrk thread has its own Lua state: give each its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end

function request()
  return requests[math.random(count)]
end
