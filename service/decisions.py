"""Moderator decisions: allowed transitions, single and all-or-nothing bulk, labelled examples."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from service.db import db
from service.models import Comment, Status
from service.moderation_models import LabelledExample
from service.transitions import Conflict, change_status

log = logging.getLogger(__name__)

MAX_BULK = 500
# action -> (new status, statuses it may be taken from); the lifecycle in DESIGN.md, plus
# acting before the checks finish (pending). A decided comment only moves on as DESIGN.md
# says, so a moderator who raced another gets 409 instead of silently overriding them.
ACTIONS: dict[str, tuple[Status, frozenset[str]]] = {
    "approve": (Status.APPROVED, frozenset({Status.PENDING, Status.REVIEW})),
    "reject": (Status.REJECTED, frozenset({Status.PENDING, Status.REVIEW})),
    "spam": (Status.SPAM, frozenset({Status.PENDING, Status.REVIEW})),
    "ham": (Status.APPROVED, frozenset({Status.SPAM})),
    "remove": (Status.REMOVED, frozenset({Status.APPROVED})),
}
# Decisions that teach the spam model.
LABELS = {"spam": True, "ham": False}


class NotAllowed(Exception):
    """The action does not apply to a comment in its current status."""

    def __init__(self, comment_id: int, current: str, action: str) -> None:
        allowed = ", ".join(sorted(ACTIONS[action][1]))
        super().__init__(f"cannot {action} comment {comment_id}: it is {current} "
                         f"({action} applies to {allowed})")
        self.comment_id, self.current = comment_id, current


class BulkConflict(Exception):
    """Some comments could not take the action; nothing was applied."""

    def __init__(self, conflicts: dict[int, str | None]) -> None:
        super().__init__(f"{len(conflicts)} comment(s) cannot take this action")
        self.conflicts = conflicts


def apply_decision(comment: Comment, action: str, actor: str, reason: str | None) -> None:
    """Change the status (raises NotAllowed or Conflict) and keep the label; the caller commits."""
    to_status, allowed = ACTIONS[action]
    if comment.status not in allowed:
        raise NotAllowed(comment.id, comment.status, action)
    change_status(comment, to_status, actor=actor, action=action,
                  reason=reason or f"moderator.{action}", expected=comment.status)
    if action in LABELS:
        record_example(comment, LABELS[action], actor)


def record_example(comment: Comment, is_spam: bool, actor: str) -> None:
    """Store (or relabel) the comment as a spam/ham example, in the decision's transaction."""
    example = db.session.scalar(
        select(LabelledExample).where(LabelledExample.comment_id == comment.id))
    if example is None:
        example = LabelledExample(site_id=comment.site_id, comment_id=comment.id,
                                  body=comment.body, name=comment.author_name,
                                  email=comment.email, url=comment.author_url or "",
                                  is_spam=is_spam, labelled_by=actor)
        db.session.add(example)
    else:
        example.is_spam, example.labelled_by = is_spam, actor


def decide_one(comment: Comment, action: str, actor: str, reason: str | None) -> None:
    """One decision, committed; a lost race rolls back and re-raises Conflict."""
    try:
        apply_decision(comment, action, actor, reason)
    except (Conflict, NotAllowed):
        db.session.rollback()
        raise
    db.session.commit()
    after_decisions([comment], action)


def decide_many(comments: list[Comment], action: str, actor: str, reason: str | None) -> None:
    """All or nothing: any comment that cannot take the action rolls every change back."""
    conflicts: dict[int, str | None] = {}
    for comment in comments:
        # No savepoints (pysqlite would commit on RELEASE): a refused or lost comment has
        # changed nothing, so we go on to list every conflict, then roll back the whole lot.
        try:
            apply_decision(comment, action, actor, reason)
        except (NotAllowed, Conflict) as error:
            conflicts[comment.id] = error.current
    if conflicts:
        db.session.rollback()
        raise BulkConflict(conflicts)
    db.session.commit()
    after_decisions(comments, action)


def after_decisions(comments: Iterable[Comment], action: str) -> None:
    """After commit: let the spam model learn from spam/ham labels (a lost task is caught up
    by `vetted spam retrain`)."""
    if action not in LABELS:
        return
    ids = [c.id for c in comments]
    try:
        current_app.extensions["celery"].send_task(
            "vetted.learn_from_decision", args=[ids], retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure: the label is stored anyway
        log.warning("broker unavailable, spam model not updated for %s comment(s): %s",
                    len(ids), type(error).__name__)
