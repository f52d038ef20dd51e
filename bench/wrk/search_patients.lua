local common = dofile("bench/wrk/common.lua")
local names

function init(args)
  common.seed(thread_id)
  names = common.lines("names.txt")
end

function request()
  local first, last = common.pick(names):match("^(.-)\t(.*)$")
  local path = "/api/v1/patients/search?limit=10&query=" .. common.urlencode(first .. " " .. last)
  return wrk.format("GET", path, common.headers)
end
