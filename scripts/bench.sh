#!/usr/bin/env bash
# Load test of release servers against the fake WeChat, with wrk as the load generator.
#
# Prints requests per second, p50 and p99 latency and failures for: logins, refreshes, and
# GET /api/me under HS256, under EdDSA, and under HS256 without the session revocation check
# (a build made for this comparison only), then each server's peak RSS. Everything shares this
# machine (wrk, the servers, the fake, Postgres), so compare figures from one run side by side
# rather than across runs.
#
# Needs DATABASE_URL (the justfile's bench recipe provides one), wrk (Debian/Ubuntu:
# `apt-get install wrk`; macOS: `brew install wrk`) and curl. Uses a database of its own,
# dropped first.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
PORT_BASE="${BENCH_PORT_BASE:-18080}"
APPID=wxbenchappid00000
SECRET=bench-secret

if ! command -v wrk > /dev/null; then
  if command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq wrk > /dev/null
  else
    echo "bench: wrk is needed (apt-get install wrk, or brew install wrk)" >&2
    exit 1
  fi
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bench_db_url="$(node -e 'const u = new URL(process.env.DATABASE_URL); u.pathname = "/wxlogin_bench"; console.log(u.href)')"
DATABASE_URL="$bench_db_url" cargo sqlx database drop -y > /dev/null
DATABASE_URL="$bench_db_url" cargo sqlx database create

# The baseline build first, then the real one, so target/release holds the real one afterwards.
SQLX_OFFLINE=true cargo build --release -q -p wxlogin-server --features bench-skip-session-check
cp target/release/wxlogin-server "$work/wxlogin-server-unchecked"
SQLX_OFFLINE=true cargo build --release -q -p wxlogin-server -p fake-wechat

FAKE_WECHAT_DEV=1 FAKE_WECHAT_ADDR="127.0.0.1:$PORT_BASE" \
  FAKE_WECHAT_APPID="$APPID" FAKE_WECHAT_SECRET="$SECRET" target/release/fake-wechat > /dev/null &
pids+=($!)

node -e 'process.stdout.write(require("crypto").generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }))' \
  > "$work/ed25519.pem"

declare -A server_pid
start_server() { # name, port, binary, extra env...
  local name="$1" port="$2" binary="$3"; shift 3
  env DATABASE_URL="$bench_db_url" LISTEN_ADDR="127.0.0.1:$port" \
    WECHAT_APPID="$APPID" WECHAT_SECRET="$SECRET" WECHAT_API_BASE="http://127.0.0.1:$PORT_BASE" \
    JWT_SECRET=bench-only-signing-key-0123456789abcdef RUST_LOG=warn "$@" \
    "$binary" > /dev/null &
  server_pid[$name]=$!
  pids+=($!)
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && return
    sleep 0.1
  done
  echo "bench: the $name server did not become ready" >&2
  exit 1
}
start_server hs256 $((PORT_BASE + 1)) target/release/wxlogin-server
start_server eddsa $((PORT_BASE + 2)) target/release/wxlogin-server \
  JWT_ALG=EdDSA JWT_PRIVATE_KEY="@$work/ed25519.pem" SESSION_KEY_SECRET=bench-only-sealing-key-0123456789abcdef
start_server unchecked $((PORT_BASE + 3)) "$work/wxlogin-server-unchecked"

run() { # label, wrk args...
  local label="$1"; shift
  local line
  line="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" | grep '^RESULT')"
  printf '%-34s %s\n' "$label" "${line#RESULT }"
}

login_field() { # port, code, field
  curl -fsS -X POST -H 'content-type: application/json' -d "{\"code\":\"$2\"}" \
    "http://127.0.0.1:$1/api/auth/login" |
    node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s)[process.argv[1]]))' "$3"
}

echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run"
hs256="http://127.0.0.1:$((PORT_BASE + 1))"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s scripts/bench/login.lua "$hs256" > /dev/null # warm-up
run "POST /api/auth/login (HS256)" -s scripts/bench/login.lua "$hs256"

for i in $(seq $((CONNECTIONS * 2))); do
  login_field $((PORT_BASE + 1)) "refresher$i:$RANDOM$RANDOM" refresh_token
done > "$work/refresh-tokens"
TOKENS_FILE="$work/refresh-tokens" THREADS="$THREADS" \
  run "POST /api/auth/refresh (HS256)" -s scripts/bench/refresh.lua "$hs256"

# /api/me: the three servers in turn, twice, so that a drift of the machine during the run shows
# up as a difference between rounds rather than between servers.
for name in unchecked hs256 eddsa unchecked hs256 eddsa; do
  case "$name" in
    unchecked) port=$((PORT_BASE + 3)) label="GET /api/me (HS256, no revocation)" ;;
    hs256) port=$((PORT_BASE + 1)) label="GET /api/me (HS256)" ;;
    eddsa) port=$((PORT_BASE + 2)) label="GET /api/me (EdDSA)" ;;
  esac
  TOKEN="$(login_field "$port" "me-$name:$RANDOM$RANDOM" access_token)" \
    run "$label" -s scripts/bench/me.lua "http://127.0.0.1:$port"
done

for name in hs256 eddsa unchecked; do
  rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/${server_pid[$name]}/status")"
  printf 'peak RSS of the %-9s server: %d MB\n' "$name" $((rss_kb / 1024))
done
