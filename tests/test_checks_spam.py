"""The spam check: metadata signals, the shipped model, thresholds and learning from moderators."""

from __future__ import annotations

import math
from pathlib import Path

import joblib
import pytest

from service.policy import SitePolicy
from worker.checks import Submission, Verdict
from worker.checks.spam import (
    DEFAULT_MODEL_PATH,
    SIGNALS,
    SpamModel,
    check_spam,
    learn,
    load_default,
    metadata_features,
)

# The thresholds recommended for SitePolicy (measured leave-one-video-out in bench/spam_eval.py).
RECOMMENDED = SitePolicy(spam_threshold=0.9, review_threshold=0.2)
OBVIOUS_SPAM = "CHECK OUT MY CHANNEL!!! subscribe http://bit.ly/xyz"
ORDINARY = "Thanks for the article, the part about the treaty was interesting."


def signal(sub: Submission, name: str) -> float:
    return metadata_features(sub)[SIGNALS.index(name)]


@pytest.fixture(scope="module")
def model() -> SpamModel:
    return load_default()


# --- metadata signals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sub", "name", "expected"),
    [
        (Submission("see http://a.example.com and www.b.org/x"), "links", True),
        (Submission("no links here, just words."), "links", False),
        (Submission("visit http://a.com and http://b.net"), "several domains", True),
        (Submission("http://a.com/1 and http://a.com/2"), "several domains", False),
        (Submission("go to https://bit.ly/abc"), "link shortener", True),
        (Submission("go to https://example.com/abc"), "link shortener", False),
        (Submission("find us at example-coin dot biz"), "obfuscated link", True),
        (Submission("find us at site[.]com now"), "obfuscated link", True),
        (Submission("the dot is on the i"), "obfuscated link", False),
        (Submission("hi", name="Cheap pills www.pills.ru"), "link in name", True),
        (Submission("hi", name="Anna Smith"), "link in name", False),
        (Submission("hi", url="https://anna.example.org"), "website given", True),
        (Submission("THIS IS THE BEST OFFER EVER SEEN"), "shouting", True),
        (Submission("This is the best song, LOL."), "shouting", False),
        (Submission("wowwwwwww!!!!!!"), "repeated characters", True),
        (Submission("call +1 (555) 123-4567 now"), "phone number", True),
        (Submission("it happened in 2019 and 2020"), "phone number", False),
        (Submission("Please subscribe and check out my channel"), "call to action", True),
        (Submission("I subscribe to the newspaper's view."), "call to action", True),
        (Submission("The treaty was signed in 1648."), "call to action", False),
        (Submission("hi", email="bob@mailinator.com"), "disposable email", True),
        (Submission("hi", email="bob@example.org"), "disposable email", False),
        (Submission("hi", email="bob19871234@example.org"), "digits in email", True),
    ],
)
def test_metadata_signal(sub: Submission, name: str, expected: bool) -> None:
    assert (signal(sub, name) > 0) is expected


@pytest.mark.parametrize(
    "sub",
    [
        Submission(""),
        Submission("", name="", email="", url=""),
        Submission("Ünïcödé ✓ 日本語のコメント 😀 ‮reversed‬"),
        Submission("x" * 100_000),
        Submission("http://a.com " * 5_000 + "!" * 10_000),
        Submission("no-at-sign", email="not an email"),
    ],
    ids=["empty", "all-empty", "unicode", "100KB", "100KB-links", "bad-email"],
)
def test_metadata_features_are_bounded(sub: Submission) -> None:
    values = metadata_features(sub)
    assert len(values) == len(SIGNALS)
    assert all(0.0 <= v <= 1.0 for v in values)


# --- the shipped model --------------------------------------------------------------------------


def test_shipped_artifact_is_small_and_cached(model: SpamModel) -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    assert load_default() is model


def test_shipped_model_separates_obvious_cases(model: SpamModel) -> None:
    spam, ordinary = model.score_many([Submission(OBVIOUS_SPAM), Submission(ORDINARY)])
    for policy in (SitePolicy(), RECOMMENDED):
        assert spam >= policy.spam_threshold
        assert ordinary < policy.review_threshold


@pytest.mark.parametrize(
    "body",
    [
        "Subscribe to my channel for free iPhone giveaway!!! http://bit.ly/free-phone",
        "Make $3000 a week from home, visit www.easy-money-now.com",
        "Check out my new video, please like and share and subscribe!",
    ],
)
def test_typical_spam_reaches_review(model: SpamModel, body: str) -> None:
    assert model.score(Submission(body)) >= RECOMMENDED.review_threshold


@pytest.mark.parametrize(
    "body",
    [
        "I disagree with the author: the council vote was in March, not April.",
        "Does anyone know whether the library opens on Sundays?",
        "The second chart is mislabelled, the y axis should be percent.",
        "lol",
        "",
    ],
)
def test_ordinary_comments_pass(model: SpamModel, body: str) -> None:
    assert model.score(Submission(body, name="Anna Smith")) < RECOMMENDED.review_threshold


def test_score_many_matches_single_scores(model: SpamModel) -> None:
    subs = [Submission(OBVIOUS_SPAM), Submission(ORDINARY), Submission("日本語 ✓", name="名前")]
    batched = model.score_many(subs)
    assert batched == pytest.approx([model.score(s) for s in subs])
    assert model.score_many([]) == []


