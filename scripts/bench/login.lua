-- wrk script: POST /api/auth/login with a never-used code on every request.
--
-- The fake WeChat in dev mode accepts any unknown code once; a code `u<N>:<unique>` logs in as
-- user N. Spreading logins over USERS people keeps the run realistic: first logins insert, later
-- ones update, and no single row becomes a lock hot spot.

local USERS = 10000
local counter = 0
-- Codes must differ between runs too: the fake remembers used codes for five minutes.
local run_id = os.time()

local next_thread_id = 0

function setup(thread)
  next_thread_id = next_thread_id + 1
  thread:set("thread_id", next_thread_id)
end

function request()
  counter = counter + 1
  local body = string.format('{"code":"u%d:t%d-%d-%d"}',
    (counter * 7919 + thread_id) % USERS, thread_id, counter, run_id)
  return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" }, body)
end

-- bench.sh runs wrk from the repository root.
done = dofile("scripts/bench/report.lua")
