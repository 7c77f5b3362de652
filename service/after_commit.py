"""Run callbacks only once the transaction that scheduled them has committed.

Work that tells the outside world about a row (a Redis wake-up, a queued task) must never run
before the row is visible, nor at all when the transaction rolls back. Callbacks scheduled
inside a savepoint move to the enclosing transaction when it is released and are dropped when
it rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from service.db import db

log = logging.getLogger(__name__)

_KEY = "vetted.after_commit"
# (owning savepoint or None for the root transaction, callback, arguments)
_Entry = tuple[SessionTransaction | None, Callable[..., Any], tuple[Any, ...]]


def call_after_commit(callback: Callable[..., Any], *args: Any) -> None:
    """Schedule `callback(*args)` for after the current transaction of db.session commits."""
    session = db.session()
    if not session.in_transaction():
        # Callbacks belong to a transaction: start it now so a rollback can discard them.
        session.begin()
    session.info.setdefault(_KEY, []).append((session.get_nested_transaction(), callback, args))


def _pending(session: Session) -> list[_Entry]:
    return session.info.get(_KEY) or []


def _within(owner: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while owner is not None:
        if owner is ancestor:
            return True
        owner = owner.parent
    return False


def _enclosing_savepoint(transaction: SessionTransaction) -> SessionTransaction | None:
    parent = transaction.parent
    while parent is not None and not parent.nested:
        parent = parent.parent
    return parent


@event.listens_for(db.session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = _pending(session)
    if not pending:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        # A released savepoint: its callbacks now wait for the enclosing transaction.
        parent = _enclosing_savepoint(savepoint)
        session.info[_KEY] = [(parent if _within(owner, savepoint) else owner, cb, args)
                              for owner, cb, args in pending]
        return
    session.info[_KEY] = []
    for _, callback, args in pending:
        try:
            callback(*args)
        except Exception:  # the data is committed; a failed notification must not undo a request
            log.exception("after-commit callback %s failed", getattr(callback, "__name__", "?"))


@event.listens_for(db.session, "after_rollback")
def _after_rollback(session: Session) -> None:
    pending = _pending(session)
    if not pending:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is None:
        session.info[_KEY] = []
    else:
        session.info[_KEY] = [entry for entry in pending if not _within(entry[0], savepoint)]


@event.listens_for(db.session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A root transaction closed without commit (e.g. session.close()) discards its callbacks.
    if transaction.parent is None and _pending(session):
        session.info[_KEY] = []
