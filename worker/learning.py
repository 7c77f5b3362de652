"""The deployment's own spam model: learned from moderators' spam/ham labels, kept in the database.

Workers call `current_spam_model()`: the newest learned model when one has been saved, else the
shipped one; each process keeps it and asks for a newer row at most every
LEARNED_MODEL_REFRESH_SECONDS. Learners take a Redis lock (workers may run on several machines),
read the newest model fresh from the database, update it with `worker.checks.spam.learn` and save
a new row, so concurrent learners never lose each other's lessons.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from weakref import WeakKeyDictionary

from flask import Flask, current_app, has_app_context
from redis.exceptions import LockError
from sqlalchemy import delete, func, select

from service.db import db
from service.moderation_models import LabelledExample, LearnedSpamModel
from service.redis_clients import redis_client
from worker.checks import Submission
from worker.checks.spam import SpamModel, learn, load_default

log = logging.getLogger(__name__)

# Earlier labels replayed with each new one, so a new lesson does not undo recent ones.
RECENT_EXAMPLES = 40
# Rows kept: the newest plus a few that processes may be reading while a learner saves.
KEEP_ROWS = 3
LOCK_NAME = "vetted:spam-learning"
# Longer than any learning step; a killed learner's lock expires by itself after this.
LOCK_TTL_SECONDS = 300
# How long a learner waits for another to finish before giving up (its task then retries).
LOCK_WAIT_SECONDS = 60
# Blobs that are not a model: joblib/pickle raise any of these.
UNREADABLE = (OSError, ValueError, KeyError, EOFError, TypeError, pickle.UnpicklingError)


class LearningBusy(Exception):
    """Another learner held the lock for longer than LOCK_WAIT_SECONDS."""


@dataclass
class _Cached:
    row_id: int | None  # None: no learned row, the shipped model is in use
    model: SpamModel
    checked_at: float


# Per process and app (tests run several apps, as if on several machines, in one process).
_cache: WeakKeyDictionary[Flask, _Cached] = WeakKeyDictionary()


def forget_cached_model() -> None:
    """Drop every process-local copy, so the next call reads the database (tests use this)."""
    _cache.clear()


def current_spam_model() -> SpamModel:
    """The newest learned model when there is one and it is readable, else the shipped one (also
    outside an app context, e.g. in benchmarks, where there is no database to read)."""
    if not has_app_context():
        return load_default()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    cached = _cache.get(app)
    if cached and now - cached.checked_at < float(app.config["LEARNED_MODEL_REFRESH_SECONDS"]):
        return cached.model
    newest = db.session.scalar(select(func.max(LearnedSpamModel.id)))
    if cached and cached.row_id == newest:
        cached.checked_at = now
        return cached.model
    model = _read_model(newest) if newest is not None else load_default()
    _cache[app] = _Cached(newest, model, now)
    return model


def _read_model(row_id: int) -> SpamModel:
    """The model stored in this row; the shipped one (with a warning) when it cannot be read."""
    blob = db.session.scalar(select(LearnedSpamModel.blob).where(LearnedSpamModel.id == row_id))
    if blob is None:  # removed since max(id) was read: `retrain` found no labels
        return load_default()
    try:
        return SpamModel.from_bytes(blob, f"learned spam model #{row_id}")
    except UNREADABLE as error:
        log.warning("learned spam model unreadable, using the shipped one: %s", error)
        return load_default()


def newest_learned_model() -> tuple[int | None, SpamModel]:
    """The newest learned row read now, bypassing the process copy: what a learner builds on."""
    newest = db.session.scalar(select(func.max(LearnedSpamModel.id)))
    return newest, (_read_model(newest) if newest is not None else load_default())


@contextmanager
def learning_lock() -> Iterator[None]:
    """One learner at a time across every machine: a Redis lock when Redis is configured.

    Without Redis there is a single machine and the database serialises the writes.
    """
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        yield
        return
    lock = redis_client(url).lock(LOCK_NAME, timeout=LOCK_TTL_SECONDS,
                                  blocking_timeout=LOCK_WAIT_SECONDS)
    if not lock.acquire():
        raise LearningBusy(f"another learner held {LOCK_NAME} for {LOCK_WAIT_SECONDS}s")
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError as error:  # outlived its TTL: the row is saved, say so and go on
            log.warning("spam learning lock expired before release: %s", error)


def save_learned_model(model: SpamModel, examples: int) -> int:
    """Store the model as the newest row, drop all but the newest KEEP_ROWS; returns its id.

    Call under `learning_lock()`.
    """
    row = LearnedSpamModel(decisions_learned=int(model.info.get("decisions_learned", 0)),
                           examples=examples, blob=model.to_bytes())
    db.session.add(row)
    db.session.flush()
    kept = db.session.scalars(select(LearnedSpamModel.id)
                              .order_by(LearnedSpamModel.id.desc()).limit(KEEP_ROWS)).all()
    db.session.execute(delete(LearnedSpamModel).where(LearnedSpamModel.id < min(kept)))
    db.session.commit()
    # This process already holds the model it just saved: no need to read it back.
    _cache[current_app._get_current_object()] = _Cached(row.id, model, time.monotonic())  # type: ignore[attr-defined]
    return row.id


def submission_of_example(example: LabelledExample) -> Submission:
    return Submission(body=example.body, name=example.name, email=example.email,
                      url=example.url)


def learn_from_comments(comment_ids: list[int]) -> int:
    """Update the learned model with these comments' labels (plus recent ones); returns how many
    examples it learned from, 0 when none of the comments is labelled."""
    new = list(db.session.scalars(
        select(LabelledExample).where(LabelledExample.comment_id.in_(comment_ids))))
    if not new:
        return 0
    recent = db.session.scalars(
        select(LabelledExample)
        .where(LabelledExample.comment_id.not_in(comment_ids))
        .order_by(LabelledExample.id.desc())
        .limit(RECENT_EXAMPLES)
    ).all()
    examples = [(submission_of_example(e), e.is_spam) for e in [*new, *recent]]
    with learning_lock():
        _, base = newest_learned_model()
        updated = learn(base, examples)
        # How many moderator decisions this model has learned from (replays not counted).
        updated.info["decisions_learned"] = base.info.get("decisions_learned", 0) + len(new)
        row_id = save_learned_model(updated, len(examples))
    log.info("spam model learned", extra={"new": len(new), "replayed": len(recent),
                                          "learned_model": row_id})
    return len(new)


def all_examples() -> list[tuple[Submission, bool]]:
    return [(submission_of_example(e), e.is_spam)
            for e in db.session.scalars(select(LabelledExample).order_by(LabelledExample.id))]


def retrain(base: SpamModel | None = None, out: Path | None = None) -> tuple[int, str | None]:
    """Start again from `base` (default: the shipped model) and learn every stored label.

    Saved as the newest learned model, or written to `out` when given (an export; the database
    is left alone). With no labels and no base the learned rows are deleted, so workers fall
    back to the shipped model. Returns (number of examples, where the model went or None).
    """
    if out is not None:
        examples = all_examples()
        if not examples and base is None:
            return 0, None
        model = learn(base or load_default(), examples)
        model.info["decisions_learned"] = len(examples)
        return len(examples), str(model.save(out))
    with learning_lock():
        examples = all_examples()  # inside the lock: every label committed before it counts
        if not examples and base is None:
            db.session.execute(delete(LearnedSpamModel))
            db.session.commit()
            return 0, None
        model = learn(base or load_default(), examples)
        model.info["decisions_learned"] = len(examples)
        row_id = save_learned_model(model, len(examples))
    return len(examples), f"learned spam model #{row_id} in the database"
