"""Email a site's moderators when a comment enters review (off unless SMTP_HOST is set)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from flask import current_app

from service.db import db
from service.models import Comment, Status

log = logging.getLogger(__name__)
EXCERPT = 600


def notify_moderators_later(comment: Comment) -> bool:
    """Called after the pipeline committed a review decision; queues the email when the
    deployment has SMTP and the site lists addresses. A broker failure only loses the email."""
    if not current_app.config.get("SMTP_HOST") or not comment.site.policy.notify_emails:
        return False
    try:
        current_app.extensions["celery"].send_task(
            "vetted.notify_review", args=[comment.id], retry=False)
        return True
    except Exception as error:  # noqa: BLE001 - the comment is in the queue either way
        log.warning("broker unavailable, no review email for comment %s: %s", comment.id,
                    type(error).__name__)
        return False


def review_message(comment: Comment, sender: str, recipients: list[str],
                   review_url: str = "") -> EmailMessage:
    """Plain text, no reader email or IP: mailboxes are less guarded than the review page."""
    site, article = comment.site, comment.article.key
    body = comment.body if len(comment.body) <= EXCERPT else comment.body[:EXCERPT] + "…"
    checks = [f"  - {r.check}: {r.verdict} ({r.reason}) {r.detail}".rstrip()
              for r in comment.checks if r.verdict != "pass"]
    lines = [
        f"A comment on {site.name} waits for review.",
        "",
        f"Article: {article}",
        f"Author:  {comment.author_name}",
        f"Reason:  {comment.status_reason}",
        *(["Checks:", *checks] if checks else []),
        "",
        body,
        "",
        f"Review it: {review_url}" if review_url else "Review it on the review page (/moderate).",
    ]
    message = EmailMessage()
    message["Subject"] = f"[{site.slug}] comment {comment.id} waits for review"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content("\n".join(lines))
    return message


def smtp_settings() -> dict[str, Any]:
    c = current_app.config
    return {key: c.get(f"SMTP_{key.upper()}") for key in
            ("host", "port", "from", "username", "password", "starttls")}


def send_review_notification(comment_id: int) -> int:
    """Send one email to the site's notify_emails; returns how many recipients it went to."""
    settings = smtp_settings()
    comment = db.session.get(Comment, comment_id)
    # Decided again before the email went out: nothing to review any more.
    if not settings["host"] or comment is None or comment.status != Status.REVIEW:
        return 0
    recipients = comment.site.policy.notify_emails
    if not recipients:
        return 0
    message = review_message(comment, settings["from"], recipients,
                             current_app.config.get("MODERATE_URL", ""))
    with smtplib.SMTP(settings["host"], int(settings["port"]), timeout=10) as smtp:
        if settings["starttls"]:
            smtp.starttls()
        if settings["username"]:
            smtp.login(settings["username"], settings["password"] or "")
        smtp.send_message(message)
    log.info("review notification sent", extra={"comment_id": comment_id,
                                                "recipients": len(recipients)})
    return len(recipients)
