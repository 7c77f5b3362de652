"""Every status change goes through here: audit event, change-feed event, thread counters."""

from __future__ import annotations

from sqlalchemy import select, update

from service import feed_notify
from service.db import db
from service.metrics import DECISIONS, decision_source
from service.models import (
    Article,
    AuditEvent,
    ChangeEvent,
    Comment,
    FeedCounter,
    Status,
    utcnow,
)


class Conflict(Exception):
    """The comment was no longer in the expected status (someone else decided first)."""

    def __init__(self, comment_id: int, current: str | None) -> None:
        super().__init__(f"comment {comment_id} is {current}")
        self.comment_id, self.current = comment_id, current


def change_status(
    comment: Comment,
    to_status: Status,
    *,
    actor: str,
    action: str,
    reason: str | None = None,
    expected: str | None = None,
) -> None:
    """Move a comment atomically from `expected` (default: its loaded status) to `to_status`.

    The conditional UPDATE makes concurrent deciders safe: exactly one wins, the other gets
    Conflict. The caller commits.
    """
    from_status = expected or comment.status
    now = utcnow()
    result = db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.status == from_status)
        .values(status=to_status, status_reason=reason, decided_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current = db.session.scalar(select(Comment.status).where(Comment.id == comment.id))
        raise Conflict(comment.id, current)
    comment.status, comment.status_reason, comment.decided_at = to_status, reason, now
    DECISIONS.labels(str(to_status), decision_source(actor)).inc()
    db.session.add(
        AuditEvent(
            site_id=comment.site_id,
            comment_id=comment.id,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        )
    )
    was_public, is_public = from_status == Status.APPROVED, to_status == Status.APPROVED
    if was_public != is_public:
        publish_change(comment, "comment.approved" if is_public else "comment.removed",
                       count_delta=1 if is_public else -1)


def publish_change(comment: Comment, event_type: str, count_delta: int = 0) -> int:
    """Append a change-feed event and bump the thread's version; returns the new seq.

    Taking the next seq with an UPDATE on the single counter row locks it until commit, so
    events become visible in seq order and a polling consumer never skips one.
    """
    seq = db.session.execute(
        update(FeedCounter)
        .where(FeedCounter.id == 1)
        .values(last_seq=FeedCounter.last_seq + 1)
        .returning(FeedCounter.last_seq)
    ).scalar_one()
    db.session.add(
        ChangeEvent(seq=seq, site_id=comment.site_id, comment_id=comment.id, type=event_type)
    )
    article_key = db.session.execute(
        update(Article)
        .where(Article.id == comment.article_id)
        .values(approved_count=Article.approved_count + count_delta, version=seq)
        .returning(Article.key)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    # Once this transaction commits: wake long-polling consumers, tell web processes the thread
    # changed, queue webhook deliveries.
    feed_notify.change_published(comment, seq, event_type, article_key)
    return seq
