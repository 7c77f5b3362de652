"""A reader's personal data: export it, erase it, and let IPs and user agents expire."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from service.db import db
from service.models import AuditEvent, Comment, Site, Status, utcnow
from service.rendering import body_fingerprint, render_body
from service.transitions import change_status, publish_change

DELETED = "[deleted]"
# Statuses a deletion moves to "removed"; rejected and spam are already out of sight.
_LIVE = (Status.PENDING, Status.REVIEW, Status.APPROVED)


def reader_key(email: str) -> str:
    """A keyed pseudonym for audit trails, so the audit never stores the email it erased."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def comments_of(email: str) -> list[Comment]:
    """Every comment written with this email, whatever its case (email-validator keeps it)."""
    return list(db.session.scalars(
        select(Comment).where(func.lower(Comment.email) == email.strip().lower())
        .order_by(Comment.id)
    ))


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _audit(comments: list[Comment], email: str, action: str, detail: str) -> None:
    """One audit event per site the reader wrote on (audit events belong to a site)."""
    per_site = Counter(c.site_id for c in comments)
    for site_id, count in per_site.items():
        db.session.add(AuditEvent(site_id=site_id, actor="cli", action=action,
                                  reason=f"reader {reader_key(email)}: {count} comments{detail}"))


def export_reader(email: str) -> dict[str, Any]:
    """Everything stored about one reader: comments, their check results and audit trails."""
    comments = comments_of(email)
    ids = [c.id for c in comments]
    audits: dict[int, list[AuditEvent]] = {i: [] for i in ids}
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.comment_id.in_(ids))
                                    .order_by(AuditEvent.id)):
        audits[event.comment_id].append(event)  # type: ignore[index]
    sites = dict(db.session.execute(select(Site.id, Site.slug)).all())
    export = {
        "email": email,
        "exported_at": _when(utcnow()),
        "comments": [
            {
                "id": c.id, "site": sites.get(c.site_id), "article": c.article.key,
                "parent_id": c.parent_id, "status": c.status, "status_reason": c.status_reason,
                "name": c.author_name, "email": c.email, "url": c.author_url, "body": c.body,
                "ip": c.ip, "user_agent": c.user_agent, "referrer": c.referrer,
                "created_at": _when(c.created_at), "decided_at": _when(c.decided_at),
                "checks": [{"check": r.check, "verdict": r.verdict, "reason": r.reason,
                            "detail": r.detail, "score": r.score} for r in c.checks],
                "audit": [{"actor": a.actor, "action": a.action, "from": a.from_status,
                           "to": a.to_status, "reason": a.reason, "at": _when(a.created_at)}
                          for a in audits[c.id]],
            }
            for c in comments
        ],
    }
    _audit(comments, email, "privacy.export", "")
    db.session.commit()
    return export


def erase_reader(email: str, delete_comments: bool = False) -> dict[str, int]:
    """Remove the reader's personal data; keep published text anonymised unless told to delete.

    Deletion takes live comments down through change_status, so the feed and ETags see it; rows
    stay (audit and feed events point at them) but their text is gone.
    """
    comments = comments_of(email)
    counts = {"comments": len(comments), "anonymised": 0, "removed": 0, "deleted_text": 0}
    for comment in comments:
        was_public = comment.status == Status.APPROVED
        if delete_comments and comment.status in _LIVE:
            change_status(comment, Status.REMOVED, actor="cli", action="privacy.erase",
                          reason="privacy.erased")
            counts["removed"] += 1
        comment.author_name, comment.email, comment.author_url = DELETED, "", None
        comment.ip = comment.user_agent = comment.referrer = None
        # A fresh random seed: erased comments can no longer be linked to each other.
        comment.avatar_seed = secrets.token_hex(16)
        if delete_comments:
            comment.body, comment.body_html = DELETED, render_body(DELETED)
            comment.body_hash = body_fingerprint(f"{DELETED} {comment.id}")
            for record in comment.checks:
                record.detail = ""
            counts["deleted_text"] += 1
        elif was_public:
            # What the public sees changed (no name, no website): tell the feed and the ETags.
            publish_change(comment, "comment.updated")
        counts["anonymised"] += 1
    _audit(comments, email, "privacy.erase",
           ", text deleted" if delete_comments else ", text kept anonymised")
    db.session.commit()
    return counts


def purge_personal_data(retention_days: int, now: datetime | None = None) -> int:
    """Clear IP and user agent of comments decided more than `retention_days` ago."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    result = db.session.execute(
        update(Comment)
        .where(Comment.decided_at.is_not(None), Comment.decided_at < cutoff,
               Comment.status != Status.PENDING,
               or_(Comment.ip.is_not(None), Comment.user_agent.is_not(None)))
        .values(ip=None, user_agent=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount
