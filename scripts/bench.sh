#!/usr/bin/env bash
# Load test of release servers against the fake WeChat, with wrk as the load generator.
#
# For logins, refreshes, and GET /api/me under HS256, under EdDSA, and under HS256 without the
# session revocation check (a build made for this comparison only), prints requests per second,
# p50 and p99 latency, failures, and the CPU time each request cost the server and Postgres (read
# from /proc before and after each run; steadier than throughput on a shared machine). Then each
# server's peak RSS.
#
# The figures are only worth publishing from a Postgres that makes commits durable, as production
# does: the run stops when fsync or synchronous_commit is off. `just bench` starts such a cluster
# (scripts/with-db.js --durable) unless DATABASE_URL names one. The report says what it ran on.
# Everything shares this machine (wrk, the servers, the fake, Postgres), so compare figures from
# one run side by side rather than across runs.
#
# Needs DATABASE_URL, wrk (Debian/Ubuntu: `apt-get install wrk`; macOS: `brew install wrk`) and
# curl. Uses a database of its own, dropped first. BENCH_BIN_DIR=<dir> runs the wxlogin-server,
# wxlogin-server-unchecked and fake-wechat found there instead of building.
#
# BENCH_BASELINE=<wxlogin-server binary> compares an earlier build with this one in the same run:
# the baseline gets a database of its own (it migrates its own schema) and its rows, marked
# "before", alternate with this build's, so that both meet the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
# The servers log as in production by default (info: one line per request, JSON since their
# output is a file), so that the figures include what logging costs. BENCH_RUST_LOG=warn leaves
# it out.
BENCH_RUST_LOG="${BENCH_RUST_LOG:-info}"
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

# What the figures are measured on. Settings are read from the server, not assumed.
facts="$(node scripts/bench/postgres.js facts)"
fact() { sed -n "s/^$1=//p" <<< "$facts"; }
if [ "$(fact fsync)" != on ] || [ "$(fact synchronous_commit)" != on ]; then
  echo "bench: this Postgres runs with fsync=$(fact fsync) synchronous_commit=$(fact synchronous_commit)," >&2
  echo "  which no production database does, so its figures would mislead. Unset DATABASE_URL to" >&2
  echo "  let \`just bench\` start a durable embedded cluster, or point it at one with both on." >&2
  exit 1
fi
postmaster="$(fact postmaster)"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

database_url() { # name
  node -e 'const u = new URL(process.env.DATABASE_URL); u.pathname = "/" + process.argv[1]; console.log(u.href)' "$1"
}
bench_db_url="$(database_url wxlogin_bench)"
node scripts/bench/postgres.js recreate wxlogin_bench

bin="${BENCH_BIN_DIR:-}"
if [ -z "$bin" ]; then
  bin="$work"
  # The baseline build first, then the real one, so target/release holds the real one afterwards.
  # Both select the same packages, so that dependencies get the same features and compile once.
  echo "bench: building release servers (the first release build takes about 7 minutes on 2 cores)"
  SQLX_OFFLINE=true cargo build --release -p wxlogin-server -p fake-wechat \
    --features wxlogin-server/bench-skip-session-check
  cp target/release/wxlogin-server "$bin/wxlogin-server-unchecked"
  SQLX_OFFLINE=true cargo build --release -p wxlogin-server -p fake-wechat
  cp target/release/wxlogin-server target/release/fake-wechat "$bin/"
fi

FAKE_WECHAT_DEV=1 FAKE_WECHAT_ADDR="127.0.0.1:$PORT_BASE" \
  FAKE_WECHAT_APPID="$APPID" FAKE_WECHAT_SECRET="$SECRET" "$bin/fake-wechat" > /dev/null &
pids+=($!)

node -e 'process.stdout.write(require("crypto").generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }))' \
  > "$work/ed25519.pem"

