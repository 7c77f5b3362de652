"""The pure pipeline: each simple check, how verdicts combine, review-all, trusted authors."""

from __future__ import annotations

import pytest

from service.models import Status
from service.policy import SitePolicy
from worker.checks import Submission, Verdict
from worker.checks.history import History, check_duplicate, check_flood
from worker.checks.honeypot import check_honeypot
from worker.checks.links import check_links, count_links
from worker.checks.lists import check_blocklist, check_moderation_keys
from worker.pipeline import Scores, evaluate

CLEAN = Submission(body="I disagree with the author about the tariffs.", name="Asha",
                   email="asha@example.org", ip="203.0.113.5")


def sub(**changes) -> Submission:
    fields = {"body": CLEAN.body, "name": CLEAN.name, "email": CLEAN.email, "ip": CLEAN.ip}
    fields.update(changes)
    return Submission(**fields)


@pytest.mark.parametrize(("honeypot", "verdict"), [("", Verdict.PASS), ("  ", Verdict.PASS),
                                                   ("x", Verdict.SPAM)])
def test_honeypot(honeypot, verdict):
    assert check_honeypot(sub(honeypot=honeypot)).verdict is verdict


@pytest.mark.parametrize(
    ("body", "url", "links"),
    [("no links here", "", 0), ("see https://a.example/x", "", 1),
     ("www.a.example and http://b.example", "https://me.example", 3),
     ("ünïcode https://ä.example/ö", "", 1), ("", "", 0), ("x" * 100_000, "", 0)],
)
def test_count_links(body, url, links):
    assert count_links(sub(body=body, url=url)) == links


def test_links_over_the_site_limit_are_held():
    policy = SitePolicy(max_links=1)
    assert check_links(sub(body="https://a.example"), policy).verdict is Verdict.PASS
    held = check_links(sub(body="https://a.example https://b.example"), policy)
    assert held.verdict is Verdict.HOLD and held.reason == "links.too_many"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"email": "bot@Spam.example"}, "blocklist.email"), ({"ip": "198.51.100.7"}, "blocklist.ip"),
     ({"body": "Buy CHEAP pills"}, "blocklist.body"), ({"name": "cheap pills"}, "blocklist.name"),
     ({"url": "https://spam.example/x"}, "blocklist.url")],
)
def test_blocklist_matches_every_field_case_insensitively(changes, reason):
    policy = SitePolicy(blocklist=["spam.example", "198.51.100.", "cheap pills", " "])
    result = check_blocklist(sub(**changes), policy)
    assert (result.verdict, result.reason) == (Verdict.SPAM, reason)
    assert check_blocklist(CLEAN, policy).verdict is Verdict.PASS


def test_moderation_keys_hold():
    policy = SitePolicy(moderation_keys=["tariff"])
    result = check_moderation_keys(CLEAN, policy)
    assert (result.verdict, result.reason) == (Verdict.HOLD, "moderation_keys.body")
    assert check_moderation_keys(CLEAN, SitePolicy()).verdict is Verdict.PASS


def test_duplicates_and_floods():
    assert check_duplicate(History(exact_duplicate_of=7)).reason == "duplicate.exact"
    assert check_duplicate(History(near_duplicates=2)).verdict is Verdict.SPAM
    assert check_duplicate(History()).verdict is Verdict.PASS
    policy = SitePolicy(flood_max=3)
    assert check_flood(History(recent_from_ip=3), policy).verdict is Verdict.PASS
    assert check_flood(History(recent_from_ip=4), policy).reason == "flood.ip"
    assert check_flood(History(recent_from_email=9), policy).reason == "flood.email"


def test_strongest_verdict_wins():
    policy = SitePolicy(blocklist=["asha"], max_links=0)
    decision = evaluate(sub(body="see https://a.example"), policy, History(), Scores())
    assert decision.status is Status.SPAM and decision.reason == "blocklist.name"
    assert {r.verdict for r in decision.results} == {Verdict.PASS, Verdict.HOLD, Verdict.SPAM}
    assert all(r.duration_ms >= 0 for r in decision.results)


def test_clean_comment_is_approved_and_review_all_holds_it():
    assert evaluate(CLEAN, SitePolicy(), History(), Scores()).status is Status.APPROVED
    held = evaluate(CLEAN, SitePolicy(review_all=True), History(), Scores())
    assert (held.status, held.reason) == (Status.REVIEW, "site.review_all")


def test_model_scores_map_to_site_thresholds():
    policy = SitePolicy(spam_threshold=0.8, review_threshold=0.4)
    assert evaluate(CLEAN, policy, History(), Scores(spam=0.85)).status is Status.SPAM
    assert evaluate(CLEAN, policy, History(), Scores(spam=0.5)).status is Status.REVIEW
    assert evaluate(CLEAN, policy, History(), Scores(spam=0.3)).status is Status.APPROVED
    offensive = evaluate(CLEAN, policy, History(), Scores(spam=0.1, offensive=0.95))
    assert (offensive.status, offensive.reason) == (Status.REVIEW, "offensive.model")


def test_trusted_author_skips_soft_holds_only():
    policy = SitePolicy(max_links=0, trusted_after=3)
    linked = sub(body="source: https://stats.example.gov/trade")
    trusted = History(author_approved=3)
    assert evaluate(linked, policy, History(author_approved=2), Scores()).status is Status.REVIEW
    decision = evaluate(linked, policy, trusted, Scores())
    assert (decision.status, decision.reason) == (Status.APPROVED, "author.trusted")
    # Once they had spam, or for a hard signal, trust does not apply.
    assert evaluate(linked, policy, History(author_approved=5, author_spam=1),
                    Scores()).status is Status.REVIEW
    assert evaluate(CLEAN, policy, trusted, Scores(offensive=0.99)).status is Status.REVIEW
    assert evaluate(CLEAN, SitePolicy(review_all=True), trusted,
                    Scores()).status is Status.REVIEW


def test_policy_rejects_inverted_thresholds():
    with pytest.raises(ValueError, match="review_threshold"):
        SitePolicy(spam_threshold=0.3, review_threshold=0.6)
