"""Privacy: no email in public answers or info logs; export, erase and retention of IPs."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.cli import cli
from service.db import db
from service.models import AuditEvent, ChangeEvent, Comment, Status, utcnow
from service.privacy import purge_personal_data
from service.transitions import change_status
from worker import tasks
from worker.privacy_tasks import purge_personal_data as purge_task

EMAIL = "Reader.One@Example.org"
STORED = "Reader.One@example.org"  # email-validator lowercases the domain
ARTICLE = "/2023/12/india-russia-talks"


def publish(app, comment_id: int) -> None:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        change_status(comment, Status.APPROVED, actor="test", action="approve")
        db.session.commit()


def email_traces(email: str) -> list[str]:
    """The email and the hashes anyone could compute from it."""
    spellings = {email, email.lower(), STORED}
    return list(spellings) + [
        algo(value.encode()).hexdigest()[:length]
        for algo in (hashlib.md5, hashlib.sha1, hashlib.sha256)
        for value in spellings
        for length in (32, 16)
    ]


def test_no_email_in_info_logs_for_submission_and_moderation(app, site, client, caplog):
    caplog.set_level(logging.INFO)
    response = client.post("/api/v1/comments", json={
        "site": "news", "article": ARTICLE, "name": "Reader", "email": EMAIL,
        "body": "Logged everywhere, but never my address."})
    assert response.status_code == 202
    with app.app_context():
        assert tasks.moderate_comment(response.get_json()["id"]) == "approved"
    assert any(r.name.startswith("worker") and r.levelno == logging.INFO for r in caplog.records)
    for record in caplog.records:
        rendered = record.getMessage() + " " + json.dumps(
            {k: str(v) for k, v in vars(record).items()}, default=str)
        for trace in email_traces(EMAIL):
            assert trace not in rendered, (record.name, record.getMessage())


def test_public_answers_never_carry_the_email_or_a_guessable_hash(app, site, client):
    body = client.post("/api/v1/comments", json={
        "site": "news", "article": ARTICLE, "name": "Reader", "email": EMAIL,
        "body": "Public, but my address stays private."}).get_json()
    publish(app, body["id"])
    answers = [
        client.get("/api/v1/comments", query_string={"site": "news", "article": ARTICLE}),
        client.get(f"/api/v1/comments/{body['id']}/status", query_string={"token": body["token"]}),
    ]
    for answer in answers:
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        for trace in email_traces(EMAIL):
            assert trace not in text


def submit_as(client, email: str, body: str, **extra):
    return client.post("/api/v1/comments", json={
        "site": "news", "article": ARTICLE, "name": "Reader One", "email": email,
        "url": "https://reader.example", "body": body, **extra},
        headers={"User-Agent": "ReaderBrowser/1.0"},
        environ_base={"REMOTE_ADDR": "192.0.2.44"}).get_json()["id"]


@pytest.fixture()
def reader(app, site, client):
    """One reader with a published, a held and a spam comment, plus someone else's comment."""
    published = submit_as(client, EMAIL, "My published view on the talks.")
    with app.app_context():
        assert tasks.moderate_comment(published) == "approved"
    held = submit_as(client, EMAIL, "A second thought, waiting for review.")
    spam = submit_as(client, EMAIL, "Cheap pills here.", hp="filled by a bot")
    with app.app_context():
        change_status(db.session.get(Comment, held), Status.REVIEW, actor="test", action="hold")
        db.session.commit()
        assert tasks.moderate_comment(spam) == "spam"
    other = submit_as(client, "someone@else.example", "Not the same person.")
    return {"published": published, "held": held, "spam": spam, "other": other}


def test_export_lists_everything_stored_and_is_audited(app, runner, reader):
    result = runner.invoke(cli, ["privacy", "export", "--email", EMAIL.lower()])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    comments = {c["id"]: c for c in data["comments"]}
    assert set(comments) == {reader["published"], reader["held"], reader["spam"]}
    published = comments[reader["published"]]
    assert published["status"] == "approved" and published["email"] == STORED
    assert published["ip"] == "192.0.2.44" and published["user_agent"] == "ReaderBrowser/1.0"
    assert {c["check"] for c in published["checks"]} >= {"honeypot", "links"}
    assert [a["to"] for a in published["audit"]] == ["approved"]
    assert comments[reader["spam"]]["status_reason"] == "honeypot.filled"
    with app.app_context():
        audit = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.export")).all()
    assert [(a.actor, a.comment_id) for a in audit] == [("cli", None)]
    assert EMAIL.lower() not in (audit[0].reason or "").lower()


