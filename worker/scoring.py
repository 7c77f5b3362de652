"""Model scores for a batch of submissions; models load once per process."""

from __future__ import annotations

import logging
import time

from worker.checks import Submission, offensive, spam
from worker.pipeline import Scores

log = logging.getLogger(__name__)


def spam_model() -> spam.SpamModel:
    """The model the checks use: the learned one when moderators have taught it, else shipped."""
    from worker.learning import current_spam_model

    return current_spam_model()


def preload() -> None:
    """Import the moderation code and load the shipped models now."""
    started = time.monotonic()
    import worker.moderation  # noqa: F401 - importing it is the point

    spam.load_default()
    offensive.load()
    log.info("checks preloaded in %.1f s", time.monotonic() - started)


def score_batch(subs: list[Submission], model: spam.SpamModel | None = None) -> list[Scores]:
    """One batched call per model, so a file of comments costs a few matrix products."""
    if not subs:
        return []
    spam_scores = (model or spam_model()).score_many(subs)
    offensive_scores = offensive.score_many([s.body for s in subs])
    return [Scores(spam=s, offensive=o) for s, o in zip(spam_scores, offensive_scores,
                                                         strict=True)]
