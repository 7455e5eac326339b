#!/usr/bin/env python3
"""Rows and report of benches/dispatch-vs-pgboss.sh.

Row mode: reads the JSON lines one run printed (pengingat's dispatch bench or
pg-boss's bench.mjs) on stdin and prints one normalised JSON row each:

    dispatch_vs_pgboss_row.py SAMPLES ROUND "LOAD1 LOAD5 LOAD15" MOCK_CPU0 MOCK_CPU1 GATEWAY_COUNT

SAMPLES is pg_cpu_sampler.py's output; PostgreSQL's CPU is interpolated at
the run's own processing-phase bounds.

Report mode: medians per system, the ratio, every run, as Markdown:

    dispatch_vs_pgboss_row.py --report RUNS.jsonl MESSAGES ROUNDS PGBOSS_BATCH CEILING
"""

import json
import statistics
import sys


def cpu_at(samples: list[tuple[float, float]], t: float) -> float:
    """The sampled cumulative CPU at time t, linearly interpolated."""
    if not samples:
        return 0.0
    if t <= samples[0][0]:
        return samples[0][1]
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        if t0 <= t <= t1:
            return c0 if t1 == t0 else c0 + (c1 - c0) * (t - t0) / (t1 - t0)
    return samples[-1][1]


def rows(args: list[str]) -> None:
    samples_file, rnd, load, mock0, mock1, count = args
    samples = []
    with open(samples_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                samples.append((float(parts[0]), float(parts[1])))
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        run = json.loads(line)
        if "jobs" in run:  # pg-boss
            system, backend, n = "pg-boss", "postgres", run["jobs"]
            start, end, seconds = run["process_started_at"], run["process_ended_at"], run["process_s"]
            rss = run["peak_rss_mb"]
        else:
            system, backend, n = "pengingat", run["backend"], run["messages"]
            start, end, seconds = run["started_at"], run["ended_at"], run["seconds"]
            rss = run["peak_rss_mb"]
        pg_cpu = cpu_at(samples, end) - cpu_at(samples, start) if backend == "postgres" else None
        print(json.dumps({
            "system": system,
            "backend": backend,
            "round": int(rnd),
            "load": load,
            "messages": n,
            "seconds": round(seconds, 3),
            "msgs_per_s": round(n / seconds),
            "pg_cpu_us_per_msg": None if pg_cpu is None else round(pg_cpu / n * 1e6, 1),
            "peak_rss_mb": rss,
            "gateway_cpu_us_per_msg": round((float(mock1) - float(mock0)) / n * 1e6, 1),
            "gateway_count": int(count),
        }))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, unit=""):
    if value is None:
        return "—"
    return f"{value:,.0f}{unit}" if abs(value) >= 100 else f"{value:,.1f}{unit}"


def report(args: list[str]) -> None:
    runs_file, messages, rounds, batch, ceiling = args
    with open(runs_file) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    groups = {
        "pengingat, PostgreSQL": [r for r in runs if r["system"] == "pengingat" and r["backend"] == "postgres"],
        f"pg-boss 10.4.2, batch {batch}": [r for r in runs if r["system"] == "pg-boss"],
        "pengingat, SQLite": [r for r in runs if r["system"] == "pengingat" and r["backend"] == "sqlite"],
    }
    out = [
        "# pengingat vs pg-boss: claim → POST → record",
        "",
        f"{int(messages):,} messages per run, {rounds} round(s), the same mock-sms-gateway endpoint "
        "(generic webhook, `POST /webhook/send`, receipts off) and the same PostgreSQL.",
        f"Gateway ceiling (wrk, 1 thread, 64 connections, 10 s): {ceiling if ceiling != 'null' else 'not measured'} req/s.",
        "",
        "## Medians",
        "",
        "| system | runs | msg/s | PostgreSQL CPU per message | peak RSS | gateway CPU per message |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    medians = {}
    for name, group in groups.items():
        m = median([r["msgs_per_s"] for r in group])
        medians[name] = m
        out.append(
            f"| {name} | {len(group)} | {fmt(m)} | {fmt(median([r['pg_cpu_us_per_msg'] for r in group]), ' µs')} "
            f"| {fmt(median([r['peak_rss_mb'] for r in group]), ' MB')} "
            f"| {fmt(median([r['gateway_cpu_us_per_msg'] for r in group]), ' µs')} |"
        )
    ours, theirs = medians["pengingat, PostgreSQL"], medians[f"pg-boss 10.4.2, batch {batch}"]
    ratio = ours / theirs if ours and theirs else None
    out += [
        "",
        f"**Ratio pengingat / pg-boss (PostgreSQL, median msg/s): {ratio:.2f}×**" if ratio else "Ratio: —",
        "",
        "## Every run",
        "",
        "| round | system | backend | load average (1/5/15 min) at start | seconds | msg/s "
        "| PostgreSQL CPU per message | peak RSS MB | gateway CPU per message | gateway count |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        out.append(
            f"| {r['round']} | {r['system']} | {r['backend']} | {r['load']} | {r['seconds']} | {r['msgs_per_s']:,} "
            f"| {fmt(r['pg_cpu_us_per_msg'], ' µs')} | {r['peak_rss_mb']} | {fmt(r['gateway_cpu_us_per_msg'], ' µs')} "
            f"| {r['gateway_count']:,} |"
        )
    out += [
        "",
        "PostgreSQL CPU is the user + system time of the run's own backends and the server's shared "
        "writers (checkpointer, background writer, WAL writer) during the processing phase only, "
        "sampled from /proc every 0.2 s; other clients of the same server add to the shared writers. "
        "Peak RSS is the whole benchmark process (pengingat's includes seeding the participants; "
        "pg-boss's includes building the payloads).",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        report(sys.argv[2:])
    else:
        rows(sys.argv[1:])