def test_erase_anonymises_and_keeps_published_text(app, runner, client, reader):
    with app.app_context():
        seq_before = db.session.scalar(select(ChangeEvent.seq).order_by(
            ChangeEvent.seq.desc()).limit(1))
    listing_url = f"/api/v1/comments?site=news&article={ARTICLE}"
    etag = client.get(listing_url).headers["ETag"]
    result = runner.invoke(cli, ["privacy", "erase", "--email", EMAIL])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["anonymised"] == 3
    with app.app_context():
        mine = [db.session.get(Comment, reader[k]) for k in ("published", "held", "spam")]
        for comment in mine:
            assert comment.email == "" and comment.author_name == "[deleted]"
            assert comment.author_url is None and comment.ip is None
            assert comment.user_agent is None
        assert mine[0].status == "approved" and mine[0].body == "My published view on the talks."
        other = db.session.get(Comment, reader["other"])
        assert other.email == "someone@else.example" and other.ip == "192.0.2.44"
        updated = db.session.scalars(select(ChangeEvent).where(ChangeEvent.seq > seq_before)).all()
        assert [(e.comment_id, e.type) for e in updated] == [
            (reader["published"], "comment.updated")]
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "privacy.erase")).actor == "cli"
    listing = client.get(listing_url, headers={"If-None-Match": etag})
    assert listing.status_code == 200
    [shown] = listing.get_json()["comments"]
    assert shown["author"]["name"] == "[deleted]" and shown["author"]["url"] is None
    export = json.loads(runner.invoke(cli, ["privacy", "export", "--email", EMAIL]).stdout)
    assert export["comments"] == []


def test_erase_with_delete_takes_published_comments_down(app, runner, client, reader):
    result = runner.invoke(cli, ["privacy", "erase", "--email", EMAIL, "--delete-comments"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        published = db.session.get(Comment, reader["published"])
        held = db.session.get(Comment, reader["held"])
        spam = db.session.get(Comment, reader["spam"])
        assert published.status == "removed" and held.status == "removed"
        assert spam.status == "spam"
        for comment in (published, held, spam):
            assert comment.body == "[deleted]" and "talks" not in comment.body_html
            assert comment.email == ""
        removals = db.session.scalars(select(ChangeEvent).where(
            ChangeEvent.comment_id == reader["published"])).all()
        assert [e.type for e in removals] == ["comment.approved", "comment.removed"]
        audit = db.session.scalars(select(AuditEvent).where(
            AuditEvent.comment_id == reader["published"]).order_by(AuditEvent.id)).all()
        assert (audit[-1].actor, audit[-1].action, audit[-1].to_status) == (
            "cli", "privacy.erase", "removed")
    listing = client.get(f"/api/v1/comments?site=news&article={ARTICLE}").get_json()
    assert listing["total"] == 0 and listing["comments"] == []


def test_retention_clears_ip_and_user_agent_of_old_decided_comments(app, app_factory, reader):
    with app.app_context():
        old = db.session.get(Comment, reader["published"])
        old.decided_at = utcnow() - timedelta(days=31)
        spam = db.session.get(Comment, reader["spam"])
        spam.decided_at = utcnow() - timedelta(days=3)
        db.session.commit()
        assert purge_personal_data(30) == 1
        assert purge_personal_data(30) == 0
        db.session.expire_all()
        assert db.session.get(Comment, reader["published"]).ip is None
        assert db.session.get(Comment, reader["published"]).user_agent is None
        # Recently decided and other readers' comments keep theirs until their time comes.
        assert db.session.get(Comment, reader["spam"]).ip == "192.0.2.44"
        assert db.session.get(Comment, reader["other"]).ip == "192.0.2.44"
    short_retention = app_factory(RETENTION_DAYS=2)
    with short_retention.app_context():
        assert purge_task() == 1
        db.session.expire_all()
        assert db.session.get(Comment, reader["spam"]).ip is None
        assert db.session.get(Comment, reader["other"]).ip == "192.0.2.44"  # still pending


def test_purge_is_on_the_beat_schedule(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    assert any(entry["task"] == "vetted.purge_personal_data" for entry in schedule.values())
    assert "vetted.purge_personal_data" in app.extensions["celery"].tasks
