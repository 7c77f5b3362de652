"""Runs the checks in order, combines their verdicts and records the decision."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from service.models import Status
from service.policy import SitePolicy
from worker.checks import CheckResult, Submission, Verdict
from worker.checks.history import History, check_duplicate, check_flood
from worker.checks.honeypot import check_honeypot
from worker.checks.links import check_links
from worker.checks.lists import check_blocklist, check_moderation_keys
from worker.checks.offensive import check_offensive
from worker.checks.spam import SpamModel, check_spam

log = logging.getLogger(__name__)

STATUS_FOR = {
    Verdict.PASS: Status.APPROVED,
    Verdict.HOLD: Status.REVIEW,
    Verdict.REJECT: Status.REJECTED,
    Verdict.SPAM: Status.SPAM,
}
# Holds a trusted author is forgiven: signals of style, not of abuse.
SOFT_REASONS = frozenset({"links.too_many", "spam.model_review"})


@dataclass(frozen=True, slots=True)
class Scores:
    """Model probabilities, computed in batches before the per-comment checks run."""

    spam: float | None = None
    offensive: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reason: str
    results: list[CheckResult]


def _timed(check: Callable[[], CheckResult]) -> CheckResult:
    start = time.perf_counter()
    r = check()
    # Built directly: dataclasses.replace costs more than most checks on this hot path.
    return CheckResult(r.check, r.verdict, r.reason, r.detail, r.score,
                       (time.perf_counter() - start) * 1000)


def run_checks(
    sub: Submission,
    policy: SitePolicy,
    history: History,
    scores: Scores,
    *,
    flood: bool = True,
    spam_model: SpamModel | None = None,
) -> list[CheckResult]:
    """Every check on one comment, cheapest and most certain first."""
    checks: list[Callable[[], CheckResult]] = [
        lambda: check_honeypot(sub),
        lambda: check_blocklist(sub, policy),
        lambda: check_duplicate(history),
        lambda: check_moderation_keys(sub, policy),
        lambda: check_links(sub, policy),
    ]
    if flood:
        checks.append(lambda: check_flood(history, policy))
    if scores.spam is not None:
        checks.append(lambda: check_spam(sub, scores.spam, policy, spam_model))
    if scores.offensive is not None:
        checks.append(lambda: check_offensive(sub, scores.offensive, policy))
    return [_timed(check) for check in checks]


def decide(results: list[CheckResult], policy: SitePolicy, history: History) -> Decision:
    """The strongest verdict wins; review_all and trusted authors adjust the outcome."""
    strongest = max(results, key=lambda r: r.verdict)
    status, reason = STATUS_FOR[strongest.verdict], strongest.reason
    if strongest.verdict is Verdict.PASS:
        reason = "checks.passed"
    if status is Status.REVIEW and _trusted(results, policy, history):
        status, reason = Status.APPROVED, "author.trusted"
    if status is Status.APPROVED and policy.review_all:
        status, reason = Status.REVIEW, "site.review_all"
    return Decision(status, reason, results)


def _trusted(results: list[CheckResult], policy: SitePolicy, history: History) -> bool:
    held = {r.reason for r in results if r.verdict is Verdict.HOLD}
    return (
        held <= SOFT_REASONS
        and history.author_approved >= policy.trusted_after
        and history.author_spam == 0
    )


def evaluate(
    sub: Submission,
    policy: SitePolicy,
    history: History,
    scores: Scores,
    *,
    flood: bool = True,
    spam_model: SpamModel | None = None,
) -> Decision:
    results = run_checks(sub, policy, history, scores, flood=flood, spam_model=spam_model)
    return decide(results, policy, history)
