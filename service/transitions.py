"""Every status change goes through here: audit event, change-feed event, thread counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

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


class DecisionBatch:
    """Collects what many status changes of one transaction write, to write it together.

    flush() inserts every audit row with one statement, takes all the seqs with one counter
    update (so the counter's lock is held only from there to the commit) and updates each
    thread once.
    """

    def __init__(self) -> None:
        self.audits: list[dict] = []
        self.changes: list[PublicChange] = []

    def record(self, comment: Comment, from_status: str, to_status: Status, *, actor: str,
               action: str, reason: str | None, at: datetime) -> None:
        """Queue the audit row and, when the public list changes, the change-feed event."""
        DECISIONS.labels(str(to_status), decision_source(actor)).inc()
        self.audits.append({"site_id": comment.site_id, "comment_id": comment.id,
                            "actor": actor, "action": action, "from_status": from_status,
                            "to_status": to_status, "reason": reason, "created_at": at})
        was_public, is_public = from_status == Status.APPROVED, to_status == Status.APPROVED
        if was_public != is_public:
            self.changes.append(PublicChange(
                comment, "comment.approved" if is_public else "comment.removed",
                1 if is_public else -1))

    def flush(self) -> list[int]:
        audits, self.audits = self.audits, []
        changes, self.changes = self.changes, []
        if audits:
            db.session.execute(insert(AuditEvent.__table__), audits)
        return publish_changes(changes)


def change_status(
    comment: Comment,
    to_status: Status,
    *,
    actor: str,
    action: str,
    reason: str | None = None,
    expected: str | None = None,
    batch: DecisionBatch | None = None,
) -> None:
    """Move a comment atomically from `expected` (default: its loaded status) to `to_status`.

    The conditional UPDATE makes concurrent deciders safe: exactly one wins, the other gets
    Conflict. The caller commits; with a `batch`, the caller flushes it first.
    """
    from_status = expected or comment.status
    writes = batch if batch is not None else DecisionBatch()
    moved = change_statuses([comment], to_status, actor=actor, action=action, reason=reason,
                            expected=from_status, batch=writes)
    if not moved:
        comments = Comment.__table__
        current = db.session.scalar(select(comments.c.status).where(comments.c.id == comment.id))
        raise Conflict(comment.id, current)
    if batch is None:
        writes.flush()


def change_statuses(
    comments: list[Comment],
    to_status: Status,
    *,
    actor: str,
    action: str,
    reason: str | None,
    expected: str,
    batch: DecisionBatch,
) -> list[Comment]:
    """Move every comment still in `expected` to `to_status` with one conditional UPDATE.

    Returns the comments that moved, in the given order; the others were changed meanwhile by
    someone else and are left as they are. Core statements throughout: none of this needs the
    ORM's unit of work. The caller flushes the batch and commits.
    """
    if not comments:
        return []
    now = utcnow()
    table = Comment.__table__
    moved_ids = set(db.session.scalars(
        update(table)
        .where(table.c.id.in_([c.id for c in comments]), table.c.status == expected)
        .values(status=to_status, status_reason=reason, decided_at=now, updated_at=now)
        .returning(table.c.id)
    ))
    moved = [c for c in comments if c.id in moved_ids]
    for comment in moved:
        # The row already holds these: record them as loaded, or the commit would write them again.
        for name, value in (("status", to_status), ("status_reason", reason), ("decided_at", now),
                            ("updated_at", now)):
            set_committed_value(comment, name, value)
        batch.record(comment, expected, to_status, actor=actor, action=action, reason=reason,
                     at=now)
    return moved


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
    counters = FeedCounter.__table__
    last = db.session.execute(
        update(counters)
        .where(counters.c.id == 1)
        .values(last_seq=counters.c.last_seq + len(changes))
        .returning(counters.c.last_seq)
    ).scalar_one()
    seqs = list(range(last - len(changes) + 1, last + 1))
    db.session.execute(insert(ChangeEvent.__table__), [
        {"seq": seq, "site_id": c.comment.site_id, "comment_id": c.comment.id,
         "type": c.event_type, "created_at": utcnow()}
        for seq, c in zip(seqs, changes, strict=True)
    ])
    # Each thread once: its version becomes its latest seq.
    threads: dict[int, tuple[int, int]] = {}
    for seq, change in zip(seqs, changes, strict=True):
        _, delta = threads.get(change.comment.article_id, (0, 0))
        threads[change.comment.article_id] = (seq, delta + change.count_delta)
    articles = Article.__table__
    keys = {
        article_id: db.session.execute(
            update(articles)
            .where(articles.c.id == article_id)
            .values(approved_count=articles.c.approved_count + delta, version=seq)
            .returning(articles.c.key)
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
