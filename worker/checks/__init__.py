"""Check primitives shared by every check: pure data in, a verdict out (no Flask, no DB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Verdict(IntEnum):
    """Ordered by strength so that max() picks the winner (spam > reject > hold > pass)."""

    PASS = 0
    HOLD = 1
    REJECT = 2
    SPAM = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Submission:
    """What a reader sent, as the checks see it."""

    body: str
    name: str = ""
    email: str = ""
    url: str = ""
    article: str = ""
    ip: str = ""
    honeypot: str = ""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's answer: a stable reason code for machines and a short detail for people."""

    check: str
    verdict: Verdict
    reason: str
    detail: str = ""
    score: float | None = None
    duration_ms: float = field(default=0.0, compare=False)


def passed(check: str, detail: str = "", score: float | None = None) -> CheckResult:
    return CheckResult(check, Verdict.PASS, f"{check}.ok", detail, score)
