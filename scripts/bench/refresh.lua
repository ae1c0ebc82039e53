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

-- bench.sh runs wrk from the repository root.
done = dofile("scripts/bench/report.lua")
