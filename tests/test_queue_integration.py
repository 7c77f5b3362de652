"""End to end through a real Redis broker and a real Celery worker."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from service.db import db
from service.models import AuditEvent, ChangeEvent, CheckRecord, Comment
from service.sites import update_policy
from tests.conftest import wait_for_status

ARTICLE = "/2023/12/india-russia-talks"


@pytest.fixture()
def worker(celery_worker):
    return celery_worker


def test_clean_comment_is_approved_and_listed(app, site, submit, client, worker):
    comment_id = submit().get_json()["id"]
    assert wait_for_status(app, comment_id) == "approved"
    listing = client.get(f"/api/v1/comments?site=news&article={ARTICLE}").get_json()
    assert [c["id"] for c in listing["comments"]] == [comment_id]
    with app.app_context():
        checks = db.session.scalars(select(CheckRecord).where(
            CheckRecord.comment_id == comment_id)).all()
        assert {c.check for c in checks} >= {"honeypot", "links", "blocklist", "duplicate"}
        assert all(c.verdict == "pass" for c in checks)
        audit = db.session.scalars(select(AuditEvent).where(
            AuditEvent.comment_id == comment_id)).all()
        assert [(a.actor, a.from_status, a.to_status) for a in audit] == [
            ("check:pipeline", "pending", "approved")]
        assert db.session.scalar(select(func.count()).select_from(ChangeEvent)) == 1


def test_link_heavy_comment_goes_to_review(app, site, submit, worker):
    body = "see https://a.example https://b.example and https://c.example"
    comment_id = submit(body=body).get_json()["id"]
    assert wait_for_status(app, comment_id) == "review"
    with app.app_context():
        assert db.session.get(Comment, comment_id).status_reason == "links.too_many"


def test_blocklisted_email_is_spam(app, site, submit, worker):
    with app.app_context():
        update_policy(db.session.merge(site), {"blocklist": ["spammer.example"]}, "test")
    comment_id = submit(email="bot@spammer.example").get_json()["id"]
    assert wait_for_status(app, comment_id) == "spam"
    with app.app_context():
        assert db.session.get(Comment, comment_id).status_reason == "blocklist.email"


def test_exact_duplicate_from_same_author_is_rejected(app, site, submit, worker):
    first = submit().get_json()["id"]
    assert wait_for_status(app, first) == "approved"
    second = submit(body="  I DISAGREE with the author about the tariffs;  "
                         "the 2019 figures tell another story.")
    assert wait_for_status(app, second.get_json()["id"]) == "rejected"


def test_honeypot_is_spam_and_author_sees_reason(app, site, submit, client, worker):
    body = submit(hp="http://bot.example").get_json()
    assert wait_for_status(app, body["id"]) == "spam"
    own = client.get(f"/api/v1/comments/{body['id']}/status?token={body['token']}").get_json()
    assert own["status"] == "spam" and own["reason"] == "honeypot.filled"


def test_review_all_site_holds_clean_comments(app, site, submit, worker):
    with app.app_context():
        update_policy(db.session.merge(site), {"review_all": True}, "test")
    comment_id = submit().get_json()["id"]
    assert wait_for_status(app, comment_id) == "review"


def test_many_submissions_are_each_decided_once(app, site, submit, worker):
    ids = [submit(body=f"distinct remark {i}", email=f"m{i}@example.org").get_json()["id"]
           for i in range(20)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.app_context():
            pending = db.session.scalar(select(func.count()).where(
                Comment.status == "pending"))
            db.session.remove()
        if not pending:
            break
        time.sleep(0.1)
    with app.app_context():
        statuses = dict(db.session.execute(select(Comment.id, Comment.status)).all())
        assert all(statuses[i] == "approved" for i in ids)
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert events == len(ids)
        seqs = list(db.session.scalars(select(ChangeEvent.seq).order_by(ChangeEvent.seq)))
        assert seqs == list(range(1, len(ids) + 1))
