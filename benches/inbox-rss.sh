#!/usr/bin/env bash
# Peak RSS of the daemon while its payments inbox takes a large file.
#
# Starts `pengingat run` on a fresh SQLite database with an inbox folder, drops a generated
# payments CSV of SIZE_MB (default 100) into it, waits until the file has been moved to done/ or
# rejected/, and prints the daemon's peak resident set size (VmHWM) before and after, with the
# reason file if it was rejected. LIMIT_MB sets payments.inbox_max_file_mb (default 16, the
# shipped default); BIN the binary (default target/release/pengingat, built if missing).
#
#   benches/inbox-rss.sh                      # 100 MB file, default limit: refused unread
#   SIZE_MB=15 LIMIT_MB=16 benches/inbox-rss.sh   # a file just under the limit, read and checked
set -euo pipefail

SIZE_MB=${SIZE_MB:-100}
LIMIT_MB=${LIMIT_MB:-16}
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/pengingat}
if [[ ! -x $BIN ]]; then
    cargo build --release --bin pengingat
fi

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/inbox"
port=$((20000 + RANDOM % 20000))
cat >"$work/pengingat.toml" <<TOML
[database]
url = "sqlite://$work/pengingat.db"
[schedules]
path = "$PWD/config/schedules.toml"
[http]
bind = "127.0.0.1:$port"
[payments]
inbox_dir = "$work/inbox"
inbox_poll_secs = 1
inbox_max_file_mb = $LIMIT_MB
TOML

# Payments by one unknown participant: every row is checked, none recorded.
python3 - "$work/bayar.csv.part" "$SIZE_MB" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
with open(path, "w") as f:
    f.write("external_ref,nik,amount,paid_at,channel\n")
    n = 0
    while f.tell() < size:
        n += 1
        f.write(f"BENCH-{n:09d},1872011205909999,16800,2025-07-16T03:00:00Z,jmo\n")
PY
bytes=$(stat -c %s "$work/bayar.csv.part")

"$BIN" --config "$work/pengingat.toml" run 2>"$work/daemon.log" &
pid=$!
for _ in $(seq 1 100); do
    curl -fs "127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
hwm() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }
idle=$(hwm)
mv "$work/bayar.csv.part" "$work/inbox/bayar.csv"
start=$(date +%s.%N)
while [[ ! -e $work/inbox/done/bayar.csv && ! -e $work/inbox/rejected/bayar.csv ]]; do
    kill -0 "$pid" 2>/dev/null || { echo "the daemon died:"; tail -5 "$work/daemon.log"; exit 1; }
    sleep 0.2
done
end=$(date +%s.%N)
peak=$(hwm)
echo "file:         $bytes bytes (${SIZE_MB} MiB), limit ${LIMIT_MB} MiB"
if [[ -e $work/inbox/rejected/bayar.csv ]]; then outcome=rejected; else outcome=done; fi
echo "outcome:      $outcome"
echo "reason:       $(head -c 300 "$work/inbox/rejected/bayar.csv.reasons.txt" 2>/dev/null | head -2 | tr '\n' ' ')"
echo "time:         $(echo "$end - $start" | bc) s (including up to 1 s of polling)"
echo "peak RSS:     idle $((idle / 1024)) MiB, after the file $((peak / 1024)) MiB"
