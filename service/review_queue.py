"""The moderators' view of comments: queue listing, full detail and the author's history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from service.db import db
from service.models import Article, AuditEvent, Comment, Site, Status

QUEUE_DEFAULT_LIMIT, QUEUE_MAX_LIMIT = 50, 200
ORDERS = ("oldest", "newest")
# "all" lists every status; the others filter on one.
STATUSES = tuple(s.value for s in Status) + ("all",)
HISTORY_STATUSES = (Status.APPROVED, Status.REJECTED, Status.SPAM)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    site: Site
    status: str = Status.REVIEW.value
    article: str | None = None
    q: str | None = None
    order: str = "oldest"
    after: int = 0
    limit: int = QUEUE_DEFAULT_LIMIT


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_queue(f: QueueFilter) -> dict[str, Any]:
    """One page of the queue, keyset-paginated on id in the chosen order."""
    stmt = select(Comment).where(Comment.site_id == f.site.id).options(
        selectinload(Comment.checks))
    if f.status != "all":
        stmt = stmt.where(Comment.status == f.status)
    if f.article:
        stmt = stmt.where(Comment.article_id.in_(
            select(Article.id).where(Article.site_id == f.site.id, Article.key == f.article)))
    if f.q:
        pattern = _like(f.q)
        stmt = stmt.where(or_(Comment.body.ilike(pattern, escape="\\"),
                              Comment.author_name.ilike(pattern, escape="\\")))
    if f.order == "newest":
        stmt = stmt.where(Comment.id < f.after) if f.after else stmt
        stmt = stmt.order_by(Comment.id.desc())
    else:
        stmt = stmt.where(Comment.id > f.after).order_by(Comment.id)
    rows = db.session.scalars(stmt.limit(f.limit + 1)).all()
    page = list(rows[: f.limit])
    history = AuthorHistory.of(f.site.id, page)
    return {
        "comments": [moderation_comment(c, history) for c in page],
        "next": str(page[-1].id) if len(rows) > f.limit else None,
    }


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """Approved/rejected/spam counts per email and per IP, fetched for a whole page at once."""

    by_email: dict[str, dict[str, int]]
    by_ip: dict[str, dict[str, int]]

    @classmethod
    def of(cls, site_id: int, comments: Iterable[Comment]) -> AuthorHistory:
        comments = list(comments)
        emails = {c.email for c in comments}
        ips = {c.ip for c in comments if c.ip}
        return cls(_counts(site_id, Comment.email, emails), _counts(site_id, Comment.ip, ips))

    def for_comment(self, comment: Comment) -> dict[str, dict[str, int]]:
        empty = {s.value: 0 for s in HISTORY_STATUSES}
        return {
            "email": self.by_email.get(comment.email, empty),
            "ip": self.by_ip.get(comment.ip or "", empty) if comment.ip else None,
        }


def _counts(site_id: int, column: Any, values: set[str]) -> dict[str, dict[str, int]]:
    if not values:
        return {}
    result = {v: {s.value: 0 for s in HISTORY_STATUSES} for v in values}
    rows = db.session.execute(
        select(column, Comment.status, func.count())
        .where(Comment.site_id == site_id, column.in_(values),
               Comment.status.in_(HISTORY_STATUSES))
        .group_by(column, Comment.status)
    ).all()
    for value, status, count in rows:
        result[value][status] = count
    return result


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def moderation_comment(comment: Comment, history: AuthorHistory) -> dict[str, Any]:
    """Everything a moderator needs to decide; email and IP never leave this API."""
    return {
        "id": comment.id,
        "site": comment.site.slug,
        "article": comment.article.key,
        "parent_id": comment.parent_id,
        "status": comment.status,
        "status_reason": comment.status_reason,
        "author": {"name": comment.author_name, "email": comment.email,
                   "url": comment.author_url},
        "ip": comment.ip,
        "user_agent": comment.user_agent,
        "created_at": _iso(comment.created_at),
        "decided_at": _iso(comment.decided_at),
        "body": comment.body,
        "body_html": comment.body_html,
        "checks": [
            {"check": r.check, "verdict": r.verdict, "reason": r.reason, "detail": r.detail,
             "score": r.score}
            for r in comment.checks
        ],
        "history": history.for_comment(comment),
    }


def comment_detail(comment: Comment) -> dict[str, Any]:
    """The queue shape plus the audit trail, oldest event first."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.comment_id == comment.id).order_by(AuditEvent.id)
    )
    return moderation_comment(comment, AuthorHistory.of(comment.site_id, [comment])) | {
        "audit": [
            {"actor": e.actor, "action": e.action, "from": e.from_status, "to": e.to_status,
             "reason": e.reason, "at": _iso(e.created_at)}
            for e in events
        ]
    }
