local common = dofile("bench/wrk/common.lua")
local ids

function init(args)
  common.seed(thread_id)
  ids = common.lines("patient_ids.txt")
end

function request()
  return wrk.format("GET", "/api/v1/patients/" .. common.pick(ids), common.headers)
end
