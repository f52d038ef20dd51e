local common = dofile("bench/wrk/common.lua")
local names

function init(args)
  common.seed(thread_id)
  names = common.lines("names.txt")
end

function request()
  local first, last = common.pick(names):match("^(.-)\t(.*)$")
  local body = string.format(
    '{"first_name":"%s","last_name":"%s","date_of_birth":"19%02d-%02d-%02d","gender":"%s",' ..
    '"contact_number":"+1555%07d","email":"bench%d@example.org",' ..
    '"address":{"street":"1 Main St","city":"Anytown","state":"CA","zip_code":"12345","country":"USA"},' ..
    '"medical_conditions":["Hypertension"]}',
    common.escape(first), common.escape(last), math.random(30, 99), math.random(1, 12),
    math.random(1, 28), (math.random(2) == 1) and "F" or "M", math.random(0, 9999999),
    math.random(1, 1000000000))
  return wrk.format("POST", "/api/v1/patients", common.headers, body)
end
