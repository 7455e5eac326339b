#!/usr/bin/env bash
# pengingat's dispatcher side by side with pg-boss doing the same loop (claim
# due messages from PostgreSQL -> POST each to the SMS gateway -> record the
# outcome), against the same mock-sms-gateway endpoint (the generic webhook,
# POST /webhook/send) and the same PostgreSQL.
#
#   benches/dispatch-vs-pgboss.sh                    # 100,000 messages, 3 rounds
#   MESSAGES=10000 ROUNDS=1 benches/dispatch-vs-pgboss.sh
#
# Each round runs `cargo bench --bench dispatch` in its one-line mode on
# PostgreSQL (shipped [delivery] defaults) and pg-boss 10.4.2
# (benches/pgboss/bench.mjs, --batch 5000, its best setting), alternating
# which goes first, then pengingat on SQLite.
# For every run it records the load average, msg/s, PostgreSQL CPU per
# message during the processing phase (benches/pg_cpu_sampler.py), peak RSS
# and the gateway's CPU per message; it measures the gateway's own ceiling
# with wrk first (skipped when wrk is missing) and writes the medians and the
# ratio to a Markdown report under target/bench-dispatch-vs-pgboss/.
#
# Environment: MESSAGES (100000), ROUNDS (3), PGBOSS_BATCH (5000), PORT
# (18090), PENGINGAT_BENCH_DATABASE_URL (the PostgreSQL superuser URL, default
# postgres://postgres:postgres@127.0.0.1:5432/postgres), WRK (1; 0 skips
# the ceiling), plus PENGINGAT_BENCH_BATCH / PENGINGAT_BENCH_CONCURRENCY to
# try other pengingat settings. Needs cargo, Node >= 20.18.1 with npm,
# python3, curl; wrk optional.
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${MESSAGES:-100000}
ROUNDS=${ROUNDS:-3}
PGBOSS_BATCH=${PGBOSS_BATCH:-5000}
PORT=${PORT:-18090}
WRK=${WRK:-1}
ADMIN_URL=${PENGINGAT_BENCH_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
GATEWAY="http://127.0.0.1:${PORT}"
OUT="$PWD/target/bench-dispatch-vs-pgboss"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUNS="$OUT/runs-$STAMP.jsonl"
LOG="$OUT/log-$STAMP.txt"
REPORT="$OUT/report-$STAMP.md"
PGBOSS_DB="${ADMIN_URL%/*}/bench_pgboss"
mkdir -p "$OUT"

say() { echo "$*" | tee -a "$LOG" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.3f", (f[12] + f[13]) / hz }' "/proc/$1/stat"; }

# --- build everything first, so no run pays for compiling
say "# $STAMP: $MESSAGES messages, $ROUNDS round(s), pg-boss batch $PGBOSS_BATCH, $(nproc) cores, load $(loadavg)"
cargo build --release -p mock-sms-gateway >>"$LOG" 2>&1
cargo bench --bench dispatch --no-run >>"$LOG" 2>&1
mkdir -p "$OUT/pgboss"
cp benches/pgboss/bench.mjs benches/pgboss/package.json benches/pgboss/package-lock.json "$OUT/pgboss/"
if [ ! -d "$OUT/pgboss/node_modules/pg-boss" ] || ! cmp -s benches/pgboss/package-lock.json "$OUT/pgboss/node_modules/.package-lock.json.copy"; then
  (cd "$OUT/pgboss" && npm ci --no-audit --no-fund) >>"$LOG" 2>&1
  cp benches/pgboss/package-lock.json "$OUT/pgboss/node_modules/.package-lock.json.copy"
fi

# --- the gateway: receipts off, keeps few messages (counts them all)
if curl -s -o /dev/null --max-time 1 "$GATEWAY/health"; then
  say "something already answers on $GATEWAY; set PORT"
  exit 1
fi
"${CARGO_TARGET_DIR:-target}/release/mock-sms-gateway" --listen "127.0.0.1:$PORT" --no-receipts --max-recorded 1000 >>"$LOG" 2>&1 &
MOCK_PID=$!
SAMPLER_PID=
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  kill "$MOCK_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "$GATEWAY/health" && break; sleep 0.1; done
curl -sf -o /dev/null "$GATEWAY/health" || { say "mock-sms-gateway did not start"; exit 1; }

CEILING=null
if [ "$WRK" = 1 ] && command -v wrk >/dev/null; then
  WRK_OUT=$(wrk -t1 -c64 -d10s -s benches/pgboss/wrk-post.lua "$GATEWAY/webhook/send")
  echo "$WRK_OUT" >>"$LOG"
  CEILING=$(echo "$WRK_OUT" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  say "# gateway ceiling (wrk -t1 -c64 -d10s, POST /webhook/send): $CEILING req/s"
else
  say "# wrk not run: the gateway's ceiling is not measured"
fi

# Runs one system with the PostgreSQL sampler around it; appends its JSON
# lines, each completed with the load, PostgreSQL CPU and gateway figures.
run() {
  local system=$1 round=$2 samples load mock0 mock1 out count backend
  samples=$(mktemp)
  load=$(loadavg)
  curl -sf -X DELETE "$GATEWAY/messages" >/dev/null
  python3 benches/pg_cpu_sampler.py 'pengingat_bench_|bench_pgboss' 0.2 >"$samples" &
  SAMPLER_PID=$!
  mock0=$(cpu_seconds "$MOCK_PID")
  if [ "$system" = pgboss ]; then
    out=$(cd "$OUT/pgboss" && node bench.mjs --jobs "$MESSAGES" --batch "$PGBOSS_BATCH" \
      --gateway "$GATEWAY/webhook/send" --db "$PGBOSS_DB" 2>>"$LOG" | grep '^{')
  else
    if [ "$system" = sqlite ]; then backend=sqlite; else backend=postgres; fi
    out=$(PENGINGAT_BENCH_GATEWAY="$GATEWAY/webhook/send" PENGINGAT_BENCH_GATEWAY_PID="$MOCK_PID" \
      PENGINGAT_BENCH_MESSAGES="$MESSAGES" PENGINGAT_BENCH_DATABASE_URL="$ADMIN_URL" \
      PENGINGAT_BENCH_BACKENDS="$backend" cargo bench --bench dispatch 2>>"$LOG" | grep '^{')
  fi
  mock1=$(cpu_seconds "$MOCK_PID")
  kill "$SAMPLER_PID"; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=
  count=$(curl -sf "$GATEWAY/messages/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
  echo "$out" | python3 benches/dispatch_vs_pgboss_row.py "$samples" "$round" "$load" "$mock0" "$mock1" "$count" >>"$RUNS"
  rm -f "$samples"
  tail -n "$(echo "$out" | wc -l)" "$RUNS" | tee -a "$LOG" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="pengingat pgboss"; else order="pgboss pengingat"; fi
  for system in $order sqlite; do
    say "# round $round: $system (load $(loadavg))"
    run "$system" "$round"
  done
done

python3 benches/dispatch_vs_pgboss_row.py --report "$RUNS" "$MESSAGES" "$ROUNDS" "$PGBOSS_BATCH" "$CEILING" >"$REPORT"
say "# report: $REPORT"
cat "$REPORT"
