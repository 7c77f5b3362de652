"""Soak: half of a given capacity for a long while, on real processes; errors and memory growth.

    .venv/bin/python bench/soak.py --capacity 40 --duration 600   # 20 req/s for 10 minutes

Prints request counts by status, errors, comments left undecided, and the resident memory
(RSS) of the web (gunicorn master + workers) and of the Celery worker at start and end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.faults import Tally, drill_stack, payload, settle  # noqa: E402
from bench.stack import Stack, request  # noqa: E402


def group_rss_mb(leader_pid: int) -> float:
    """Resident memory of every process in the leader's process group, from /proc (Linux)."""
    total_kb = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != leader_pid:  # field 5 of stat: the process group id
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def memory(stack: Stack) -> dict[str, float]:
    return {name: round(group_rss_mb(stack.processes[name].pid), 1) for name in ("web", "worker")}


def soak(stack: Stack, rate: float, duration: float, reads_per_submit: int = 3,
         threads: int = 4) -> tuple[Counter, Tally]:
    """Send `rate` requests per second for `duration` seconds: submissions and listings."""
    answers: Counter = Counter()
    tally = Tally()
    lock = threading.Lock()
    end = time.monotonic() + duration
    period = threads / rate

    def run(offset: int) -> None:
        n, next_at = offset, time.monotonic() + offset * period / threads
        while next_at < end:
            time.sleep(max(0.0, next_at - time.monotonic()))
            try:
                if n % (reads_per_submit + 1) == 0:
                    status, body, _ = request(stack, "POST", "/api/v1/comments",
                                              payload(n, "soak"))
                    if status == 202 and body:
                        with lock:
                            tally.accepted.append(body["id"])
                else:
                    status, _, _ = request(stack, "GET",
                                           "/api/v1/comments?site=news&article=/faults/soak")
            except OSError:
                status = 599
            with lock:
                answers[status] += 1
            n += threads
            next_at += period

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return answers, tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=float, default=40,
                        help="requests per second the stack sustains (the soak runs at half)")
    parser.add_argument("--duration", type=float, default=600, help="seconds (default 10 min)")
    parser.add_argument("--reads-per-submit", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    rate = args.capacity / 2
    with tempfile.TemporaryDirectory(prefix="vetted-soak-") as directory, \
            drill_stack(Path(directory), args.database_url,
                        RATELIMIT_ENABLED=False) as stack:
        stack.start_web(args.web_workers)
        stack.start_worker(concurrency=2)
        stack.start_beat()
        start = memory(stack)
        print(f"soak: {rate:g} req/s for {args.duration:g} s "
              f"({args.reads_per_submit} listings per submission)", flush=True)
        outcome: list[tuple[Counter, Tally]] = []
        load = threading.Thread(target=lambda: outcome.append(
            soak(stack, rate, args.duration, args.reads_per_submit)))
        load.start()
        # Sample every tenth of the run: growth counts from the 10% mark, after warm-up
        # (models loaded, pools and caches filled), as bench/worker_memory.py does.
        samples = []
        while load.is_alive():
            load.join(args.duration / 10)
            samples.append(memory(stack))
            print(f"soak: rss {samples[-1]}", flush=True)
        answers, tally = outcome[0]
        end = memory(stack)
        warm = samples[0] if samples else start
        settle(stack, tally, timeout=max(60, args.duration / 4))
    errors = sum(n for status, n in answers.items() if status >= 400)
    print(f"requests={sum(answers.values())} answers={dict(sorted(answers.items()))} "
          f"errors={errors}")
    print(f"accepted={len(tally.accepted)} decided={tally.decided} lost={tally.lost} "
          f"duplicate_decisions={tally.duplicate_decisions}")
    for name in ("web", "worker"):
        growth = (end[name] - warm[name]) / warm[name] * 100 if warm[name] else 0.0
        print(f"rss_{name}_mb start={start[name]} at_10%={warm[name]} end={end[name]} "
              f"growth_after_warm_up={growth:.1f}%")
    return 1 if errors or tally.lost else 0


if __name__ == "__main__":
    sys.exit(main())
