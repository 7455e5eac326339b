#!/usr/bin/env bash
# Crash run: DAEMONS `pengingat run` daemons share one PostgreSQL database
# holding REMINDERS due SMS reminders; every KILL_EVERY seconds one of them
# (in turn) is killed with SIGKILL and started again at once, until nothing is
# pending or sending any more. What reached the gateway is counted by the
# mock-sms-gateway binary itself (GET /messages): extra copies in all and per
# kill, reminders never sent (lost), and the drain time next to the same run
# without kills on a fresh database. Writes a short Markdown report.
#
#   benches/dispatch-crash.sh                       # 100,000 reminders, a kill every 5 s
#   REMINDERS=5000 KILL_EVERY=2 benches/dispatch-crash.sh
#
# Settings (environment):
#   REMINDERS     due reminders                          (100000)
#   KILL_EVERY    seconds between kills                  (5)
#   DAEMONS       daemons on the database                (3)
#   LATENCY_MS    the mock gateway's answer time         (100)
#   RATE          each daemon's gateway rate limit/s     (100000)
#   DELIVERY      extra lines for [delivery]             ("")
#   MAX_SECS      give up on a run after this long       (1800)
#   BIN           where pengingat and mock-sms-gateway are (target/release; built unless SKIP_BUILD=1)
#   REPORT        the report file                        (target/dispatch-crash.md)
#   PENGINGAT_BENCH_DATABASE_URL  an admin URL that may CREATE DATABASE
#                                 (postgres://postgres:postgres@127.0.0.1:5432/postgres)
#
# The daemons run on the system clock, so a killed daemon's leases run out
# in real time. Quiet hours are set to one minute (03:00-03:01 WIB) so the
# run does not depend on the hour it is started at.
set -euo pipefail

REMINDERS=${REMINDERS:-100000}
KILL_EVERY=${KILL_EVERY:-5}
DAEMONS=${DAEMONS:-3}
LATENCY_MS=${LATENCY_MS:-100}
RATE=${RATE:-100000}
DELIVERY=${DELIVERY:-}
MAX_SECS=${MAX_SECS:-1800}
BIN=${BIN:-target/release}
REPORT=${REPORT:-target/dispatch-crash.md}
ADMIN_URL=${PENGINGAT_BENCH_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}

cd "$(dirname "$0")/.."
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --bin pengingat --bin mock-sms-gateway
fi
BIN=$(cd "$BIN" && pwd)
WORK=$(mktemp -d)
DAEMON_PIDS=() # the daemons of the current run, by index
DATABASES=() # every database it created

