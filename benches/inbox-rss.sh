#!/usr/bin/env bash
# Peak RSS of a large participants import (CLI) and of the daemon while its payments inbox takes a
# large payments file that is accepted.
#
# On a fresh SQLite database: loads one kelurahan, imports a generated participants CSV of
# PART_MB (default 100) with `pengingat import participants` and prints that process's peak RSS;
# then starts `pengingat run` with an inbox folder, drops a generated payments CSV of SIZE_MB
# (default 100; two payments per participant, the later month first so rows are not in paid_at
# order) into it, waits until the file is moved to done/ or rejected/, and prints the daemon's
# peak resident set size (VmHWM) before and after. LIMIT_MB sets payments.inbox_max_file_mb
# (default 256, raised from the shipped 16 so the file is read); BIN the binary (default
# target/release/pengingat, built if missing).
#
#   benches/inbox-rss.sh                                  # 100 MB participants, 100 MB payments
#   SIZE_MB=100 LIMIT_MB=16 benches/inbox-rss.sh          # the shipped limit: refused unread
#   MALLOC_ARENA_MAX=2 benches/inbox-rss.sh               # glibc keeps two malloc arenas, not one
#                                                         # per thread
#   BIN=target/debug/pengingat benches/inbox-rss.sh       # the debug build
#
# Memory of an import does not grow with the file: the rows wait in a spill file on disk, and the
# sorts (repeated NIKs and references, payments in paid_at order) keep one run of 16-byte keys in
# memory, the rest on disk. What remains is the daemon's own (connections' page caches, malloc
# arenas) and one chunk of rows.
set -euo pipefail

SIZE_MB=${SIZE_MB:-100}
PART_MB=${PART_MB:-100}
LIMIT_MB=${LIMIT_MB:-256}
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

printf 'kode,nama,kecamatan,kabupaten_kota,provinsi\n18.72.01.1001,Metro,Metro Pusat,Kota Metro,Lampung\n' \
    >"$work/kelurahan.csv"
# Participants numbered n (NIK: region 187201, a valid DDMMYY birth date, a serial), and payments
# for them.
python3 - "$work" "$PART_MB" "$SIZE_MB" <<'PY'
import sys
work, part_mb, pay_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def nik(n):
    k = n // 9999
    return f"187201{k % 28 + 1:02d}{(k // 28) % 12 + 1:02d}{(k // 336) % 100:02d}{n % 9999 + 1:04d}"
n = 0
with open(f"{work}/peserta.csv", "w") as f:
    f.write("nik,name,phone,kelurahan,segment,monthly_amount,paid_through\n")
    while f.tell() < part_mb * 1024 * 1024:
        f.write(f"{nik(n)},Peserta Nomor {n},08123{n:07d},18.72.01.1001,bpu,16800,2025-05\n")
        n += 1
people = n
with open(f"{work}/bayar.csv.part", "w") as f:
    f.write("external_ref,nik,amount,paid_at,channel\n")
    i = 0
    while f.tell() < pay_mb * 1024 * 1024:
        person, second = i % people, (i // people) % 2
        # The later payment comes first in the file (the rows are not in paid_at order).
        day = "2025-07-10" if second == 0 else "2025-06-10"
        f.write(f"BENCH-{i:09d},{nik(person)},16800,{day}T03:00:00Z,jmo\n")
        i += 1
print(f"{people} participants, {i} payments", file=sys.stderr)
PY

peak_of() { # runs "$@", prints its peak RSS in KiB
    python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)' "$@"
}
"$BIN" --config "$work/pengingat.toml" import kelurahan "$work/kelurahan.csv" >/dev/null
start=$(date +%s.%N)
part_peak=$(peak_of "$BIN" --config "$work/pengingat.toml" import participants "$work/peserta.csv")
end=$(date +%s.%N)
echo "participants: $(stat -c %s "$work/peserta.csv") bytes, $(echo "$end - $start" | bc) s, peak RSS $((part_peak / 1024)) MiB"

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
echo "payments:     $bytes bytes (${SIZE_MB} MiB), limit ${LIMIT_MB} MiB"
if [[ -e $work/inbox/rejected/bayar.csv ]]; then outcome=rejected; else outcome=done; fi
echo "outcome:      $outcome"
echo "reason:       $(head -c 300 "$work/inbox/rejected/bayar.csv.reasons.txt" 2>/dev/null | head -2 | tr '\n' ' ')"
echo "recorded:     $(sqlite3 "$work/pengingat.db" 'SELECT COUNT(*) FROM payments' 2>/dev/null || echo '?')"
echo "time:         $(echo "$end - $start" | bc) s (including up to 1 s of polling)"
echo "peak RSS:     idle $((idle / 1024)) MiB, after the file $((peak / 1024)) MiB"
