"""Review emails to a site's moderators, delivered to a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from flask import Flask

from service.db import db
from service.models import CheckRecord, Comment, Site, Status
from service.sites import create_site
from service.transitions import change_status
from tests.conftest import comment_payload, store_without_queueing, wait_for_status
from worker.notifications import send_review_notification

MODERATORS = ["mods@news.example", "editor@news.example"]


class Inbox:
    """aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture()
def mail_app(app: Flask, app_factory, smtp) -> Flask:
    return app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_FROM="vetted@news.example",
                       MODERATE_URL="https://vetted.news.example/moderate")


def held_comment(app: Flask, site: Site, **overrides: Any) -> int:
    comment_id = store_without_queueing(app, site, **overrides)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.add(CheckRecord(comment_id=comment_id, check="links", verdict="hold",
                                   reason="links.too_many", detail="4 links (the site allows 2)"))
        change_status(comment, Status.REVIEW, actor="check:pipeline", action="moderate",
                      reason="links.too_many")
        db.session.commit()
    return comment_id


def test_email_lists_what_is_held_without_reader_email_or_ip(mail_app, smtp):
    inbox, _ = smtp
    with mail_app.app_context():
        site = create_site("news", "News", [], notify_emails=MODERATORS)
    comment_id = held_comment(mail_app, site, body="See my links, there are several.")
    with mail_app.app_context():
        assert send_review_notification(comment_id) == 2
    [(recipients, message)] = inbox.messages
    assert recipients == MODERATORS
    assert message["From"] == "vetted@news.example"
    assert message["Subject"] == f"[news] comment {comment_id} waits for review"
    text = message.get_payload(decode=True).decode()
    assert "Asha Rao" in text and "See my links" in text and "links.too_many" in text
    assert "https://vetted.news.example/moderate" in text
    assert "asha@example.org" not in text and "203.0.113.9" not in text


def test_nothing_is_sent_without_smtp_recipients_or_review(app, app_factory, mail_app, smtp):
    inbox, _ = smtp
    with mail_app.app_context():
        quiet = create_site("quiet", "Quiet", [])
        news = create_site("news", "News", [], notify_emails=MODERATORS)
    no_recipients = held_comment(mail_app, quiet)
    decided = held_comment(mail_app, news, body="Decided before the email went out.")
    with mail_app.app_context():
        comment = db.session.get(Comment, decided)
        change_status(comment, Status.APPROVED, actor="moderator:1", action="approve")
        db.session.commit()
        assert send_review_notification(no_recipients) == 0
        assert send_review_notification(decided) == 0
        assert send_review_notification(987654321) == 0
    waiting = held_comment(mail_app, news, body="Still waiting for a moderator.")
    with app_factory().app_context():  # SMTP_HOST empty: emails are off
        assert send_review_notification(waiting) == 0
    assert inbox.messages == []


@pytest.fixture()
def mail_worker(mail_app: Flask) -> Iterator[Any]:
    with start_worker(mail_app.extensions["celery"], pool="solo", perform_ping_check=False,
                      shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


def wait_for_mail(inbox: Inbox, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_pipeline_review_decision_emails_the_moderators(mail_app, smtp, mail_worker):
    inbox, _ = smtp
    with mail_app.app_context():
        create_site("open", "Open", [], notify_emails=MODERATORS, review_threshold=0.5)
        create_site("news", "News", [], review_all=True, notify_emails=MODERATORS)
    client = mail_app.test_client()
    published = client.post("/api/v1/comments", json=comment_payload(
        site="open", body="I disagree with the author on tariffs.")).get_json()["id"]
    assert wait_for_status(mail_app, published) == "approved"
    held = client.post("/api/v1/comments", json=comment_payload(
        body="Every comment on this site waits for a person.")).get_json()["id"]
    assert wait_for_status(mail_app, held) == "review"
    wait_for_mail(inbox, 1)
    [(recipients, message)] = inbox.messages
    assert recipients == MODERATORS
    assert message["Subject"] == f"[news] comment {held} waits for review"
    assert "Every comment on this site waits" in message.get_payload(decode=True).decode()
