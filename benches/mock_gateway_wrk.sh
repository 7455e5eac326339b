#!/usr/bin/env bash
# Measures the ceiling of the mock SMS gateway with wrk on loopback.
#
#   cargo build --release -p mock-sms-gateway
#   apt-get install -y wrk
#   benches/mock_gateway_wrk.sh            # all four scenarios
#
# The gateway under test listens on 127.0.0.1:18080; a second instance on
# 127.0.0.1:18081 (receipts off) is the receipt target (/sink). For each
# scenario it prints wrk's report, the CPU the gateway under test used
# (user+system seconds per wall second, from /proc) and its /stats.
# Environment: BIN, DURATION (10s), CONNECTIONS (64), THREADS (1).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/mock-sms-gateway}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
SUT=127.0.0.1:18080
SINK=127.0.0.1:18081
TEXT='BPJAMSOSTEK%3A+Yth.+SITI+AMINAH%2C+iuran+JKK%2BJKM+Rp16.800+bln+Juli+2025+jatuh+tempo+15%2F07%2F2025.'
DLR_URL='http%3A%2F%2F127.0.0.1%3A18081%2Fsink%3Fid%3Dr1%26st%3D%25d%26ts%3D%25T'
KANNEL="http://$SUT/cgi-bin/sendsms?username=kannel&password=kannel&from=PENGINGAT&to=%2B6281234567890&text=$TEXT&dlr-mask=19&dlr-url=$DLR_URL"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

wait_up() {
  for _ in $(seq 100); do
    curl -sf "http://$1/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "gateway at $1 did not start" >&2
  return 1
}

"$BIN" --listen "$SINK" --no-receipts >/dev/null &
SINK_PID=$!
trap 'kill -TERM $SINK_PID 2>/dev/null || true' EXIT
wait_up "$SINK"

# scenario NAME RECEIPT_FLAGS WRK_ARGS...
scenario() {
  local name=$1 flags=$2
  shift 2
  # shellcheck disable=SC2086
  "$BIN" --listen "$SUT" $flags >/dev/null &
  local pid=$!
  wait_up "$SUT"
  local ticks_before wall_before
  ticks_before=$(cpu_ticks $pid)
  wall_before=$(date +%s.%N)
  echo "=== $name ($flags) ==="
  local report
  report=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  echo "$report"
  local ticks_after wall_after requests
  ticks_after=$(cpu_ticks $pid)
  wall_after=$(date +%s.%N)
  requests=$(echo "$report" | awk '/requests in/ { print $1 }')
  awk -v t="$((ticks_after - ticks_before))" -v hz="$(getconf CLK_TCK)" -v w0="$wall_before" -v w1="$wall_after" \
    -v n="$requests" 'BEGIN {
      cpu = t / hz
      printf "gateway CPU: %.2f cores (%.1f s over %.1f s); %.0f requests per gateway CPU-second\n",
        cpu / (w1 - w0), cpu, w1 - w0, n / cpu
    }'
  # Let receipts due after the run go out before reading the counters.
  sleep 2
  echo "gateway stats: $(curl -s "http://$SUT/stats")"
  echo "sink stats:    $(curl -s "http://$SINK/stats")"
  kill -TERM $pid
  wait $pid
  echo
}

scenario "Kannel, receipts off" "--no-receipts" "$KANNEL"
scenario "Kannel, receipts on" "--receipt-delay-ms 1000" "$KANNEL"
scenario "Infobip, receipts off" "--no-receipts" -s benches/mock_gateway_infobip.lua "http://$SUT/sms/3/messages"
scenario "Infobip, receipts on" "--receipt-delay-ms 1000" -s benches/mock_gateway_infobip.lua "http://$SUT/sms/3/messages"
