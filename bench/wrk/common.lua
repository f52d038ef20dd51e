-- Shared by every benchmark script: the token, the sampled data, and a JSON summary at the end.
local common = {}

common.data = os.getenv("BENCH_DATA") or "bench/.data"
common.headers = {["Content-Type"] = "application/json"}
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  common.headers["Authorization"] = "Bearer " .. token
end

function common.lines(name)
  local out = {}
  for line in io.lines(common.data .. "/" .. name) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

function common.pick(list)
  return list[math.random(#list)]
end

function common.seed(thread_id)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
end

function common.urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function common.escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

-- Threads get a number each, so that they draw different random sequences.
local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end

return common
