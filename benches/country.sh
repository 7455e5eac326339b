#!/usr/bin/env bash
# A country, not a city: PARTICIPANTS (10,000,000) BPU participants seeded over every kelurahan/desa
# of Indonesia (83,762, in WIB, WITA and WIT) into a fresh PostgreSQL database, then, each timed
# with its peak RSS: the seed, the first scan at the instant H-7 falls for everyone current, a
# repeat scan at the same instant (nothing to create), `report`, the daemon's own first scan and the
# next one (with the first's memory, asked for by a reload), and the daemon's dashboard (the
# country, a province, a search: the first request, and three more once the page answers, since a
# slow page is kept) with the daemon's RSS; last, the database's size per table.
#
#   benches/country.sh LIST.csv                       # 10,000,000 participants
#   PARTICIPANTS=1000000 benches/country.sh LIST.csv  # a smaller run
#
# LIST.csv is the Kemendagri kelurahan/desa list of all Indonesia, in the format of
# `pengingat import kelurahan` (kode,nama,kecamatan,kabupaten_kota,provinsi); the binary carries
# only Kota Metro and Lampung.
#
# Needs a release build (`cargo build --release`; PENGINGAT_BIN names another binary), psql, curl,
# GNU time (/usr/bin/time, Debian package `time`), and PostgreSQL at PENGINGAT_BENCH_DATABASE_URL
# (default postgres://postgres:postgres@127.0.0.1:5432/postgres). Writes target/country.md.
set -euo pipefail
cd "$(dirname "$0")/.."

kelurahan_csv=${1:?usage: benches/country.sh LIST.csv (the Kemendagri list of all Indonesia)}
kelurahan_csv=$(realpath "$kelurahan_csv")
participants=${PARTICIPANTS:-10000000}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
bin=${PENGINGAT_BIN:-$target_dir/release/pengingat}
admin_url=${PENGINGAT_BENCH_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
db_name=bench_country
db_url=${admin_url%/*}/$db_name
port=${PORT:-18181}
out=$target_dir/country.md
mkdir -p "$target_dir"
work=$(mktemp -d)
daemon_pid=
cleanup() {
    [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null || true
    rm -rf "$work"
    [[ ${KEEP:-0} == 1 ]] || psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[[ -x $bin ]] || { echo "build first: cargo build --release" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }

# The same instants as the scan benchmark: seeded on 1 July, H-7 of July's due date on the 8th.
seeded_at=2026-07-01T03:00:00Z
scan_at=2026-07-08T02:05:00Z

psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name" >/dev/null
cat >"$work/pengingat.toml" <<EOF
[database]
url = "$db_url"
[http]
bind = "127.0.0.1:$port"
[schedules]
path = "$work/absent-schedules.toml"
EOF

rows=()
# timed LABEL ARGS...: runs pengingat, records wall seconds and peak RSS (MiB).
timed() {
    local label=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" --config "$work/pengingat.toml" "$@" >"$work/out" 2>"$work/err" ||
        { cat "$work/err" >&2; exit 1; }
    read -r secs kib <"$work/time"
    rows+=("| $label | $secs | $((kib / 1024)) |")
    echo "$label: $secs s, $((kib / 1024)) MiB" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
timed "import kelurahan (the national list)" import kelurahan "$kelurahan_csv"
timed "seed, $participants participants over Indonesia" --clock "$seeded_at" seed --region all \
    --participants "$participants"
timed "first scan" --clock "$scan_at" scan --once
created=$(sed -n 's/^scan: \([0-9]*\) created.*/\1/p' "$work/out")
timed "repeat scan (nothing to create)" --clock "$scan_at" scan --once
timed "report (all of Indonesia)" --clock "$scan_at" report
timed "report --group-by provinsi" --clock "$scan_at" report --group-by provinsi

# The daemon with its dashboard; no gateway, so nothing is sent.
"$bin" --config "$work/pengingat.toml" --clock "$scan_at" run >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 1
done
# The daemon's Nth "scan finished" line, waited for (up to 30 minutes), as its milliseconds.
scan_millis() {
    local line
    for _ in $(seq 1 1800); do
        line=$(sed 's/\x1b\[[0-9;]*m//g' "$work/daemon.log" | grep 'scan finished' | sed -n "${1}p")
        if [[ -n $line ]]; then
            grep -o 'millis[^0-9]*[0-9]*' <<<"$line" | grep -o '[0-9]*$'
            return
        fi
        sleep 1
    done
    echo "no scan number $1 finished in the daemon's log" >&2
    exit 1
}
# Its first scan probes everyone; a reload asks for another, which has the first's memory.
start_ms=$(scan_millis 1)
rows+=("| daemon: its first scan (nothing to create) | $(awk "BEGIN {print $start_ms / 1000}") | |")
kill -HUP "$daemon_pid"
repeat_ms=$(scan_millis 2)
rows+=("| daemon: the next scan, with the first's memory | $(awk "BEGIN {print $repeat_ms / 1000}") | |")
echo "daemon scans: first $start_ms ms, next $repeat_ms ms" >&2
page() { # LABEL PATH: the first request, then (once it answers 200) the median of three more
    local code secs times=() codes=()
    read -r code secs < <(curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$port$2")
    rows+=("| dashboard $1, first request (HTTP $code) | $secs | |")
    echo "dashboard $1, first request: HTTP $code, $secs s" >&2
    # A page slower than the request timeout goes on computing and is kept: wait for it.
    for _ in $(seq 1 300); do
        [[ $code == 200 ]] && break
        sleep 2
        read -r code secs < <(curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$port$2")
    done
    for _ in 1 2 3; do
        read -r code secs < <(curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$port$2")
        times+=("$secs")
        codes+=("$code")
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
    rows+=("| dashboard $1, next requests (HTTP ${codes[*]}; ${times[*]} s) | $median | |")
    echo "dashboard $1, next requests: HTTP ${codes[*]}; ${times[*]} s" >&2
}
page "GET / (the country)" /
page "GET /wilayah/18 (Lampung)" /wilayah/18
page "GET /cari?q=metro" "/cari?q=metro"
rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$daemon_pid/status")
rows+=("| daemon peak RSS after start, its scan and those requests | | $rss |")
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
grep -E '"level":"(WARN|ERROR)"|WARN|ERROR' "$work/daemon.log" | tail -5 >&2 || true

db_size=$(psql -At "$db_url" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
tables=$(psql -At -F ' | ' "$db_url" -c "SELECT relname, pg_size_pretty(pg_total_relation_size(oid))
    FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace
    ORDER BY pg_total_relation_size(oid) DESC LIMIT 6")
{
    echo "# A country on PostgreSQL: $participants BPU participants over Indonesia"
    echo
    echo "Load average (1/5/15 min) at the start: $load_before. The first scan created $created reminders."
    echo
    echo "| step | seconds | peak RSS (MiB) |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Database size: $db_size. Largest tables (with indexes):"
    echo
    echo "| table | size |"
    echo "|---|---|"
    while IFS= read -r line; do printf '| %s |\n' "$line"; done <<<"$tables"
} >"$out"
cat "$out"
