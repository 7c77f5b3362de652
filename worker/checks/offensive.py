"""Offensive-language check: alt-profanity-check's probability plus the site's own word list.

Pure module (no Flask, no DB). It only ever holds a comment for a moderator; it never rejects.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from worker.checks import CheckResult, Submission, Verdict

if TYPE_CHECKING:
    from service.policy import SitePolicy

CHECK = "offensive"


def load() -> None:
    """Read the model now rather than on the first comment."""
    _predict_prob()


@lru_cache(maxsize=1)
def _predict_prob() -> Callable[[list[str]], Sequence[float]]:
    """alt-profanity-check's scorer, loaded once per process (importing it reads its model)."""
    from profanity_check import profanity_check

    fast = _linear_scorer(profanity_check.vectorizer, profanity_check.model)
    return fast or profanity_check.predict_prob


def _linear_scorer(vectorizer: Any, model: Any) -> Callable[[list[str]], Sequence[float]] | None:
    """The same probabilities as `model.predict_proba` for sigmoid-calibrated linear models,
    as one matrix product: sklearn's per-call overhead made single comments cost ~6 ms."""
    try:
        pairs = model.calibrated_classifiers_
        if model.method != "sigmoid" or list(model.classes_) != [0, 1]:
            return None
        weights = np.column_stack([p.estimator.coef_.ravel() for p in pairs])
        offsets = np.array([float(p.estimator.intercept_[0]) for p in pairs])
        slopes = np.array([float(p.calibrators[0].a_) for p in pairs])
        biases = np.array([float(p.calibrators[0].b_) for p in pairs])
    except (AttributeError, IndexError, TypeError):
        return None  # another model layout: use the library's own predict_prob

    def predict(texts: list[str]) -> Sequence[float]:
        decisions = vectorizer.transform(texts) @ weights + offsets
        return expit(-(slopes * decisions + biases)).mean(axis=1)

    return predict


def score_many(texts: Sequence[str]) -> list[float]:
    """Offensive-language probability per text, in one batched call."""
    if not texts:
        return []
    return [float(p) for p in _predict_prob()(list(texts))]


def _fold(text: str) -> str:
    # NFKC maps full-width letters and ligatures to plain ones; casefold ignores case.
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=256)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for a site's list; whole words only, so "ass" does not match "class"."""
    alternatives = sorted(
        {r"\s+".join(map(re.escape, _fold(w).split())) for w in words if w.strip()},
        key=len,
        reverse=True,
    )
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def find_listed_word(text: str, words: Sequence[str]) -> str | None:
    """The first word from `words` found in `text` as a whole word, case-insensitively."""
    pattern = _word_pattern(tuple(words))
    if pattern is None:
        return None
    match = pattern.search(_fold(text))
    return match.group() if match else None


def check_offensive(sub: Submission, score: float, policy: SitePolicy) -> CheckResult:
    """Hold for review when the model is confident (option: offensive_threshold) or when the
    body or name contains a word from the site's list (option: offensive_words)."""
    if score >= policy.offensive_threshold:
        detail = f"offensive-language probability {score:.2f}"
        return CheckResult(CHECK, Verdict.HOLD, "offensive.model", detail, score)
    for field_name, text in (("body", sub.body), ("name", sub.name)):
        word = find_listed_word(text, policy.offensive_words)
        if word is not None:
            detail = f"{field_name} contains {word!r} from the site's offensive word list"
            return CheckResult(CHECK, Verdict.HOLD, "offensive.wordlist", detail, score)
    detail = f"offensive-language probability {score:.2f}"
    return CheckResult(CHECK, Verdict.PASS, "offensive.ok", detail, score)
