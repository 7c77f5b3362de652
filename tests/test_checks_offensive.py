"""The offensive-language check: model probability, the site's word list, and only ever HOLD."""

from __future__ import annotations

import pytest
from profanity_check import predict_prob

from service.policy import SitePolicy
from worker.checks import Submission, Verdict
from worker.checks.offensive import check_offensive, find_listed_word, score_many

CLEAN = [
    "Thanks for the article, the part about the treaty was interesting.",
    "Great recipe, I used less sugar and it still turned out fine.",
    "Does anyone know whether the library opens on Sundays?",
]
OFFENSIVE = ["You are a fucking idiot", "shut up you stupid bitch"]


def test_scores_match_the_library() -> None:
    texts = CLEAN + OFFENSIVE + ["", "Ünïcödé ✓ 😀", "word " * 5000]
    assert score_many(texts) == pytest.approx(list(predict_prob(texts)), abs=1e-9)
    assert score_many([]) == []


def test_default_threshold_separates_clean_and_offensive() -> None:
    threshold = SitePolicy().offensive_threshold
    assert all(s < threshold for s in score_many(CLEAN))
    assert all(s >= threshold for s in score_many(OFFENSIVE))


@pytest.mark.parametrize(
    ("text", "words", "found"),
    [
        ("You absolute Muppet!", ["muppet"], "muppet"),
        ("MUPPETS everywhere", ["muppet"], None),  # whole words only
        ("a first-class answer", ["ass"], None),
        ("what an ass.", ["ass"], "ass"),
        ("Du Schweinehund", ["SCHWEINEHUND"], "schweinehund"),
        ("ты ДУРАК", ["дурак"], "дурак"),
        ("Ｍｕｐｐｅｔ", ["muppet"], "muppet"),  # full-width letters
        ("STRASSE", ["straße"], "strasse"),  # casefold
        ("go  back   home", ["go back home"], "go  back   home"),
        ("I love c++ so much", ["c++"], "c++"),
        ("abc", ["a.c"], None),  # regex characters are literal
        ("anything", [], None),
        ("anything", ["", "   "], None),
        ("", ["muppet"], None),
    ],
)
def test_find_listed_word(text: str, words: list[str], found: str | None) -> None:
    assert find_listed_word(text, words) == found


def test_model_hold() -> None:
    policy = SitePolicy(offensive_threshold=0.8)
    result = check_offensive(Submission("whatever"), 0.85, policy)
    assert (result.check, result.verdict, result.reason) == (
        "offensive",
        Verdict.HOLD,
        "offensive.model",
    )
    assert result.score == 0.85 and "0.85" in result.detail


def test_threshold_comes_from_the_policy() -> None:
    strict, lenient = SitePolicy(offensive_threshold=0.5), SitePolicy(offensive_threshold=0.9)
    assert check_offensive(Submission("x"), 0.6, strict).verdict is Verdict.HOLD
    assert check_offensive(Submission("x"), 0.6, lenient).verdict is Verdict.PASS


def test_wordlist_hold_in_body_and_name() -> None:
    policy = SitePolicy(offensive_words=["Muppet"])
    body = check_offensive(Submission("what a muppet"), 0.1, policy)
    name = check_offensive(Submission("hello", name="Big MUPPET"), 0.1, policy)
    assert (body.verdict, body.reason) == (Verdict.HOLD, "offensive.wordlist")
    assert (name.verdict, name.reason) == (Verdict.HOLD, "offensive.wordlist")
    assert "body" in body.detail and "name" in name.detail


def test_clean_comment_passes() -> None:
    result = check_offensive(Submission(CLEAN[0]), score_many(CLEAN[:1])[0], SitePolicy())
    assert (result.verdict, result.reason) == (Verdict.PASS, "offensive.ok")


@pytest.mark.parametrize(
    "sub",
    [
        Submission(""),
        Submission("You are a fucking idiot", name="muppet"),
        Submission("Ünïcödé ✓ 😀 日本語"),
        Submission("idiot " * 20_000),
    ],
    ids=["empty", "offensive", "unicode", "100KB"],
)
def test_never_rejects_or_marks_spam(sub: Submission) -> None:
    policy = SitePolicy(offensive_words=["muppet"])
    (score,) = score_many([sub.body])
    assert check_offensive(sub, score, policy).verdict in (Verdict.PASS, Verdict.HOLD)
