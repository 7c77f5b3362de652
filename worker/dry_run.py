"""`vetted check`: the whole pipeline on records that are never stored, with private state."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from service.policy import SitePolicy
from service.rendering import body_fingerprint, clean_text
from worker import scoring
from worker.checks import Submission
from worker.checks.history import History
from worker.checks.similarity import simhash
from worker.checks.spam import SpamModel
from worker.neardup import MemoryRecentTexts, Posting
from worker.pipeline import Decision, evaluate
from worker.windows import MemoryWindows

VERDICT_FOR_STATUS = {"approved": "approve", "review": "review", "rejected": "reject",
                      "spam": "spam"}
BATCH = 512


class BadRecord(ValueError):
    """A line that is not a JSON object with a non-empty "body"."""


def parse_record(line: str) -> Submission:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise BadRecord(f"not JSON: {error.msg}") from None
    if not isinstance(record, dict):
        raise BadRecord("not a JSON object")
    fields: dict[str, str] = {}
    for name in ("body", "name", "email", "url", "article", "ip", "hp"):
        value = record.get(name) or ""
        if not isinstance(value, str | int | float):
            raise BadRecord(f"{name} must be a string")
        fields[name] = clean_text(str(value))
    if not fields["body"]:
        raise BadRecord("body is required")
    return Submission(body=fields["body"], name=fields["name"], email=fields["email"].lower(),
                      url=fields["url"], article=fields["article"], ip=fields["ip"],
                      honeypot=fields["hp"])


@dataclass
class DryRunState:
    """What a production run would keep in the database and Redis, kept in memory instead."""

    windows: MemoryWindows = field(default_factory=MemoryWindows)
    texts: MemoryRecentTexts = field(default_factory=MemoryRecentTexts)
    seen: dict[tuple[str, str, str], int] = field(default_factory=dict)
    clock: float = field(default_factory=time.time)

    def history(self, index: int, sub: Submission, policy: SitePolicy) -> History:
        author = sub.email or sub.name or f"anonymous-{index}"
        key = (author, sub.article, body_fingerprint(sub.body))
        duplicate = self.seen.setdefault(key, index)
        near = 0
        if (fingerprint := simhash(sub.body)) is not None:
            posting = Posting(str(index), author, sub.article, fingerprint)
            near = self.texts.record("dry-run", posting, self.clock,
                                     policy.near_duplicate_window_seconds)
        window = policy.flood_window_seconds
        from_ip = self.windows.record(f"ip:{sub.ip}", str(index), self.clock, window) \
            if sub.ip else 0
        from_email = self.windows.record(f"email:{sub.email}", str(index), self.clock, window) \
            if sub.email else 0
        return History(
            exact_duplicate_of=duplicate if duplicate != index and sub.email else None,
            recent_from_ip=from_ip,
            recent_from_email=from_email,
            near_duplicates=near,
        )


def result_line(decision: Decision) -> dict[str, Any]:
    return {
        "verdict": VERDICT_FOR_STATUS[decision.status.value],
        "reason": decision.reason,
        "checks": [
            {"check": r.check, "verdict": r.verdict.label, "reason": r.reason,
             "detail": r.detail, "score": None if r.score is None else round(r.score, 4)}
            for r in decision.results
        ],
    }


def check_lines(lines: Iterable[str], policy: SitePolicy, state: DryRunState | None = None,
                model: SpamModel | None = None) -> Iterator[dict[str, Any]]:
    """One result per input line, in order; models score each batch of lines at once."""
    state = state or DryRunState()
    model = model or scoring.spam_model()
    numbered = ((n, line) for n, line in enumerate(lines, 1) if line.strip())
    while batch := list(itertools.islice(numbered, BATCH)):
        parsed: list[tuple[int, Submission | BadRecord]] = []
        for n, line in batch:
            try:
                parsed.append((n, parse_record(line)))
            except BadRecord as error:
                parsed.append((n, error))
        subs = [s for _, s in parsed if isinstance(s, Submission)]
        scores = iter(scoring.score_batch(subs, model))
        for n, sub in parsed:
            if isinstance(sub, BadRecord):
                yield {"line": n, "verdict": None, "error": str(sub)}
                continue
            history = state.history(n, sub, policy)
            yield result_line(evaluate(sub, policy, history, next(scores), spam_model=model))
