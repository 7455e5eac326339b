#!/usr/bin/env bash
# The dispatch and scan benchmarks of an earlier revision and of the working
# tree, side by side in one run: alternating, ROUNDS rounds each, medians.
#
#   benches/before-after.sh REV
#
# REV is checked out into target/before-after/REV (a git worktree) and its
# benchmark binaries built there; the working tree's are built as usual. Each
# round runs `dispatch` then `scan` of the one, then of the other, and
# records the load average, since the machine may be shared.
#
# Environment: ROUNDS (3), MESSAGES (20000, dispatch), PARTICIPANTS (200000,
# scan), BACKENDS (sqlite,postgres). Writes target/before-after.md.
set -euo pipefail

rev=${1:?usage: benches/before-after.sh REV}
rounds=${ROUNDS:-3}
messages=${MESSAGES:-20000}
participants=${PARTICIPANTS:-200000}
backends=${BACKENDS:-sqlite,postgres}
root=$(git rev-parse --show-toplevel)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out="$target_dir/before-after.md"
work="$target_dir/before-after"
before="$work/$(git rev-parse --short "$rev")"
mkdir -p "$work"

if [[ ! -d "$before" ]]; then
    git -C "$root" worktree add --detach "$before" "$rev" >/dev/null
fi

# The path of a bench binary once built (cargo prints it with --no-run).
bench_binary() { # DIR TARGET_DIR NAME
    (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench --no-run --bench "$3" 2>&1) |
        sed -n "s/.*Executable benches\/$3.rs (\(.*\))/\1/p" | tail -1
}

echo "building the benchmarks of $rev and of the working tree" >&2
# The binaries too: the dispatch benchmark starts the mock gateway's binary.
(cd "$before" && CARGO_TARGET_DIR="$work/target" cargo build --release --bins >&2)
(cd "$root" && CARGO_TARGET_DIR="$target_dir" cargo build --release --bins >&2)
declare -A bin
for name in dispatch scan; do
    bin[before-$name]=$(bench_binary "$before" "$work/target" "$name")
    bin[after-$name]=$(bench_binary "$root" "$target_dir" "$name")
done

run() { # SIDE NAME -> the report's table rows
    local dir=$root
    [[ $1 == before ]] && dir=$before
    (cd "$dir" && PENGINGAT_BENCH_MESSAGES=$messages PENGINGAT_BENCH_PARTICIPANTS=$participants \
        PENGINGAT_BENCH_BACKENDS=$backends "${bin[$1-$2]}" --bench 2>/dev/null) | grep '^| [a-z]' | grep -v '^| backend'
}

results="$work/results.tsv"
: >"$results"
for round in $(seq 1 "$rounds"); do
    for side in before after; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        # dispatch rows: | backend | messages | seconds | messages/s | ...
        run "$side" dispatch | awk -F'|' -v s="$side" -v r="$round" -v l="$load" \
            '{gsub(/ /,"",$2); gsub(/ /,"",$5); print s"\tdispatch\t"$2"\t"$5"\t"r"\t"l}' >>"$results"
        # scan rows: | backend | seed | scan (s) | ...
        run "$side" scan | awk -F'|' -v s="$side" -v r="$round" -v l="$load" \
            '{gsub(/ /,"",$2); gsub(/ /,"",$4); print s"\tscan\t"$2"\t"$4"\t"r"\t"l}' >>"$results"
        echo "round $round, $side: load $load" >&2
    done
done

python3 - "$results" "$rev" "$rounds" "$messages" "$participants" >"$out" <<'EOF'
import statistics, sys
path, rev, rounds, messages, participants = sys.argv[1:]
rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
print(f"# Before ({rev}) and after: dispatch and scan\n")
print(f"{rounds} alternating rounds; dispatch {messages} SMS reminders (messages/s, higher is better), "
      f"scan over {participants} participants (seconds, lower is better). Medians.\n")
print("| benchmark | backend | before | after | after / before | runs before | runs after |")
print("|---|---|---|---|---|---|---|")
keys = sorted({(r[1], r[2]) for r in rows})
for bench, backend in keys:
    vals = {side: [float(r[3]) for r in rows if r[0] == side and r[1] == bench and r[2] == backend]
            for side in ("before", "after")}
    if not vals["before"] or not vals["after"]:
        continue
    b, a = statistics.median(vals["before"]), statistics.median(vals["after"])
    fmt = lambda xs: ", ".join(f"{x:g}" for x in xs)
    print(f"| {bench} | {backend} | {b:g} | {a:g} | {a / b:.2f} | {fmt(vals['before'])} | {fmt(vals['after'])} |")
loads = sorted({r[5] for r in rows})
print(f"\nLoad average (1 min) at the start of each run: {', '.join(loads)}.")
EOF
cat "$out"