@pytest.mark.parametrize("body", ["", "ok", "Ünïcödé ✓ 😀", "word " * 20_000])
def test_scores_are_probabilities(model: SpamModel, body: str) -> None:
    score = model.score(Submission(body, name="n", email="e@example.org", url="http://x.org"))
    assert 0.0 <= score <= 1.0 and not math.isnan(score)


def test_save_and_load_round_trip(model: SpamModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "nested" / "copy.joblib")
    again = SpamModel.load(path)
    subs = [Submission(OBVIOUS_SPAM), Submission(ORDINARY)]
    assert again.score_many(subs) == pytest.approx(model.score_many(subs))
    assert len(again.rehearsal) == len(model.rehearsal) > 0


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.joblib"
    joblib.dump({"version": "something-else"}, path)
    with pytest.raises(ValueError, match="spam-v1"):
        SpamModel.load(path)


# --- check_spam and thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "spam_t", "review_t", "verdict", "reason"),
    [
        (0.95, 0.9, 0.5, Verdict.SPAM, "spam.model"),
        (0.90, 0.9, 0.5, Verdict.SPAM, "spam.model"),
        (0.89, 0.9, 0.5, Verdict.HOLD, "spam.model_review"),
        (0.50, 0.9, 0.5, Verdict.HOLD, "spam.model_review"),
        (0.49, 0.9, 0.5, Verdict.PASS, "spam.ok"),
        (0.95, 0.99, 0.97, Verdict.PASS, "spam.ok"),
        (0.30, 0.99, 0.2, Verdict.HOLD, "spam.model_review"),
        (0.0, 0.9, 0.0, Verdict.HOLD, "spam.model_review"),
    ],
)
def test_check_spam_respects_site_thresholds(
    score: float, spam_t: float, review_t: float, verdict: Verdict, reason: str
) -> None:
    policy = SitePolicy(spam_threshold=spam_t, review_threshold=review_t)
    result = check_spam(Submission("whatever"), score, policy)
    assert (result.check, result.verdict, result.reason, result.score) == (
        "spam",
        verdict,
        reason,
        score,
    )
    assert f"{score:.2f}" in result.detail


def test_check_spam_detail_names_signals(model: SpamModel) -> None:
    sub = Submission(OBVIOUS_SPAM)
    result = check_spam(sub, model.score(sub), SitePolicy(), model)
    assert result.verdict is Verdict.SPAM
    assert "call to action" in result.detail or "link shortener" in result.detail
    quiet = check_spam(Submission(ORDINARY), 0.01, SitePolicy(), model)
    assert quiet.detail == "spam model probability 0.01"


# --- learning from moderators -------------------------------------------------------------------

NOVEL_SPAM = [
    "Crypto doubling at example-coin dot biz: send 0.1 eth, get 0.2 back",
    "Double your crypto today at example-coin dot biz, guaranteed",
    "example-coin dot biz doubles any crypto you send, totally legit",
    "Crypto doubling event live now at example-coin dot biz",
]
NOVEL_PROBE = Submission("Legit crypto doubling at example-coin dot biz, try it now", name="Kim")


def test_moderator_spam_decisions_teach_a_new_pattern(model: SpamModel) -> None:
    before = model.score(NOVEL_PROBE)
    assert before < RECOMMENDED.review_threshold
    updated = learn(model, [(Submission(body, name="Jo"), True) for body in NOVEL_SPAM])
    assert updated.score(NOVEL_PROBE) >= SitePolicy().review_threshold
    assert updated.score(NOVEL_PROBE) >= RECOMMENDED.review_threshold
    # The lesson is specific: ordinary comments and the shipped model stay as they were.
    assert updated.score(Submission(ORDINARY)) < RECOMMENDED.review_threshold
    assert model.score(NOVEL_PROBE) == pytest.approx(before)
    assert updated.info["learned_examples"] == len(NOVEL_SPAM)


def test_moderator_ham_decisions_lower_similar_scores(model: SpamModel) -> None:
    ham = [
        "I tried this on Ubuntu 24.04 and had to install libssl-dev first, "
        "see https://askubuntu.com/q/123 for details.",
        "The fix is in https://github.com/pallets/flask/pull/5000, released in 3.0.1.",
        "Docs for this are at https://docs.python.org/3/library/re.html if anyone needs them.",
    ]
    probe = Submission("Same problem on Debian, the answer at https://askubuntu.com/q/456 helped.")
    before = model.score(probe)
    assert before >= RECOMMENDED.review_threshold  # links were nearly all spam in training
    updated = learn(model, [(Submission(body), False) for body in ham])
    assert updated.score(probe) < min(before, RECOMMENDED.spam_threshold)
    assert updated.score(Submission(OBVIOUS_SPAM)) >= RECOMMENDED.spam_threshold


def test_learn_survives_a_save_and_load(model: SpamModel, tmp_path: Path) -> None:
    updated = learn(model, [(Submission(body), True) for body in NOVEL_SPAM])
    again = SpamModel.load(updated.save(tmp_path / "learned.joblib"))
    assert again.score(NOVEL_PROBE) == pytest.approx(updated.score(NOVEL_PROBE))
    assert learn(again, []) is again
