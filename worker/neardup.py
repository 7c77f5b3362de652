"""Recent-text index for near-duplicate detection: Redis in production, memory for dry runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

import redis

from worker.checks.similarity import bands, near


@dataclass(frozen=True, slots=True)
class Posting:
    """One comment's fingerprint and where it came from (author as an opaque key)."""

    comment: str
    author: str
    article: str
    fingerprint: int

    def encode(self) -> str:
        return f"{self.comment}|{self.author}|{self.article}|{self.fingerprint:x}"

    @classmethod
    def decode(cls, raw: str) -> Posting:
        comment, author, article, fingerprint = raw.rsplit("|", 3)
        return cls(comment, author, article, int(fingerprint, 16))


def count_copies(posting: Posting, candidates: set[Posting]) -> int:
    """Earlier near-identical postings by another author or on another article."""
    return sum(
        1 for other in candidates
        if other.comment != posting.comment
        and (other.author != posting.author or other.article != posting.article)
        and near(other.fingerprint, posting.fingerprint)
    )


class RecentTexts(Protocol):
    def record(self, scope: str, posting: Posting, at: float, window: float) -> int:
        """Store the posting; return how many near copies were posted in (at - window, at]."""


# For each band key: add the posting, drop postings older than the window, read the rest,
# keep the key a little longer than the window. One call instead of four commands per band.
RECORD_LUA = """
local postings = {}
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
  for _, raw in ipairs(redis.call('ZRANGEBYSCORE', key, ARGV[3], ARGV[2])) do
    table.insert(postings, raw)
  end
  redis.call('EXPIRE', key, ARGV[4])
end
return postings
"""


class RedisRecentTexts:
    """One sorted set per (scope, band, band value); idempotent per comment id."""

    def __init__(self, client: redis.Redis, prefix: str = "vetted:nd:") -> None:
        self.client, self.prefix = client, prefix
        self._record = client.register_script(RECORD_LUA)

    def record(self, scope: str, posting: Posting, at: float, window: float) -> int:
        keys = [f"{self.prefix}{scope}:{i}:{value:x}"
                for i, value in enumerate(bands(posting.fingerprint))]
        raws = self._record(keys=keys, args=[posting.encode(), repr(at), repr(at - window),
                                             int(window) + 1])
        candidates = {Posting.decode(raw.decode()) for raw in raws}
        return count_copies(posting, candidates)


class MemoryRecentTexts:
    """The same in a dict, so `vetted check` never reads or writes production state."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[Posting, float]] = defaultdict(dict)

    def record(self, scope: str, posting: Posting, at: float, window: float) -> int:
        candidates: set[Posting] = set()
        for i, value in enumerate(bands(posting.fingerprint)):
            bucket = self.buckets[f"{scope}:{i}:{value:x}"]
            bucket[posting] = at
            candidates.update(p for p, t in bucket.items() if at - window < t <= at)
        return count_copies(posting, candidates)
