-- Create a patient, read it, update it, search for it: one step per request, in turn.
local common = dofile("bench/wrk/common.lua")
local names, ids
local created = {}
local step = 0

function init(args)
  common.seed(thread_id)
  names = common.lines("names.txt")
  ids = common.lines("patient_ids.txt")
end

local function recent()
  if #created == 0 then return common.pick(ids), nil end
  local entry = created[math.random(#created)]
  return entry.id, entry.name
end

function request()
  step = step + 1
  local kind = step % 4
  if kind == 1 then
    local first, last = common.pick(names):match("^(.-)\t(.*)$")
    local body = string.format(
      '{"first_name":"%s","last_name":"%s","date_of_birth":"1980-05-17","gender":"F",' ..
      '"contact_number":"+1555%07d"}', common.escape(first), common.escape(last),
      math.random(0, 9999999))
    return wrk.format("POST", "/api/v1/patients", common.headers, body)
  end
  local id, name = recent()
  if kind == 2 then
    return wrk.format("GET", "/api/v1/patients/" .. id, common.headers)
  elseif kind == 3 then
    local body = string.format('{"contact_number":"+1555%07d"}', math.random(0, 9999999))
    return wrk.format("PUT", "/api/v1/patients/" .. id, common.headers, body)
  end
  local first, last = common.pick(names):match("^(.-)\t(.*)$")
  local query = name or (first .. " " .. last)
  return wrk.format("GET", "/api/v1/patients/search?limit=10&query=" .. common.urlencode(query),
    common.headers)
end

function response(status, headers, body)
  if status == 201 then
    local id = body:match('^{"id":"([%x%-]+)"')
    local first = body:match('"first_name":"(.-)"')
    local last = body:match('"last_name":"(.-)"')
    if id then
      if #created >= 200 then table.remove(created, 1) end
      created[#created + 1] = {id = id, name = (first or "") .. " " .. (last or "")}
    end
  end
end