declare -A server_pid
start_server() { # name, port, binary, extra env...
  local name="$1" port="$2" binary="$3"; shift 3
  env DATABASE_URL="$bench_db_url" LISTEN_ADDR="127.0.0.1:$port" METRICS_ADDR=127.0.0.1:0 \
    WECHAT_APPID="$APPID" WECHAT_SECRET="$SECRET" WECHAT_API_BASE="http://127.0.0.1:$PORT_BASE" \
    JWT_SECRET=bench-only-signing-key-0123456789abcdef RUST_LOG="$BENCH_RUST_LOG" \
    SESSION_KEY_SECRET=bench-only-sealing-key-0123456789abcdef \
    RATE_LIMIT_LOGIN=off RATE_LIMIT_REFRESH=off SESSION_REFRESHES_PER_MINUTE=1000000 "$@" \
    "$binary" > /dev/null 2> "$work/$name.log" &
  server_pid[$name]=$!
  pids+=($!)
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && return
    sleep 0.1
  done
  echo "bench: the $name server did not become ready" >&2
  exit 1
}
start_server hs256 $((PORT_BASE + 1)) "$bin/wxlogin-server"
start_server eddsa $((PORT_BASE + 2)) "$bin/wxlogin-server" \
  JWT_ALG=EdDSA JWT_PRIVATE_KEY="@$work/ed25519.pem"
start_server unchecked $((PORT_BASE + 3)) "$bin/wxlogin-server-unchecked"
baseline="${BENCH_BASELINE:-}"
if [ -n "$baseline" ]; then
  node scripts/bench/postgres.js recreate wxlogin_bench_baseline
  start_server before $((PORT_BASE + 4)) "$baseline" DATABASE_URL="$(database_url wxlogin_bench_baseline)"
fi

# CPU time in clock ticks (user + system, all threads) from /proc/<pid>/stat; fields counted from
# the one after the command name, which may hold spaces.
stat_fields() { local stat; stat="$(< "/proc/$1/stat")" && echo "${stat##*) }"; }
process_ticks() {
  local f
  read -ra f <<< "$(stat_fields "$1")"
  echo $((f[11] + f[12]))
}
# The whole cluster: the postmaster, the children it has reaped (cutime, cstime), and every child
# alive now (backends, WAL writer, checkpointer).
postgres_ticks() {
  [ "$postmaster" = - ] && { echo 0; return; }
  local f total pid
  read -ra f <<< "$(stat_fields "$postmaster")"
  total=$((f[11] + f[12] + f[13] + f[14]))
  for pid in /proc/[0-9]*; do
    read -ra f <<< "$(stat_fields "${pid#/proc/}" 2> /dev/null)" || continue
    [ "${f[1]:-}" = "$postmaster" ] && total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
TICKS_PER_SECOND="$(getconf CLK_TCK)"
per_request_us() { # ticks, requests
  awk -v t="$1" -v n="$2" -v hz="$TICKS_PER_SECOND" 'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}

run() { # name of the server, label, wrk args...
  local server="${server_pid[$1]}" label="$2"; shift 2
  local server_before postgres_before line requests rps p50 p99 failed
  server_before="$(process_ticks "$server")"
  postgres_before="$(postgres_ticks)"
  line="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" | grep '^RESULT')"
  local server_used=$(($(process_ticks "$server") - server_before))
  local postgres_used=$(($(postgres_ticks) - postgres_before))
  read -r requests rps p50 p99 failed <<< "$(sed -E 's/[a-z0-9_]+=//g; s/^RESULT //' <<< "$line")"
  local postgres_us='-'
  [ "$postmaster" != - ] && postgres_us="$(per_request_us "$postgres_used" "$requests")"
  printf '%-36s %8s %8s %8s %7s %11s %11s\n' "$label" "$rps" "$p50" "$p99" "$failed" \
    "$(per_request_us "$server_used" "$requests")" "$postgres_us"
}

login_field() { # port, code, field
  curl -fsS -X POST -H 'content-type: application/json' -d "{\"code\":\"$2\"}" \
    "http://127.0.0.1:$1/api/auth/login" |
    node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s)[process.argv[1]]))' "$3"
}

