"""Recent-text index for near-duplicate detection: Redis in production, memory for dry runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

import redis

from worker.checks.similarity import MAX_DISTANCE, bands, near


@dataclass(frozen=True, slots=True)
class Posting:
    """One comment's fingerprint and where it came from (author as an opaque key)."""

    comment: str
    author: str
    article: str
    fingerprint: int

    def encode(self) -> str:
        return f"{self.comment}|{self.author}|{self.article}|{self.fingerprint:016x}"

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


@dataclass(frozen=True, slots=True)
class Entry:
    """Record `posting` in `scope` at time `at`; count near copies within `window` seconds."""

    scope: str
    posting: Posting
    at: float
    window: float


class RecentTexts(Protocol):
    def record_all(self, entries: list[Entry]) -> list[int]:
        """Store each posting in order; return, for each, how many near copies were posted in
        (at - window, at], counting those recorded before it in the same call."""


# A flood of one text puts every copy in the same band keys; reading only the newest copies
# keeps a decision's cost flat instead of growing with the flood (one copy already decides).
MAX_CANDIDATES_PER_BAND = 50

# For each band key: add the posting, drop postings older than the window, read the newest of
# the rest, keep the key a little longer than the window; one call instead of four commands per
# band. Only candidates within MAX_DISTANCE bits come back: a busy site's band keys hold hundreds
# of chance collisions per comment, and parsing them all in the worker cost more than deciding.
# Redis Lua numbers are doubles, so the 64-bit fingerprints are compared as two 32-bit halves.
RECORD_LUA = """
local posting, at, oldest, ttl, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local high, low, max_distance = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])

local function bits_apart(a, b, budget)
  local x, count = bit.bxor(a, b), 0
  while x ~= 0 and count <= budget do
    x = bit.band(x, x - 1)
    count = count + 1
  end
  return count
end

local function near(raw)
  -- encode() pads the fingerprint to 16 hex digits; anything unreadable goes to the worker.
  local other_high = tonumber(string.sub(raw, -16, -9), 16)
  local other_low = tonumber(string.sub(raw, -8), 16)
  if not (other_high and other_low) then return true end
  local apart = bits_apart(low, other_low, max_distance)
  return apart <= max_distance
    and apart + bits_apart(high, other_high, max_distance - apart) <= max_distance
end

local found, seen = {}, {}
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, at, posting)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', oldest)
  for _, raw in ipairs(redis.call('ZREVRANGEBYSCORE', key, at, oldest, 'LIMIT', 0, limit)) do
    if not seen[raw] then
      seen[raw] = true
      if near(raw) then table.insert(found, raw) end
    end
  end
  redis.call('EXPIRE', key, ttl)
end
return found
"""


class RedisRecentTexts:
    """One sorted set per (scope, band, band value); idempotent per comment id."""

    def __init__(self, client: redis.Redis, prefix: str = "vetted:nd:") -> None:
        self.client, self.prefix = client, prefix
        self._record = client.register_script(RECORD_LUA)

    def record_all(self, entries: list[Entry]) -> list[int]:
        return [count_copies(entry.posting, {Posting.decode(raw.decode()) for raw in raws})
                for entry, raws in zip(entries, self.near_candidates(entries), strict=True)]

    def near_candidates(self, entries: list[Entry]) -> list[list[bytes]]:
        """Record each posting; the encoded postings within reach of each, itself included.
        One round trip for the whole batch; the scripts run in order."""
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            fingerprint = entry.posting.fingerprint
            keys = [f"{self.prefix}{entry.scope}:{i}:{value:x}"
                    for i, value in enumerate(bands(fingerprint))]
            self._record(keys=keys, args=[entry.posting.encode(), repr(entry.at),
                                          repr(entry.at - entry.window), int(entry.window) + 1,
                                          MAX_CANDIDATES_PER_BAND, fingerprint >> 32,
                                          fingerprint & 0xFFFFFFFF, MAX_DISTANCE],
                         client=pipe)
        return pipe.execute()


class MemoryRecentTexts:
    """The same in a dict, so `vetted check` never reads or writes production state."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[Posting, float]] = defaultdict(dict)

    def record_all(self, entries: list[Entry]) -> list[int]:
        return [self.record(e.scope, e.posting, e.at, e.window) for e in entries]

    def record(self, scope: str, posting: Posting, at: float, window: float) -> int:
        candidates: set[Posting] = set()
        for i, value in enumerate(bands(posting.fingerprint)):
            bucket = self.buckets[f"{scope}:{i}:{value:x}"]
            bucket[posting] = at
            candidates.update(p for p, t in bucket.items() if at - window < t <= at)
        return count_copies(posting, candidates)
