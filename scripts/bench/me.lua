-- wrk script: GET /api/me with the bearer token given in the TOKEN environment variable.

local token = os.getenv("TOKEN")

function request()
  return wrk.format("GET", "/api/me", { ["Authorization"] = "Bearer " .. token })
end

-- bench.sh runs wrk from the repository root.
done = dofile("scripts/bench/report.lua")
