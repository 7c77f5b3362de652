"""The deployment's own spam model: learned from moderators' spam/ham labels, kept in instance/.

Workers call `current_spam_model()`: the learned model when one has been saved, else the
shipped one. Learning reads the latest learned model under a file lock, updates it with
`worker.checks.spam.learn` and replaces the file atomically, so concurrent workers never
lose each other's lessons or read half a file.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import select

from service.db import db
from service.moderation_models import LabelledExample
from worker.checks import Submission
from worker.checks.spam import SpamModel, learn, load_default

log = logging.getLogger(__name__)

LEARNED_FILE = "spam-learned.joblib"
# Earlier labels replayed with each new one, so a new lesson does not undo recent ones.
RECENT_EXAMPLES = 40
# (path, mtime_ns) -> model: reload only when another process saved a newer file.
_loaded: dict[str, tuple[int, SpamModel]] = {}


def learned_model_path() -> Path:
    """SPAM_LEARNED_MODEL when set, else instance/spam-learned.joblib."""
    configured = current_app.config.get("SPAM_LEARNED_MODEL") or ""
    return Path(configured) if configured else Path(current_app.instance_path) / LEARNED_FILE


def current_spam_model() -> SpamModel:
    """The learned model when present and readable, else the shipped one (also outside an app
    context, e.g. in benchmarks, where there is no instance folder to read)."""
    if not has_app_context():
        return load_default()
    path = learned_model_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return load_default()
    cached = _loaded.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        model = SpamModel.load(path)
    except (OSError, ValueError, KeyError, EOFError) as error:
        log.warning("learned spam model unreadable, using the shipped one: %s", error)
        return load_default()
    _loaded[str(path)] = (mtime, model)
    return model


def submission_of_example(example: LabelledExample) -> Submission:
    return Submission(body=example.body, name=example.name, email=example.email,
                      url=example.url)


@contextmanager
def _model_lock(path: Path) -> Iterator[None]:
    """One learner at a time per instance folder (workers on one machine share it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_model(model: SpamModel, path: Path) -> Path:
    """Write beside the target, then rename: readers see the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    model.save(tmp)
    os.replace(tmp, path)
    return path


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
    path = learned_model_path()
    with _model_lock(path):
        updated = learn(current_spam_model(), examples)
        # How many moderator decisions this model has learned from (replays not counted).
        updated.info["decisions_learned"] = updated.info.get("decisions_learned", 0) + len(new)
        save_model(updated, path)
    log.info("spam model learned", extra={"new": len(new), "replayed": len(recent)})
    return len(new)


def all_examples() -> list[tuple[Submission, bool]]:
    return [(submission_of_example(e), e.is_spam)
            for e in db.session.scalars(select(LabelledExample).order_by(LabelledExample.id))]


def retrain(base: SpamModel | None = None, out: Path | None = None) -> tuple[int, Path | None]:
    """Start again from `base` (default: the shipped model) and learn every stored label.

    With no labels the learned file is removed, so workers fall back to the shipped model.
    Returns (number of examples, path written or None).
    """
    examples = all_examples()
    path = out or learned_model_path()
    with _model_lock(path):
        if not examples and base is None:
            path.unlink(missing_ok=True)
            return 0, None
        model = learn(base or load_default(), examples)
        return len(examples), save_model(model, path)
