"""Every status change goes through here: audit event, change-feed event, thread counters."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class PublicChange:
    """A change the public can see, waiting for its seq."""

    comment: Comment
    event_type: str
    count_delta: int


class PublicChanges:
    """Collects the public changes of one transaction to publish them together.

    A worker batch then takes its seqs with one counter update, holds the counter's lock only
    from publish() to commit, and updates each thread once.
    """

    def __init__(self) -> None:
        self.changes: list[PublicChange] = []

    def add(self, comment: Comment, event_type: str, count_delta: int = 0) -> None:
        self.changes.append(PublicChange(comment, event_type, count_delta))

    def publish(self) -> list[int]:
        changes, self.changes = self.changes, []
        return publish_changes(changes)


def change_status(
    comment: Comment,
    to_status: Status,
    *,
    actor: str,
    action: str,
    reason: str | None = None,
    expected: str | None = None,
    changes: PublicChanges | None = None,
) -> None:
    """Move a comment atomically from `expected` (default: its loaded status) to `to_status`.

    The conditional UPDATE makes concurrent deciders safe: exactly one wins, the other gets
    Conflict. The caller commits. With `changes`, a public change is only collected, and the
    caller publishes them all before committing.
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
        event_type = "comment.approved" if is_public else "comment.removed"
        delta = 1 if is_public else -1
        if changes is not None:
            changes.add(comment, event_type, delta)
        else:
            publish_change(comment, event_type, count_delta=delta)


def publish_change(comment: Comment, event_type: str, count_delta: int = 0) -> int:
    """Append a change-feed event and bump the thread's version; returns the new seq."""
    return publish_changes([PublicChange(comment, event_type, count_delta)])[0]


def publish_changes(changes: list[PublicChange]) -> list[int]:
    """Append change-feed events in order and bump their threads' versions; returns the seqs.

    Taking the seqs with an UPDATE on the single counter row locks it until commit, so events
    become visible in seq order and a polling consumer never skips one.
    """
    if not changes:
        return []
    last = db.session.execute(
        update(FeedCounter)
        .where(FeedCounter.id == 1)
        .values(last_seq=FeedCounter.last_seq + len(changes))
        .returning(FeedCounter.last_seq)
    ).scalar_one()
    seqs = list(range(last - len(changes) + 1, last + 1))
    db.session.add_all(
        ChangeEvent(seq=seq, site_id=c.comment.site_id, comment_id=c.comment.id, type=c.event_type)
        for seq, c in zip(seqs, changes, strict=True)
    )
    # Each thread once: its version becomes its latest seq.
    threads: dict[int, tuple[int, int]] = {}
    for seq, change in zip(seqs, changes, strict=True):
        _, delta = threads.get(change.comment.article_id, (0, 0))
        threads[change.comment.article_id] = (seq, delta + change.count_delta)
    keys = {
        article_id: db.session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(approved_count=Article.approved_count + delta, version=seq)
            .returning(Article.key)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        for article_id, (seq, delta) in threads.items()
    }
    # Once this transaction commits: wake long-polling consumers, tell web processes the threads
    # changed, queue webhook deliveries.
    feed_notify.changes_published([
        feed_notify.Published(c.comment, seq, c.event_type, keys[c.comment.article_id])
        for seq, c in zip(seqs, changes, strict=True)
    ])
    return seqs
