"""A broker outage delays moderation but loses nothing; readiness reports it."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from service.db import db
from service.embedded import free_port, start_redis
from service.models import Comment
from tests.conftest import comment_payload, store_without_queueing, wait_for_status
from worker import tasks

pytestmark = pytest.mark.slow


@pytest.fixture()
def private_redis(tmp_path):
    """Our own redis-server on another port, so stopping it touches nobody else."""
    port = free_port()
    process, url = start_redis(tmp_path, port)
    state = {"process": process}

    def stop() -> None:
        state["process"].terminate()
        state["process"].wait(10)

    def restart() -> None:
        state["process"], _ = start_redis(tmp_path, port)

    yield url, stop, restart
    if state["process"].poll() is None:
        stop()


def test_broker_down_at_submit_then_decided_after_it_returns(app, site, app_factory,
                                                             private_redis):
    url, stop, restart = private_redis
    outage_app = app_factory(url, STRANDED_AFTER_SECONDS=0)
    client = outage_app.test_client()
    stop()

    started = time.monotonic()
    response = client.post("/api/v1/comments", json=comment_payload())
    assert response.status_code == 202
    assert time.monotonic() - started < 5, "a down broker must not stall the submitter"
    comment_id = response.get_json()["id"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "broker" in ready.get_json()["fields"]

    restart()
    assert client.get("/readyz").status_code == 200
    with outage_app.app_context():
        assert db.session.get(Comment, comment_id).status == "pending"
    celery_app = outage_app.extensions["celery"]
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        with outage_app.app_context():
            assert tasks.requeue_stranded() == 1
        assert wait_for_status(outage_app, comment_id) == "approved"


def test_requeue_rescues_a_comment_whose_task_was_lost(app, site, app_factory, celery_worker):
    """A comment stored while its task vanished (killed worker, flushed queue) gets decided."""
    lost_app = app_factory(STRANDED_AFTER_SECONDS=0)
    comment_id = store_without_queueing(lost_app, site)
    time.sleep(0.5)
    assert wait_for_status(app, comment_id, timeout=0.1) == "pending"
    with lost_app.app_context():
        assert tasks.requeue_stranded() == 1
    assert wait_for_status(app, comment_id) == "approved"


def test_a_task_delivered_twice_decides_once(app, site):
    from sqlalchemy import func, select

    from service.models import AuditEvent, ChangeEvent

    comment_id = store_without_queueing(app, site)
    with app.app_context():
        assert tasks.moderate_comment(comment_id) == "approved"
        assert tasks.moderate_comment(comment_id) is None
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        assert db.session.scalar(select(func.count()).select_from(ChangeEvent)) == 1
