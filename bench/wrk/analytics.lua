-- A month of patient analytics and of clinical quality, alternately.
local common = dofile("bench/wrk/common.lua")
local month = os.getenv("BENCH_MONTH") or "2026-10"
local last_day = os.getenv("BENCH_MONTH_END") or "2026-10-31"
local paths = {
  "/api/v1/analytics/patients?start_date=" .. month .. "-01&end_date=" .. last_day ..
    "&metrics=registrations,visits,revenue",
  "/api/v1/analytics/clinical-quality?start_date=" .. month .. "-01&end_date=" .. last_day,
}
local n = 0

function request()
  n = n + 1
  return wrk.format("GET", paths[n % 2 + 1], common.headers)
end
