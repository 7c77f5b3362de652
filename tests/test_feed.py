"""The change feed: every approval exactly once, in seq order, scoped by token, long-polled."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from service.after_commit import call_after_commit
from service.db import db
from service.models import Comment, Site, Status, utcnow
from service.tokens import create_token, revoke_token
from service.transitions import change_status
from tests.conftest import store_without_queueing

ARTICLE = "/2023/12/india-russia-talks"


def store(app, site: Site, n: int = 1, **overrides) -> list[int]:
    return [store_without_queueing(app, site, body=f"remark number {i} {random.random()}",
                                   **overrides) for i in range(n)]


def decide(app, comment_id: int, to: Status) -> None:
    """A moderator's decision, through the one function that changes statuses."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        change_status(comment, to, actor="moderator:test", action=to.value)
        db.session.commit()
        db.session.remove()


@pytest.fixture()
def token(app, site) -> str:
    with app.app_context():
        return create_token("service", ["news"], "consumer")[1]


def feed(client, token: str, etag: str | None = None, **params):
    query = {"site": "news"} | params
    headers = {"Authorization": f"Bearer {token}"} | ({"If-None-Match": etag} if etag else {})
    return client.get("/api/v1/changes", query_string=query, headers=headers)


class Consumer:
    """A service that stores next_since and polls, as DESIGN.md says consumers do."""

    def __init__(self, client, token: str, limit: int = 100) -> None:
        self.client, self.token, self.limit = client, token, limit
        self.since, self.events = 0, []

    def poll(self) -> list[dict]:
        answer = feed(self.client, self.token, since=self.since, limit=self.limit)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        self.events += body["events"]
        self.since = body["next_since"]
        return body["events"]


def test_approvals_out_of_creation_order_are_each_seen_once(app, site, client, token):
    first, second, third, fourth = store(app, site, 4)
    consumer = Consumer(client, token)
    assert consumer.poll() == [] and consumer.since == 0

    decide(app, third, Status.APPROVED)
    assert [(e["type"], e["comment"]["id"]) for e in consumer.poll()] == [
        ("comment.approved", third)]

    decide(app, first, Status.APPROVED)
    decide(app, second, Status.REJECTED)
    decide(app, fourth, Status.APPROVED)
    assert [e["comment"]["id"] for e in consumer.poll()] == [first, fourth]
    assert consumer.poll() == []

    seqs = [e["seq"] for e in consumer.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert second not in {e["comment"]["id"] for e in consumer.events}
    assert consumer.since == seqs[-1]


def test_event_carries_public_shape_and_article_never_the_email(app, site, client, token):
    (comment_id,) = store(app, site)
    decide(app, comment_id, Status.APPROVED)
    (event,) = feed(client, token).get_json()["events"]
    assert set(event) == {"seq", "type", "comment"}
    assert set(event["comment"]) == {"id", "parent_id", "author", "body_html", "created_at",
                                     "article"}
    assert event["comment"]["article"] == ARTICLE
    assert "asha@example.org" not in str(event) and "203.0.113.9" not in str(event)


def test_comment_approved_days_after_it_was_written_follows_the_cursor(app, site, client,
                                                                       token):
    old, new = store(app, site, 2)
    with app.app_context():
        written = utcnow() - timedelta(days=3)
        db.session.execute(update(Comment).where(Comment.id == old).values(created_at=written))
        db.session.commit()
    consumer = Consumer(client, token)
    decide(app, new, Status.APPROVED)
    assert [e["comment"]["id"] for e in consumer.poll()] == [new]

    decide(app, old, Status.APPROVED)
    (late,) = consumer.poll()
    assert late["comment"]["id"] == old and late["type"] == "comment.approved"
    assert late["comment"]["created_at"] == written.isoformat(timespec="seconds") + "Z"


def test_removal_is_an_event(app, site, client, token):
    (comment_id,) = store(app, site)
    consumer = Consumer(client, token)
    decide(app, comment_id, Status.APPROVED)
    decide(app, comment_id, Status.REMOVED)
    events = consumer.poll()
    assert [(e["type"], e["comment"]["id"]) for e in events] == [
        ("comment.approved", comment_id), ("comment.removed", comment_id)]
    assert events[0]["seq"] < events[1]["seq"]


def test_paging_by_limit_never_skips(app, site, client, token):
    ids = store(app, site, 5)
    for comment_id in ids:
        decide(app, comment_id, Status.APPROVED)
    consumer = Consumer(client, token, limit=2)
    pages = [consumer.poll() for _ in range(4)]
    assert [len(page) for page in pages] == [2, 2, 1, 0]
    assert [e["comment"]["id"] for e in consumer.events] == ids


def test_concurrent_approvals_reach_a_polling_consumer_exactly_once(app, site, client, token):
    ids = store(app, site, 30)
    decided = ids[:]
    random.Random(7).shuffle(decided)
    approved = set(decided[:24])

    def moderator() -> None:
        for comment_id in decided:
            decide(app, comment_id, Status.APPROVED if comment_id in approved
                   else Status.SPAM)

    thread = threading.Thread(target=moderator)
    thread.start()
    consumer = Consumer(client, token, limit=7)
    while thread.is_alive():
        consumer.poll()
    thread.join()
    while consumer.poll():
        pass
    seen = [e["comment"]["id"] for e in consumer.events]
    assert sorted(seen) == sorted(approved)
    assert seen == [c for c in decided if c in approved]


def test_other_sites_events_are_not_shown(app, site, client, token):
    from service.sites import create_site

    with app.app_context():
        other = create_site("blog", "Blog", [])
    (mine,) = store(app, site)
    (theirs,) = store(app, other)
    decide(app, theirs, Status.APPROVED)
    decide(app, mine, Status.APPROVED)
    assert [e["comment"]["id"] for e in feed(client, token).get_json()["events"]] == [mine]


def test_tokens_are_required_and_scoped_to_the_site(app, site, client, token):
    from service.sites import create_site

    with app.app_context():
        create_site("blog", "Blog", [])
        blog_token = create_token("service", ["blog"])[1]
        moderator = create_token("moderator", ["news"])[1]
        revoked_row, revoked = create_token("service", ["news"])
        revoke_token(revoked_row.id)

    assert client.get("/api/v1/changes?site=news").status_code == 401
    assert client.get("/api/v1/changes?site=news").get_json()["error"] == "unauthorized"
    assert feed(client, revoked).status_code == 401
    refused = feed(client, blog_token)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert feed(client, moderator).status_code == 200
    assert feed(client, token).status_code == 200


@pytest.mark.parametrize("params, field", [
    ({"site": ""}, "site"),
    ({"since": "-1"}, "since"),
    ({"since": "soon"}, "since"),
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"wait": "31"}, "wait"),
    ({"wait": "-1"}, "wait"),
])
def test_bad_arguments_are_422(client, site, token, params, field):
    answer = feed(client, token, **params)
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "invalid" and field in answer.get_json()["fields"]


