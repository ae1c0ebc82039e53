#!/usr/bin/env bash
# Load test of the release server against the fake WeChat, with wrk as the load generator.
#
# Prints requests per second, p50 and p99 latency for logins and for GET /api/me, and the
# server's peak RSS. Everything shares this machine: wrk, the server, the fake and Postgres, so
# compare figures from one run, side by side, rather than across runs.
#
# Needs DATABASE_URL (the justfile's bench recipe provides one) and wrk (Debian/Ubuntu:
# `apt-get install wrk`; macOS: `brew install wrk`). Uses a database of its own, dropped first.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
SERVER_PORT="${BENCH_SERVER_PORT:-18080}"
FAKE_PORT="${BENCH_FAKE_PORT:-18081}"

if ! command -v wrk > /dev/null; then
  if command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq wrk > /dev/null
  else
    echo "bench: wrk is needed (apt-get install wrk, or brew install wrk)" >&2
    exit 1
  fi
fi

bench_db_url="$(node -e 'const u = new URL(process.env.DATABASE_URL); u.pathname = "/wxlogin_bench"; console.log(u.href)')"
DATABASE_URL="$bench_db_url" cargo sqlx database drop -y > /dev/null
DATABASE_URL="$bench_db_url" cargo sqlx database create

SQLX_OFFLINE=true cargo build --release -q -p wxlogin-server -p fake-wechat

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; wait 2> /dev/null || true; }
trap cleanup EXIT

FAKE_WECHAT_DEV=1 FAKE_WECHAT_ADDR="127.0.0.1:$FAKE_PORT" \
  FAKE_WECHAT_APPID=wxbenchappid00000 FAKE_WECHAT_SECRET=bench-secret \
  target/release/fake-wechat > /dev/null &
pids+=($!)

DATABASE_URL="$bench_db_url" LISTEN_ADDR="127.0.0.1:$SERVER_PORT" \
  WECHAT_APPID=wxbenchappid00000 WECHAT_SECRET=bench-secret \
  WECHAT_API_BASE="http://127.0.0.1:$FAKE_PORT" \
  JWT_SECRET=bench-only-signing-key-0123456789abcdef RUST_LOG=warn \
  target/release/wxlogin-server > /dev/null &
server_pid=$!
pids+=("$server_pid")

base="http://127.0.0.1:$SERVER_PORT"
for _ in $(seq 100); do
  curl -fsS "$base/readyz" > /dev/null 2>&1 && break
  sleep 0.1
done

run() { # name, wrk args...
  local name="$1"; shift
  local line
  line="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep '^RESULT')"
  printf '%-22s %s\n' "$name" "${line#RESULT }"
}

echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s scripts/bench/login.lua "$base" > /dev/null # warm-up
run "POST /api/auth/login" -s scripts/bench/login.lua "$base"

token="$(curl -fsS -X POST -H 'content-type: application/json' -d '{"code":"bench:me"}' \
  "$base/api/auth/login" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')"
TOKEN="$token" run "GET /api/me" -s scripts/bench/me.lua "$base"

rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
echo "server peak RSS: $((rss_kb / 1024)) MB"
