-- wrk script: POST /api/auth/refresh, each request with a live refresh token.
--
-- Rotation uses a token up, so every response's new refresh token goes back into this thread's
-- pool for a later request. The pool starts from TOKENS_FILE (one refresh token a line, made by
-- bench.sh through real logins); thread N takes every THREADS-th line from line N.

local pool = {}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_index", threads)
end

function init(args)
  local total = tonumber(os.getenv("THREADS"))
  local line_number = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    line_number = line_number + 1
    if (line_number - thread_index) % total == 0 then
      table.insert(pool, line)
    end
  end
end

function request()
  local token = table.remove(pool, 1)
  local body = string.format('{"refresh_token":"%s"}', token)
  return wrk.format("POST", "/api/auth/refresh", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 200 then
    table.insert(pool, body:match('"refresh_token":"([^"]+)"'))
  end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f failed=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, failed))
end
