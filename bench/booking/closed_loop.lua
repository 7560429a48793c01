-- wrk script: every request books for the next patient of a contiguous block, in a random
-- session; wrk's threads take the block's patients in turn (thread i: i, i + threads, ...).
-- Environment: TOKEN, PATIENT_FIRST, THREADS, SESSION_FIRST, SESSION_COUNT.
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  patient_first = tonumber(os.getenv("PATIENT_FIRST"))
  stride = tonumber(os.getenv("THREADS"))
  session_first = tonumber(os.getenv("SESSION_FIRST"))
  session_count = tonumber(os.getenv("SESSION_COUNT"))
  headers = {
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["Content-Type"] = "application/json",
  }
  sent, created, refused = 0, 0, 0
  math.randomseed(index + 1)
end

function request()
  local patient = patient_first + index + sent * stride
  sent = sent + 1
  local session = session_first + math.random(0, session_count - 1)
  local body = string.format('{"patient_id": %d, "schedule_id": %d}', patient, session)
  return wrk.format("POST", "/api/public/bookings", headers, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local c, r, s = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    r = r + thread:get("refused")
    s = s + thread:get("sent")
  end
  io.write(string.format(
    "RESULT created=%d refused=%d sent=%d errors=%d seconds=%.3f p50_ms=%.1f p99_ms=%.1f\n",
    c, r, s, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
