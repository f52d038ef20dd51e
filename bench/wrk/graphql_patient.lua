-- The API document's GetPatient query, for a random patient.
local common = dofile("bench/wrk/common.lua")
local ids
local query = "query GetPatient($id: ID!) { patient(id: $id) { id patientId firstName lastName " ..
  "dateOfBirth gender contactNumber email address { street city state zipCode country } " ..
  "clinicalEncounters { id encounterType encounterDate location chiefComplaint " ..
  "diagnoses { code description } provider { id firstName lastName specialty } } " ..
  "appointments { id startDateTime endDateTime appointmentType location status " ..
  "provider { id firstName lastName } } " ..
  "prescriptions { id medication { name strength form } " ..
  "dosage { amount unit frequency instructions } status dateWritten } } }"

function init(args)
  common.seed(thread_id)
  ids = common.lines("patient_ids.txt")
end

function request()
  local body = string.format('{"query":"%s","variables":{"id":"%s"}}', query, common.pick(ids))
  return wrk.format("POST", "/api/v1/graphql", common.headers, body)
end
