#!/usr/bin/env python3
"""Samples the CPU time PostgreSQL spends for one benchmark, from /proc.

Every INTERVAL seconds it prints `<unix time> <cpu seconds>`: the user +
system CPU used since the sampler started by
- the backends connected to a database whose name matches DB_REGEX
  (`postgres: <user> <database> <client> ...` in their command line), and
  autovacuum workers on such a database;
- the server's shared writers (checkpointer, background writer, WAL writer),
  whose work is the benchmark's writes (other clients of the same server
  add to these too).

A backend's CPU is read while it lives; the last INTERVAL before it exits is
lost, so a caller cuts the series to the measured phase (while connections
are open) and interpolates. Stops on SIGTERM or SIGINT.

    pg_cpu_sampler.py 'pengingat_bench_|bench_pgboss' [interval seconds]
"""

import os
import re
import signal
import sys
import time

SHARED = ("checkpointer", "background writer", "walwriter")
CLUSTER = re.compile(r"^\S+: ")


def main() -> None:
    pattern = re.compile(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    hz = os.sysconf("SC_CLK_TCK")
    baseline: dict[int, int] = {}
    latest: dict[int, int] = {}
    first = True
    running = True

    def stop(_signum, _frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running:
        for pid, ticks in counted(pattern):
            if pid not in baseline:
                # A process alive at the start counts from there; a later one from birth.
                baseline[pid] = ticks if first else 0
            latest[pid] = max(latest.get(pid, 0), ticks)
        first = False
        total = sum(latest[p] - baseline[p] for p in latest)
        print(f"{time.time():.3f} {total / hz:.3f}", flush=True)
        time.sleep(interval)


def counted(pattern: re.Pattern):
    """(pid, user + system ticks) of every PostgreSQL process that counts."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            if not cmdline.startswith("postgres: "):
                continue
            # `postgres: [cluster name: ]<role>`, e.g. `postgres: 15/main: walwriter`.
            role = CLUSTER.sub("", cmdline[len("postgres: "):])
            is_shared = role.startswith(SHARED)
            if not is_shared and not pattern.search(role):
                continue
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # After the command: state is field 0, utime field 11, stime field 12.
        yield int(entry), int(fields[11]) + int(fields[12])


if __name__ == "__main__":
    main()
