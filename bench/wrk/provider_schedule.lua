local common = dofile("bench/wrk/common.lua")
local days

function init(args)
  common.seed(thread_id)
  days = common.lines("schedule_days.txt")
end

function request()
  local provider, day = common.pick(days):match("^(.-)\t(.*)$")
  local path = "/api/v1/appointments/schedule?provider_id=" .. provider .. "&start_date=" .. day
  return wrk.format("GET", path, common.headers)
end
