-- wrk script (bench/run.py): prints one JSON line with the run's figures and the responses each replica served
-- (X-Served-By), so bench/run.py reads numbers instead of wrk's text.
-- With WRK_BODY_FILE set, every request is a POST of that file's bytes (an upload; its headers come as -H).
local body_file = os.getenv("WRK_BODY_FILE") or ""
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
end

-- A global: done() reads each thread's copy with thread:get().
served = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  local who = headers["X-Served-By"] or "-"
  served[who] = (served[who] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for who, n in pairs(thread:get("served")) do
      total[who] = (total[who] or 0) + n
    end
  end
  local shares = {}
  for who, n in pairs(total) do
    table.insert(shares, string.format('"%s": %d', who, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_s": %.3f, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
    '"max": %.3f}, "served_by": {%s}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, table.concat(shares, ", ")))
end
