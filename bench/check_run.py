"""Checks figure: `vetted check --jsonl FILE` comments/s pinned to one core."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from bench.processes import ROOT

TOPICS = ["the budget", "the rail line", "the school plan", "the election", "the library"]
SAMPLES = [
    "Thanks, the part about {t} was new to me ({n}).",
    "I disagree on {t}; the figures in paragraph {n} do not add up.",
    "BUY CHEAP WATCHES http://spam.example/{n} best price on {t}!!!",
    "Great read. Could you follow up on {t}? Comment {n}.",
]


def available(vetted: Path) -> bool:
    try:
        done = subprocess.run([str(vetted), "check", "--help"], cwd=ROOT, capture_output=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def write_input(path: Path, count: int) -> Path:
    with path.open("w") as out:
        for n in range(count):
            body = SAMPLES[n % len(SAMPLES)].format(t=TOPICS[n % len(TOPICS)], n=n)
            out.write(json.dumps({"body": body, "name": f"Reader {n}",
                                  "email": f"reader-{n}@example.org",
                                  "article": "/bench/check"}) + "\n")
    return path


def _timed_run(vetted: Path, path: Path, env: dict[str, str]) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run(["taskset", "-c", "0", str(vetted), "check", "--jsonl", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
                          check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        # The exception line first: the table shows only the first line of the error.
        errors = [line for line in done.stderr.splitlines() if line.strip()] or ["no output"]
        raise RuntimeError(f"vetted check exited {done.returncode}: {errors[-1].strip()}\n"
                           + "\n".join(errors[-20:]))
    return seconds, sum(1 for line in done.stdout.splitlines() if line.strip())


def run_checks(vetted: Path, work: Path, count: int, env: dict[str, str]) -> dict[str, object]:
    """Time N lines and 1 line; the difference is the per-comment cost without start-up."""
    # One core: BLAS threads would otherwise spread over both.
    env = {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    one_s, _ = _timed_run(vetted, write_input(work / "check-1.jsonl", 1), env)
    all_s, lines = _timed_run(vetted, write_input(work / "check-n.jsonl", count), env)
    spent = all_s - one_s
    return {
        "comments": count,
        "output_lines": lines,
        "seconds": round(all_s, 3),
        "startup_seconds": round(one_s, 3),
        # Start-up noise can swallow a small run: then there is no honest figure.
        "comments_per_s": round((count - 1) / spent, 1) if spent > 0.5 else None,
        "comments_per_s_with_startup": round(count / all_s, 1),
        "core": 0,
    }
