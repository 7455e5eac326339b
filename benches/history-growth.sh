#!/usr/bin/env bash
# How fast the history grows: runs `pengingat demo` (the Kota Metro population, 4,082 BPU
# participants, every reminder sent through the bundled mock gateway) for DAYS days, counts the
# rows each history table gained, and measures their size on disk on SQLite (the demo's own
# database, by the dbstat table) and on PostgreSQL (the same rows copied into a database made by
# `pengingat migrate`, after VACUUM ANALYZE, tables with their indexes). Prints rows and bytes per
# participant per year.
#
#   benches/history-growth.sh [DAYS]        (default 92)
#
# Needs: a release build (`cargo build --release`; PENGINGAT_BIN names another binary: sizes do not
# depend on the build), sqlite3 with dbstat, psql, and PostgreSQL at PENGINGAT_TEST_DATABASE_URL (default postgres://postgres:postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

days=${1:-92}
bin=${PENGINGAT_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/pengingat}
admin_url=${PENGINGAT_TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
db_name=bench_history_growth
pg_url=${admin_url%/*}/$db_name
trap 'rm -rf "$work"; psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name" >/dev/null 2>&1 || true' EXIT

[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }

echo "# demo, $days days" >&2
(cd "$work" && "$bin" demo --days "$days" --no-serve --bind 127.0.0.1:0 >demo.out 2>demo.err)
sqlite_db=$work/demo/pengingat.db
participants=$(sqlite3 "$sqlite_db" "SELECT COUNT(*) FROM participants WHERE segment = 'bpu'")

psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name" -c "CREATE DATABASE $db_name" >/dev/null
printf '[database]\nurl = "%s"\n' "$pg_url" >"$work/pg.toml"
"$bin" --config "$work/pg.toml" migrate >/dev/null

# The tables in the order their foreign keys need, with the columns PostgreSQL has.
tables=(kelurahan participants reminders payments reminder_events receipts)
for t in "${tables[@]}"; do
    cols=$(psql -At "$pg_url" -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position)
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$t'")
    sqlite3 -csv "$sqlite_db" "SELECT $cols FROM $t" >"$work/$t.csv"
    psql -q "$pg_url" -c "\\copy $t ($cols) FROM '$work/$t.csv' WITH (FORMAT csv)"
done
psql -q "$pg_url" -c "VACUUM ANALYZE" >/dev/null

months=$(python3 -c "print($days / (365.25 / 12))")
printf '%s participants, %s days (%.2f months)\n\n' "$participants" "$days" "$months"
printf '| table | rows | rows per participant per year | SQLite bytes per participant per year | PostgreSQL bytes per participant per year |\n|---|---|---|---|---|\n'
for t in reminders reminder_events receipts payments; do
    rows=$(sqlite3 "$sqlite_db" "SELECT COUNT(*) FROM $t")
    sqlite_bytes=$(sqlite3 "$sqlite_db" "SELECT SUM(pgsize) FROM dbstat WHERE name = '$t' OR name IN
        (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '$t')")
    pg_bytes=$(psql -At "$pg_url" -c "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
        WHERE c.relkind = 'r' AND (c.relname = '$t' OR c.oid IN
            (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass('$t')))")
    python3 - "$t" "$rows" "$sqlite_bytes" "$pg_bytes" "$participants" "$months" <<'EOF'
import sys
t, rows, s, p, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3] or 0), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
per_year = lambda v: v / n / m * 12
print(f"| {t} | {rows:,} | {per_year(rows):.1f} | {per_year(s):,.0f} | {per_year(p):,.0f} |")
EOF
done
