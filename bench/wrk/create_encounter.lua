local common = dofile("bench/wrk/common.lua")
local ids, provider

function init(args)
  common.seed(thread_id)
  ids = common.lines("patient_ids.txt")
  provider = common.lines("doctor_provider.txt")[1]
end

function request()
  local systolic = math.random(105, 160)
  local body = string.format(
    '{"patient_id":"%s","provider_id":"%s","encounter_type":"office_visit",' ..
    '"location":"Main Clinic - Room 101","chief_complaint":"Routine follow-up",' ..
    '"physical_examination":{"vital_signs":{"blood_pressure":"%d/%d","heart_rate":%d,' ..
    '"respiratory_rate":14,"temperature":98.6,"oxygen_saturation":98},' ..
    '"general":"Well-appearing"},' ..
    '"assessment":[{"condition":"Essential hypertension","icd10_code":"I10","severity":"mild","onset":"chronic"}],' ..
    '"plan":[{"type":"follow_up","description":"Follow up in 3 months","reason":"Monitoring"}],' ..
    '"diagnoses":[{"code":"I10","description":"Essential hypertension","type":"primary","confirmed":true}]}',
    common.pick(ids), provider, systolic, math.random(60, 90), math.random(55, 100))
  return wrk.format("POST", "/api/v1/clinical/encounters", common.headers, body)
end