cpu="$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1)"
echo
echo "wxlogin bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs (${cpu:-unknown model}), load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Postgres $(fact version): fsync=$(fact fsync), synchronous_commit=$(fact synchronous_commit), full_page_writes=$(fact full_page_writes)"
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run, on the same machine"
echo "servers: RUST_LOG=$BENCH_RUST_LOG, log lines to a file"
[ "$postmaster" = - ] && echo "(Postgres is not a process of this machine: no Postgres CPU time)"
echo "CPU columns: user + system time per request, from /proc"
echo
printf '%-36s %8s %8s %8s %7s %11s %11s\n' "" "req/s" "p50 ms" "p99 ms" failed "server µs" "Postgres µs"
hs256="http://127.0.0.1:$((PORT_BASE + 1))"
before="http://127.0.0.1:$((PORT_BASE + 4))"
# With a baseline, each figure is measured for both builds, the baseline first, twice in turn.
rounds="hs256"
[ -n "$baseline" ] && rounds="before hs256 before hs256"
url_of() { case "$1" in before) echo "$before" ;; *) echo "$hs256" ;; esac; }
port_of() { case "$1" in before) echo $((PORT_BASE + 4)) ;; *) echo $((PORT_BASE + 1)) ;; esac; }
label_of() { case "$1" in before) echo "before: $2" ;; *) echo "$2" ;; esac; }

for name in $rounds; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s scripts/bench/login.lua "$(url_of "$name")" > /dev/null # warm-up
  run "$name" "$(label_of "$name" "POST /api/auth/login (HS256)")" -s scripts/bench/login.lua "$(url_of "$name")"
done

for name in $rounds; do
  for i in $(seq $((CONNECTIONS * 2))); do
    login_field "$(port_of "$name")" "refresher$i:$RANDOM$RANDOM" refresh_token
  done > "$work/refresh-tokens"
  TOKENS_FILE="$work/refresh-tokens" THREADS="$THREADS" \
    run "$name" "$(label_of "$name" "POST /api/auth/refresh (HS256)")" -s scripts/bench/refresh.lua "$(url_of "$name")"
done

# /api/me: the three servers in turn, twice, so that a drift of the machine during the run shows
# up as a difference between rounds rather than between servers.
me_rounds="unchecked hs256 eddsa"
[ -n "$baseline" ] && me_rounds="before $me_rounds"
for name in $me_rounds $me_rounds; do
  case "$name" in
    before) port=$((PORT_BASE + 4)) label="before: GET /api/me (HS256)" ;;
    unchecked) port=$((PORT_BASE + 3)) label="GET /api/me (HS256, no revocation)" ;;
    hs256) port=$((PORT_BASE + 1)) label="GET /api/me (HS256)" ;;
    eddsa) port=$((PORT_BASE + 2)) label="GET /api/me (EdDSA)" ;;
  esac
  TOKEN="$(login_field "$port" "me-$name:$RANDOM$RANDOM" access_token)" \
    run "$name" "$label" -s scripts/bench/me.lua "http://127.0.0.1:$port"
done

echo
for name in ${baseline:+before} hs256 eddsa unchecked; do
  rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/${server_pid[$name]}/status")"
  printf 'peak RSS of the %-9s server: %d MB\n' "$name" $((rss_kb / 1024))
done
# The servers' own warnings and errors, counted rather than interleaved with the table (wrk
# cutting connections at the end of a run leaves a few); the per-request lines are left out.
for name in ${baseline:+before} hs256 eddsa unchecked; do
  grep -qE 'WARN|ERROR' "$work/$name.log" 2> /dev/null || continue
  echo "warnings and errors of the $name server, by message:"
  grep -E 'WARN|ERROR' "$work/$name.log" | sed -E 's/^[^ ]+ +//; s/"timestamp":"[^"]*",//' |
    sort | uniq -c | sort -rn | head -5
done
