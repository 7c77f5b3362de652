"""Sliding-window counters for flood checks: Redis in production, memory for dry runs."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

import redis


class WindowCounter(Protocol):
    def record(self, key: str, member: str, at: float, window: float) -> int:
        """Add member at time `at`; return how many members fall in (at - window, at]."""


class RedisWindows:
    """Sorted sets keyed by comment id, so a redelivered task does not count twice."""

    def __init__(self, client: redis.Redis, prefix: str = "vetted:flood:") -> None:
        self.client, self.prefix = client, prefix

    def record(self, key: str, member: str, at: float, window: float) -> int:
        name = self.prefix + key
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(name, {member: at})
        pipe.zremrangebyscore(name, "-inf", at - window * 2)
        pipe.zcount(name, f"({at - window}", at)
        pipe.expire(name, int(window * 2) + 1)
        return int(pipe.execute()[2])


class MemoryWindows:
    """The same counting in a dict, for `vetted check` so dry runs never touch production state."""

    def __init__(self) -> None:
        self.members: dict[str, dict[str, float]] = defaultdict(dict)

    def record(self, key: str, member: str, at: float, window: float) -> int:
        entries = self.members[key]
        entries[member] = at
        return sum(1 for t in entries.values() if at - window < t <= at)
