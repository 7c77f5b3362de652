"""Fault drills on real processes: Redis down, a worker SIGKILLed mid-stream, PostgreSQL restarted.

    .venv/bin/python bench/faults.py [--outage 10] [--stream 20] [--skip-postgres]

Prints, per scenario: accepted, decided, lost, duplicate decisions, 5xx (lost and 5xx must be 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import PrivateRedis, Stack, ThrowawayPostgres, postgres_bin, request  # noqa: E402
from service.config import normalise_database_url  # noqa: E402

# Limits stay on (the production path through Flask-Limiter and Redis) but never bite a drill.
# Small batches, so a drain is a chain of tasks and a killed worker is caught holding one.
DRILL_SETTINGS = {"RATELIMIT_ENABLED": True, "RATELIMIT_SUBMIT": "100000 per minute",
                  "RATELIMIT_SUBMIT_PER_SITE": "100000 per minute", "STRANDED_AFTER_SECONDS": 2,
                  "MODERATION_BATCH_SIZE": 4}


@dataclass
class Tally:
    """What the submitters saw and what the database says afterwards."""

    answers: Counter = field(default_factory=Counter)
    accepted: list[int] = field(default_factory=list)
    bad_bodies: int = 0
    decided: int = 0
    lost: int = 0
    duplicate_decisions: int = 0
    duplicate_feed_events: int = 0
    # Scenario facts the tests check: tasks reserved by the killed worker, answers while down.
    held_at_kill: int = 0
    while_down: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.answers.items() if status >= 500 and status != 503)

    def summary(self) -> dict[str, Any]:
        return {"accepted": len(self.accepted), "decided": self.decided, "lost": self.lost,
                "duplicate_decisions": self.duplicate_decisions,
                "duplicate_feed_events": self.duplicate_feed_events,
                "5xx": self.server_errors, "503": self.answers.get(503, 0),
                "non_json_errors": self.bad_bodies, "answers": dict(sorted(self.answers.items()))}


def payload(i: int, tag: str) -> dict[str, Any]:
    return {"site": "news", "article": f"/faults/{tag}", "name": f"Reader {i}",
            "email": f"reader{i}.{tag}@example.org",
            "body": f"Fault drill {tag} remark number {i}: distinct words {i * 7919}."}


def submit(stack: Stack, tally: Tally, i: int, tag: str) -> int:
    status, body, _ = request(stack, "POST", "/api/v1/comments", payload(i, tag))
    tally.answers[status] += 1
    if status == 202 and body:
        tally.accepted.append(body["id"])
    elif status != 202 and not (body and body.get("error") and body.get("message")):
        tally.bad_bodies += 1
    return status


def stream(stack: Stack, tally: Tally, tag: str, stop: threading.Event,
           interval: float = 0.05) -> threading.Thread:
    """A steady trickle of submissions until `stop` is set."""
    def run() -> None:
        i = 0
        while not stop.is_set():
            try:
                submit(stack, tally, i, tag)
            except OSError as error:  # the web itself never went away: count it as a failure
                tally.answers[599] += 1
                tally.notes.append(f"connection error: {error}")
            i += 1
            time.sleep(interval)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def comment_states(database_url: str) -> dict[int, tuple[str, int, int]]:
    """id -> (status, pipeline decisions in the audit, approvals in the feed)."""
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.id, c.status,"
                " (SELECT count(*) FROM audit_events a WHERE a.comment_id = c.id"
                "  AND a.actor = 'check:pipeline'),"
                " (SELECT count(*) FROM change_events e WHERE e.comment_id = c.id"
                "  AND e.type = 'comment.approved')"
                " FROM comments c")).all()
    finally:
        engine.dispose()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def settle(stack: Stack, tally: Tally, timeout: float = 120) -> Tally:
    """Wait until every accepted comment is decided (or the deadline), then count."""
    deadline = time.monotonic() + timeout
    while True:
        states = comment_states(stack.database_url)
        pending = [i for i in tally.accepted if states.get(i, ("missing",))[0] in
                   ("pending", "missing")]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    tally.decided = len(tally.accepted) - len(pending)
    tally.lost = len(pending)
    tally.duplicate_decisions = sum(1 for i in tally.accepted if states.get(i, ("", 0, 0))[1] > 1)
    tally.duplicate_feed_events = sum(1 for i in tally.accepted
                                      if states.get(i, ("", 0, 0))[2] > 1)
    return tally


@contextmanager
def drill_stack(workdir: Path, database_url: str | None = None,
                **settings: Any) -> Iterator[Stack]:
    """A fresh database and Redis with the schema and a `news` site; everything stopped after."""
    private = PrivateRedis(workdir / "redis")
    private.start()
    stack = Stack(workdir, database_url or f"sqlite:///{workdir}/vetted.db", private,
                  {**DRILL_SETTINGS, **settings})
    try:
        stack.prepare()
        yield stack
    finally:
        stack.stop_all()
        private.stop()


def redis_outage(stack: Stack, outage: float = 10, before: float = 3, after: float = 3) -> Tally:
    """Stop Redis in the middle of a steady stream, start it again, then count."""
    tally, stop = Tally(), threading.Event()
    stack.start_web()
    stack.start_worker(concurrency=2)
    stack.start_beat()
    thread = stream(stack, tally, "redis", stop)
    time.sleep(before)
    stack.redis.stop()
    time.sleep(outage)
    stack.redis.start()
    time.sleep(after)
    stop.set()
    thread.join(30)
    return settle(stack, tally)


def decided_count(stack: Stack, ids: list[int]) -> int:
    states = comment_states(stack.database_url)
    return sum(1 for i in ids if states.get(i, ("pending",))[0] != "pending")


def unacked_count(url: str) -> int:
    return int(redis.Redis.from_url(url).hlen("unacked"))


def worker_killed(stack: Stack, comments: int = 60, via: str = "visibility") -> Tally:
    """SIGKILL a worker holding reserved, unacknowledged tasks; a new worker (after the
    visibility timeout) or the re-queue beat task must decide each comment exactly once."""
    tally = Tally()
    stack.start_web()
    for i in range(comments):
        submit(stack, tally, i, f"kill-{via}")
    stack.start_worker("doomed", concurrency=1)
    deadline = time.monotonic() + 90
    # Kill mid-stream: some comments decided, and tasks reserved but not yet acknowledged.
    while time.monotonic() < deadline and not (
        unacked_count(stack.redis.url) and decided_count(stack, tally.accepted)
    ):
        time.sleep(0.02)
    stack.kill("doomed")
    held = tally.held_at_kill = unacked_count(stack.redis.url)
    states = comment_states(stack.database_url)
    pending_at_kill = sum(1 for i in tally.accepted if states[i][0] == "pending")
    if via == "visibility":
        # Reserved messages become visible again once their visibility timeout has passed.
        time.sleep(float(stack.settings.get("VISIBILITY_TIMEOUT_SECONDS", 300)) + 1)
        stack.start_worker("replacement", concurrency=1)
    else:
        stack.start_worker("replacement", concurrency=1)
        stack.start_beat()
    settle(stack, tally)
    tally.notes.append(f"held={held} pending_at_kill={pending_at_kill}")
    return tally


def postgres_restart(stack: Stack, postgres: ThrowawayPostgres) -> Tally:
    """Submissions and listings while PostgreSQL is down get 503 JSON; then all recovers."""
    tally = Tally()
    stack.start_web()
    stack.start_worker()
    listing = "/api/v1/comments?site=news&article=/faults/pg"
    submit(stack, tally, 0, "pg")
    postgres.stop()
    down = tally.while_down
    for i in range(1, 6):
        down[submit(stack, tally, i, "pg")] += 1
        status, body, headers = request(stack, "GET", listing)
        tally.answers[status] += 1
        down[status] += 1
        if status != 200 and not (body and body.get("error")):
            tally.bad_bodies += 1
    tally.notes.append(f"while down: {dict(down)}")
    postgres.start()
    for i in range(6, 11):
        submit(stack, tally, i, "pg")
    status, _, _ = request(stack, "GET", listing)
    tally.answers[status] += 1
    tally.notes.append(f"list after restart: {status}")
    return settle(stack, tally)


def report(name: str, tally: Tally) -> None:
    print(f"{name}: " + " ".join(f"{k}={v}" for k, v in tally.summary().items()))
    for note in tally.notes[:5]:
        print(f"    {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=10, help="seconds Redis stays down")
    parser.add_argument("--around", type=float, default=5,
                        help="seconds of stream before and after the outage")
    parser.add_argument("--kill-comments", type=int, default=60)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep each scenario's logs and database under this directory")
    args = parser.parse_args()

    def outage(d: Path) -> Tally:
        with drill_stack(d) as stack:
            return redis_outage(stack, args.outage, args.around, args.around)

    def kill(via: str, **settings: Any) -> Callable[[Path], Tally]:
        def run(d: Path) -> Tally:
            with drill_stack(d, **settings) as stack:
                return worker_killed(stack, args.kill_comments, via)
        return run

    scenarios: list[tuple[str, Callable[[Path], Tally]]] = [
        ("redis outage", outage),
        ("worker SIGKILL, visibility timeout", kill("visibility", VISIBILITY_TIMEOUT_SECONDS=3)),
        ("worker SIGKILL, re-queue task", kill("requeue")),
    ]
    if not args.skip_postgres and postgres_bin():
        scenarios.append(("postgres restart", run_postgres))
    failed = False
    for number, (name, scenario) in enumerate(scenarios):
        if args.keep:
            directory = args.keep / f"scenario-{number}"
            directory.mkdir(parents=True, exist_ok=True)
            tally = scenario(directory)
        else:
            with tempfile.TemporaryDirectory(prefix="vetted-faults-") as temporary:
                tally = scenario(Path(temporary))
        report(name, tally)
        failed |= bool(tally.lost or tally.server_errors or tally.duplicate_decisions
                       or tally.bad_bodies)
    return 1 if failed else 0


def run_postgres(directory: Path) -> Tally:
    postgres = ThrowawayPostgres()
    postgres.start()
    try:
        with drill_stack(directory, postgres.url) as stack:
            return postgres_restart(stack, postgres)
    finally:
        postgres.destroy()


if __name__ == "__main__":
    sys.exit(main())
