"""The change feed's data: what consumers and webhooks see of each public change, in seq order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.comments import public_comment
from service.db import db
from service.models import ChangeEvent, Comment

EVENT_TYPES = ("comment.approved", "comment.removed", "comment.updated")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def event_comment(comment: Comment) -> dict[str, Any]:
    """The public shape plus the article key, so a consumer knows which thread changed."""
    return public_comment(comment) | {"article": comment.article.key}


def event_json(seq: int, event_type: str, comment: Comment) -> dict[str, Any]:
    return {"seq": seq, "type": event_type, "comment": event_comment(comment)}


def latest_seq(site_id: int) -> int:
    """The site's newest seq (0 when none); cheap thanks to the (site_id, seq) index."""
    return db.session.scalar(
        select(func.max(ChangeEvent.seq)).where(ChangeEvent.site_id == site_id)
    ) or 0


def changes_page(site_id: int, since: int, limit: int) -> dict[str, Any]:
    """Events after `since`, oldest first; `next_since` is the cursor to store."""
    events = db.session.scalars(
        select(ChangeEvent)
        .where(ChangeEvent.site_id == site_id, ChangeEvent.seq > since)
        .order_by(ChangeEvent.seq)
        .limit(limit)
    ).all()
    return {
        "events": [event_json(e.seq, e.type, e.comment) for e in events],
        "next_since": events[-1].seq if events else since,
    }