def test_unchanged_cursor_gives_304_until_something_changes(app, site, client, token):
    (comment_id,) = store(app, site)
    first = feed(client, token, since=0)
    assert first.status_code == 200 and first.headers["ETag"]
    etag = first.headers["ETag"]
    again = feed(client, token, etag, since=0)
    assert again.status_code == 304 and again.headers["ETag"] == etag

    decide(app, comment_id, Status.APPROVED)
    changed = feed(client, token, etag, since=0)
    assert changed.status_code == 200
    assert [e["comment"]["id"] for e in changed.get_json()["events"]] == [comment_id]
    assert changed.headers["ETag"] != etag


def approve_later(app, comment_id: int, delay: float = 0.5) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        decide(app, comment_id, Status.APPROVED)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_long_poll_returns_the_approval_made_while_waiting(app, site, client, token):
    (comment_id,) = store(app, site)
    thread = approve_later(app, comment_id)
    answer = feed(client, token, since=0, wait=30)
    thread.join()
    assert answer.status_code == 200
    assert [e["comment"]["id"] for e in answer.get_json()["events"]] == [comment_id]


def test_long_poll_without_redis_falls_back_to_polling_the_database(app, app_factory, site,
                                                                   token):
    no_redis = app_factory(redis="redis://127.0.0.1:9/0")
    (comment_id,) = store(app, site)
    thread = approve_later(app, comment_id)
    answer = no_redis.test_client().get(
        "/api/v1/changes", query_string={"site": "news", "since": 0, "wait": 30},
        headers={"Authorization": f"Bearer {token}"})
    thread.join()
    assert [e["comment"]["id"] for e in answer.get_json()["events"]] == [comment_id]


def test_long_poll_that_sees_nothing_keeps_the_cursor(app, site, client, token):
    (comment_id,) = store(app, site)
    decide(app, comment_id, Status.APPROVED)
    since = feed(client, token).get_json()["next_since"]
    answer = feed(client, token, since=since, wait=1)
    assert answer.status_code == 200
    assert answer.get_json() == {"events": [], "next_since": since}


def test_after_commit_callbacks_follow_the_transaction(app, site):
    ran: list[str] = []
    with app.app_context():
        call_after_commit(ran.append, "rolled back")
        db.session.rollback()
        call_after_commit(ran.append, "committed")
        assert ran == []
        db.session.commit()
        assert ran == ["committed"]

        call_after_commit(ran.append, "outer")
        with db.session.begin_nested():
            call_after_commit(ran.append, "released savepoint")
        savepoint = db.session.begin_nested()
        call_after_commit(ran.append, "rolled-back savepoint")
        savepoint.rollback()
        assert ran == ["committed"]
        db.session.commit()
        assert ran == ["committed", "outer", "released savepoint"]
