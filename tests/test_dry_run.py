"""`vetted check`: whole pipeline on JSON lines, nothing stored, one line out per line in."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from service.cli import cli
from service.db import db
from service.models import Comment
from service.sites import update_policy

LINES = [
    {"body": "I disagree with the author about the tariffs; the 2019 figures differ."},
    {"body": "CHECK OUT MY CHANNEL!!! subscribe http://bit.ly/xyz", "name": "Music Promo"},
    {"body": "see https://a.example https://b.example https://c.example https://d.example "
             "for the sources on tariffs and trade", "email": "a@example.org"},
    {"body": "I disagree with the author about the tariffs; the 2019 figures differ.",
     "email": "", "hp": "filled by a bot"},
]


def run(runner, lines, *args):
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return runner.invoke(cli, args=["check", "--jsonl", "-", *args], input=text + "\n")


def test_prints_one_verdict_per_line_with_checks(app, runner):
    result = run(runner, LINES)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["verdict"] for o in out] == ["approve", "spam", "review", "spam"]
    assert out[1]["reason"] == "spam.model"
    assert out[3]["reason"] == "honeypot.filled"
    for o in out:
        names = {c["check"] for c in o["checks"]}
        assert {"honeypot", "links", "spam", "offensive", "duplicate"} <= names
        assert all({"check", "verdict", "reason", "detail", "score"} <= set(c)
                   for c in o["checks"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_copies_across_authors_are_spam_and_repeats_by_one_author_rejected(runner):
    body = "Earn money fast from home with this one simple trick that banks hate, ask me how"
    lines = [{"body": body, "email": "a@x.example", "article": "/1"},
             {"body": body, "email": "b@x.example", "article": "/2"},
             {"body": body, "email": "a@x.example", "article": "/1"}]
    out = [json.loads(line) for line in run(runner, lines).output.splitlines()]
    assert out[1]["verdict"] == "spam" and "duplicate.near" in json.dumps(out[1]["checks"])
    assert out[2]["verdict"] in ("reject", "spam")
    assert "duplicate.exact" in json.dumps(out[2]["checks"])


def test_site_policy_is_used(app, site, runner):
    with app.app_context():
        update_policy(db.session.merge(site), {"review_all": True}, "test")
    out = json.loads(run(runner, LINES[:1], "--site", "news").output)
    assert out["verdict"] == "review" and out["reason"] == "site.review_all"
    assert run(runner, LINES[:1], "--site", "missing").exit_code != 0


def test_bad_lines_are_reported_in_place(runner):
    result = run(runner, ["{not json", json.dumps({"name": "no body"}), json.dumps(LINES[0]),
                          "[1, 2]", json.dumps({"body": {"nested": 1}})])
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("error") is not None for o in out] == [True, True, False, True, True]
    assert out[2]["verdict"] == "approve"


def test_unicode_and_long_input(runner):
    lines = [{"body": "Très bien écrit — merci! 👍 " * 10}, {"body": "x" * 100_000},
             {"body": "\u202eevil\u200b text that is long enough to fingerprint, really it is"}]
    result = run(runner, lines)
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 3
