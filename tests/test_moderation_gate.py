"""One drain at a time: a submission queues a task only when no drain runs; none is left behind."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import redis

from service.moderation_gate import KEY, open_gate
from tests.conftest import comment_payload, status_of, store_without_queueing, wait_for_status
from tests.test_batching import stored
from worker import moderation, tasks


@pytest.fixture()
def broker(app):
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    yield client
    client.close()


def queued_ids(broker) -> list[int]:
    """Comment ids of the moderation tasks waiting in the broker, oldest first."""
    messages = [json.loads(raw) for raw in reversed(broker.lrange("vetted", 0, -1))]
    return [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages
            if m["headers"]["task"] == "vetted.moderate_comment"]


def queued_etas(broker) -> list[datetime | None]:
    """When each waiting task may start (None: at once), oldest first."""
    messages = [json.loads(raw) for raw in reversed(broker.lrange("vetted", 0, -1))]
    return [datetime.fromisoformat(eta) if (eta := m["headers"].get("eta")) else None
            for m in messages]


def take_task(broker) -> int | None:
    raw = broker.rpop("vetted")
    return json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] if raw else None


def test_a_submission_queues_a_task_only_when_no_drain_runs(client, site, broker):
    first = client.post("/api/v1/comments", json=comment_payload()).get_json()["id"]
    assert queued_ids(broker) == [first] and broker.pttl(KEY) > 0
    second = client.post("/api/v1/comments", json=comment_payload(
        body="a second remark on tariffs", email="b@example.org"))
    assert second.status_code == 202 and queued_ids(broker) == [first]  # the drain reaches it

    broker.delete(KEY)  # the drain finished
    third = client.post("/api/v1/comments", json=comment_payload(
        body="a third remark on tariffs", email="c@example.org")).get_json()["id"]
    assert queued_ids(broker) == [first, third]


def test_the_drain_takes_a_comment_that_arrived_while_it_held_the_gate(app, site, broker,
                                                                      monkeypatch):
    first = store_without_queueing(app, site)
    assert open_gate(app.config["REDIS_URL"], 10)
    late: list[int] = []
    real_release = moderation.release_gate

    def arrive_then_release(url: str) -> None:
        # Committed while the gate was held, so its submitter queued nothing.
        late.append(store_without_queueing(app, site, body="a late remark on the tariffs",
                                           email="late@example.org"))
        real_release(url)

    monkeypatch.setattr(moderation, "release_gate", arrive_then_release)
    with app.app_context():
        assert moderation.moderate_and_drain(first).status == "approved"
    assert status_of(app, late[0]) == "approved"
    assert broker.exists(KEY) == 0 and queued_ids(broker) == []


def test_a_full_batch_queues_the_next_task_until_the_queue_is_empty(app_factory, site, broker):
    small = app_factory(MODERATION_BATCH_SIZE=3)
    ids = stored(small, site, 7)
    assert open_gate(small.config["REDIS_URL"], 10)
    with small.app_context():
        moderation.moderate_and_drain(ids[0])
    assert [status_of(small, i) for i in ids].count("pending") == 4
    assert len(queued_ids(broker)) == 1 and 0 < broker.pttl(KEY) <= 3000  # held, renewed

    tasks_run = 1
    while (next_id := take_task(broker)) is not None:  # what the worker would do
        with small.app_context():
            moderation.moderate_and_drain(next_id)
        tasks_run += 1
    assert [status_of(small, i) for i in ids].count("pending") == 0
    assert tasks_run == 3 and broker.exists(KEY) == 0


def test_a_new_drain_waits_to_collect_a_batch_a_follow_up_starts_at_once(app_factory, site,
                                                                         broker):
    app = app_factory(MODERATION_COLLECT_SECONDS=0.5, STRANDED_AFTER_SECONDS=0)
    sent = datetime.now(UTC)
    app.test_client().post("/api/v1/comments", json=comment_payload())
    [eta] = queued_etas(broker)
    assert eta is not None and sent + timedelta(seconds=0.4) < eta < sent + timedelta(seconds=2)
    broker.delete("vetted")
    with app.app_context():
        tasks.requeue_stranded()  # queues past the gate, like a drain's follow-up
    assert queued_etas(broker) == [None]


def test_collecting_can_be_turned_off(app_factory, site, broker):
    app = app_factory(MODERATION_COLLECT_SECONDS=0)
    app.test_client().post("/api/v1/comments", json=comment_payload())
    assert queued_etas(broker) == [None]


def test_the_requeue_task_queues_past_a_held_gate(app_factory, site, broker):
    lost = app_factory(STRANDED_AFTER_SECONDS=0)
    comment_id = store_without_queueing(lost, site)
    assert open_gate(lost.config["REDIS_URL"], 10)  # held by a drain that died
    with lost.app_context():
        assert tasks.requeue_stranded() == 1
    assert queued_ids(broker) == [comment_id]


def test_a_burst_is_decided_by_the_real_worker(app, site, client, celery_worker):
    ids = [client.post("/api/v1/comments", json=comment_payload(
        body=f"remark {n} on the rail fares and the budget", email=f"burst{n}@example.org",
    )).get_json()["id"] for n in range(12)]
    # Near-identical remarks may be judged spam; what matters is that none stays pending.
    assert "pending" not in [wait_for_status(app, i) for i in ids]
