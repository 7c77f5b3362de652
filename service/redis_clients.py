"""One pooled Redis client per process and URL, with short timeouts: a Redis outage must cost a
caller a second or two, never hang it."""

from __future__ import annotations

import functools

import redis


@functools.cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