cleanup() {
    # Only this shell's own background jobs still running (a pid of one
    # that ended may belong to another process by now).
    for pid in $(jobs -p); do kill -TERM "$pid" 2>/dev/null || true; done
    for db in "${DATABASES[@]}"; do
        psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- the mock gateway ------------------------------------------------------
"$BIN/mock-sms-gateway" --listen 127.0.0.1:0 --no-receipts --seed 1 \
    --latency-ms "$LATENCY_MS" --max-recorded 10000000 >"$WORK/mock.out" 2>"$WORK/mock.err" &
for _ in $(seq 100); do grep -q '^listening on ' "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
MOCK="http://$(sed -n 's/^listening on //p' "$WORK/mock.out")"
PASSWORD_FILE="$WORK/kannel.password"
echo kannel >"$PASSWORD_FILE"

cat >"$WORK/schedules.toml" <<'EOF'
[scan]
cron = ["0 0 0 1 1 *"]
time_zone = "Asia/Jakarta"

[quiet_hours]
start = "03:00"
end = "03:01"

# Funded by the budget only: the scan creates nothing for the self-paying
# participants below; their reminders are written straight into the table.
[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"
funding = ["budget"]

[template.t]
text = "Yth. {name}, iuran BPJS Ketenagakerjaan {month} sebesar {amount} jatuh tempo hari ini {due_date}."
EOF

# --- one database with REMINDERS due reminders ------------------------------
db_url() { echo "${ADMIN_URL%/*}/$1"; }

prepare_db() { # name
    local name=$1 url
    url=$(db_url "$name")
    psql -q "$ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
    DATABASES+=("$name")
    write_config "$name" >"$WORK/$name.toml"
    "$BIN/pengingat" --config "$WORK/$name.toml" migrate >/dev/null
    psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<EOF
INSERT INTO kelurahan VALUES ('18.72.01.1001', 'Metro', 'Metro Pusat', 'Kota Metro', 'Lampung', 'Asia/Jakarta');
WITH now AS (SELECT extract(epoch FROM now())::bigint AS s,
                    (extract(year FROM now()) * 12 + extract(month FROM now()) - 1)::int AS month)
INSERT INTO participants (nik, name, phone, kelurahan_code, segment, funding, monthly_amount,
                          start_month, paid_through, preferred_channel, created_at, updated_at)
SELECT '187201' || lpad(i::text, 10, '0'), 'Peserta ' || i, '+62813' || lpad(i::text, 8, '0'),
       '18.72.01.1001', 'bpu', 'self', 16800, now.month - 12, now.month - 1, 'sms', now.s, now.s
FROM generate_series(1, $REMINDERS) AS i, now;
EOF
    # A first scan records the rules' fingerprints, so the daemons' own scans
    # leave the reminders below as they are (no re-plan of an "edited" rule).
    "$BIN/pengingat" --config "$WORK/$name.toml" scan --once >/dev/null
    psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<EOF
WITH now AS (SELECT extract(epoch FROM now())::bigint AS s,
                    (extract(year FROM now()) * 12 + extract(month FROM now()) - 1)::int AS month,
                    (now() AT TIME ZONE 'Asia/Jakarta')::date - DATE '1970-01-01' AS day)
INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel,
                       status, occurrence_date, send_date, planned_at, expires_at, created_at, updated_at)
SELECT p.id, p.kelurahan_code, now.month, 'h0', 0, 'sms', 'pending', now.day, now.day,
       now.s - 60, now.s + 86400, now.s, now.s
FROM participants p, now;
ANALYZE;
EOF
}

write_config() { # name
    cat <<EOF
[database]
url = "$(db_url "$1")"
[http]
bind = "127.0.0.1:0"
[log]
format = "json"
[schedules]
path = "$WORK/schedules.toml"
[[sms.gateway]]
name = "mock"
preset = "kannel"
base_url = "$MOCK"
username = "kannel"
password_file = "$PASSWORD_FILE"
rate_limit_per_second = $RATE
priority = 1
[delivery]
public_url = "http://127.0.0.1:9"
$DELIVERY
EOF
}

start_daemon() { # name index
    "$BIN/pengingat" --config "$WORK/$1.toml" run >>"$WORK/$1-daemon-$2.log" 2>&1 &
    DAEMON_PIDS[$2]=$!
    }

open_reminders() { # name
    psql -qtA "$(db_url "$1")" -c "SELECT count(*) FROM reminders WHERE status IN ('pending', 'sending')"
}

mock_count() { curl -s "$MOCK/messages/count" | sed 's/[^0-9]//g'; }

# --- one run: drain with or without kills -----------------------------------
# Sets SECS, KILLS, TOTAL, DISTINCT, MOST, LOST, STATUSES.
run() { # name kill(0|1)
    local name=$1 kill=$2 started last_kill i=0 n
    prepare_db "$name"
    curl -s -X DELETE "$MOCK/messages" >/dev/null
    DAEMON_PIDS=()
    for ((n = 0; n < DAEMONS; n++)); do start_daemon "$name" "$n"; done
    started=$(date +%s.%N)
    last_kill=$started
    KILLS=0
    while true; do
        sleep 0.2
        [[ $(open_reminders "$name") == 0 ]] && break
        local now
        now=$(date +%s.%N)
        if (($(echo "$now - $started > $MAX_SECS" | bc))); then
            echo "giving up on $name after $MAX_SECS s" >&2
            break
        fi
        if [[ $kill == 1 ]] && (($(echo "$now - $last_kill >= $KILL_EVERY" | bc))); then
            kill -KILL "${DAEMON_PIDS[$i]}"
            wait "${DAEMON_PIDS[$i]}" 2>/dev/null || true
            start_daemon "$name" "$i"
            KILLS=$((KILLS + 1))
            i=$(((i + 1) % DAEMONS))
            last_kill=$now
        fi
    done
    SECS=$(echo "$(date +%s.%N) - $started" | bc)
    for pid in "${DAEMON_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${DAEMON_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    curl -s "$MOCK/messages" >"$WORK/$name-messages.json"
    read -r TOTAL DISTINCT MOST LOST < <(python3 - "$WORK/$name-messages.json" "$REMINDERS" <<'EOF'
import collections, json, sys
messages = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
copies = collections.Counter("+" + m["to"].lstrip("+") for m in messages)
expected = {"+62813%08d" % i for i in range(1, n + 1)}
lost = len(expected - set(copies))
print(sum(copies.values()), len(copies), max(copies.values(), default=0), lost)
EOF
    )
    STATUSES=$(psql -qtA "$(db_url "$name")" -c \
        "SELECT string_agg(status || ' ' || c, ', ' ORDER BY status) FROM (SELECT status, count(*) c FROM reminders GROUP BY status) s")
}

echo "crash run: $REMINDERS reminders, $DAEMONS daemons, mock latency $LATENCY_MS ms, a SIGKILL every $KILL_EVERY s"
run "pengingat_crash_free_$$" 0
FREE_SECS=$SECS FREE_TOTAL=$TOTAL FREE_LOST=$LOST FREE_STATUSES=$STATUSES
echo "without kills: $FREE_SECS s, $FREE_TOTAL messages, $FREE_LOST lost ($FREE_STATUSES)"
run "pengingat_crash_kill_$$" 1
EXTRA=$((TOTAL - DISTINCT))
echo "with kills:    $SECS s, $KILLS kills, $TOTAL messages, $EXTRA extra, $LOST lost ($STATUSES)"

mkdir -p "$(dirname "$REPORT")"
PER_KILL=$(if ((KILLS > 0)); then echo "scale=1; $EXTRA / $KILLS" | bc; else echo -; fi)
cat >"$REPORT" <<EOF
# Crash run

$REMINDERS due SMS reminders, $DAEMONS daemons on one PostgreSQL database, Kannel preset to
mock-sms-gateway answering in $LATENCY_MS ms, one daemon killed with SIGKILL every $KILL_EVERY s
and started again. Extra \`[delivery]\` settings: ${DELIVERY:-none}. Run on $(date -u +%Y-%m-%dT%H:%MZ).

| run | drain (s) | kills | messages at the gateway | extra copies | extra per kill | most copies of one | lost | final statuses |
|---|---|---|---|---|---|---|---|---|
| without kills | $(printf %.1f "$FREE_SECS") | 0 | $FREE_TOTAL | $((FREE_TOTAL - REMINDERS + FREE_LOST)) | - | - | $FREE_LOST | $FREE_STATUSES |
| with kills | $(printf %.1f "$SECS") | $KILLS | $TOTAL | $EXTRA | $PER_KILL | $MOST | $LOST | $STATUSES |

Drain time with kills / without: $(echo "scale=2; $SECS / $FREE_SECS" | bc)x.
EOF
cat "$REPORT"
