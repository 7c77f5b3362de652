"""Faults on real processes (gunicorn, Celery worker and beat, private Redis and PostgreSQL):
no accepted comment is lost, none is decided twice, no answer is a 500."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from bench.faults import (
    Tally,
    drill_stack,
    postgres_restart,
    redis_outage,
    settle,
    submit,
    unacked_count,
    worker_killed,
)
from bench.stack import ThrowawayPostgres, postgres_bin
from service.db import db
from service.models import AuditEvent, ChangeEvent
from tests.conftest import ROOT, store_without_queueing
from worker import tasks


def assert_nothing_lost(tally) -> None:
    assert tally.accepted, tally.summary()
    assert tally.lost == 0, tally.summary()
    assert tally.duplicate_decisions == 0 and tally.duplicate_feed_events == 0, tally.summary()
    assert tally.server_errors == 0 and tally.bad_bodies == 0, tally.summary()


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_redis_outage_mid_stream_loses_nothing(tmp_path):
    with drill_stack(tmp_path) as stack:
        tally = redis_outage(stack, outage=4, before=2, after=2)
    assert_nothing_lost(tally)
    # Stored and queued later, or a clean 503: nothing else.
    assert set(tally.answers) <= {202, 503}, tally.summary()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_worker_survives_redis_going_away_while_it_holds_a_message(tmp_path):
    # A long collect delay: the worker holds the drain's task, unacknowledged, when Redis goes.
    with drill_stack(tmp_path, MODERATION_COLLECT_SECONDS=6) as stack:
        stack.start_web()
        worker = stack.start_worker()
        stack.start_beat()
        tally = Tally()
        submit(stack, tally, 0, "held")
        deadline = time.monotonic() + 60
        while not unacked_count(stack.redis.url) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert unacked_count(stack.redis.url) == 1
        stack.redis.stop()
        time.sleep(2)
        stack.redis.start()
        time.sleep(3)
        assert worker.poll() is None, stack.log_tail("worker")
        tally = settle(stack, tally)
    assert_nothing_lost(tally)


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("via", ["visibility", "requeue"])
def test_worker_killed_mid_stream_decides_each_comment_once(tmp_path, via):
    # "visibility": reserved tasks come back after a short visibility timeout; "requeue": they
    # never do in time (300 s), and the beat task's re-queue of stranded comments is the backstop.
    timeout = 3 if via == "visibility" else 300
    with drill_stack(tmp_path, VISIBILITY_TIMEOUT_SECONDS=timeout) as stack:
        tally = worker_killed(stack, comments=40, via=via)
    assert tally.held_at_kill > 0, tally.notes
    assert_nothing_lost(tally)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_postgres_restart_gives_503_then_recovers_without_restarting_web(tmp_path):
    if postgres_bin() is None:
        pytest.skip("no PostgreSQL server binaries (initdb/pg_ctl) on this machine")
    postgres = ThrowawayPostgres()
    postgres.start()
    try:
        with drill_stack(tmp_path, postgres.url) as stack:
            tally = postgres_restart(stack, postgres)
    finally:
        postgres.destroy()
    assert tally.while_down == {503: 10}, tally.notes
    assert tally.answers[200] == 1, tally.summary()  # the listing after the restart
    assert len(tally.accepted) == 6, tally.summary()  # 1 before, 5 after the restart
    assert_nothing_lost(tally)


def test_two_deliveries_racing_decide_once(app, site):
    """The same task delivered twice at the same moment: exactly one decision."""
    for n in range(5):
        comment_id = store_without_queueing(app, site, body=f"race {n}",
                                            email=f"race{n}@example.org")
        barrier, results = threading.Barrier(2), []

        def deliver(cid: int, barrier: threading.Barrier, results: list) -> None:
            with app.app_context():
                barrier.wait()
                results.append(tasks.moderate_comment(cid))
                db.session.remove()

        threads = [threading.Thread(target=deliver, args=(comment_id, barrier, results))
                   for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(results, key=str) == [None, "approved"], results
        with app.app_context():
            audits = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.comment_id == comment_id))
            feed = db.session.scalar(select(func.count()).select_from(ChangeEvent).where(
                ChangeEvent.comment_id == comment_id))
        assert (audits, feed) == (1, 1)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_soak_smoke():
    result = subprocess.run(
        [sys.executable, "bench/soak.py", "--capacity", "8", "--duration", "4",
         "--web-workers", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "errors=0" in result.stdout and "lost=0" in result.stdout
    assert "rss_web_mb start=" in result.stdout and "rss_worker_mb start=" in result.stdout
