"""Checks that need what happened before: exact duplicates and floods from one IP or email."""

from __future__ import annotations

from dataclasses import dataclass

from service.policy import SitePolicy
from worker.checks import CheckResult, Verdict, passed


@dataclass(frozen=True, slots=True)
class History:
    """Facts about earlier comments, gathered by the pipeline so the checks stay pure."""

    exact_duplicate_of: int | None = None
    recent_from_ip: int = 0
    recent_from_email: int = 0
    near_duplicates: int = 0
    author_approved: int = 0
    author_spam: int = 0


def check_duplicate(history: History) -> CheckResult:
    if history.exact_duplicate_of is not None:
        return CheckResult("duplicate", Verdict.REJECT, "duplicate.exact",
                           f"same author already posted this text here "
                           f"(comment {history.exact_duplicate_of})")
    if history.near_duplicates:
        return CheckResult("duplicate", Verdict.SPAM, "duplicate.near",
                           f"nearly the same text was posted {history.near_duplicates} times "
                           "elsewhere recently", float(history.near_duplicates))
    return passed("duplicate")


def check_flood(history: History, policy: SitePolicy) -> CheckResult:
    """Reads policy.flood_max and policy.flood_window_seconds."""
    window = policy.flood_window_seconds
    for reason, what, count in (("flood.ip", "this IP", history.recent_from_ip),
                                ("flood.email", "this email", history.recent_from_email)):
        if count > policy.flood_max:
            return CheckResult("flood", Verdict.HOLD, reason,
                               f"{count} comments from {what} in {window} s "
                               f"(the site allows {policy.flood_max})", float(count))
    return passed("flood")
