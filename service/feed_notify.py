"""What follows a published change: wake long-polling consumers and plan webhook deliveries.

Wake-ups travel over Redis pub/sub (one channel per site), published after the commit so a
woken consumer always finds the event. Without Redis, waiters poll the database instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis
from flask import current_app

from service import thread_cache, webhooks
from service.after_commit import call_after_commit
from service.db import db
from service.models import Comment
from service.redis_clients import redis_client

log = logging.getLogger(__name__)

# Without Redis, waiters look at the database this often.
POLL_SECONDS = 0.5
# With Redis, waiters still look at the database this often, in case a wake-up was lost.
RECHECK_SECONDS = 5.0
# After a failed publish, skip Redis for this long so commits are not slowed by timeouts.
BACKOFF_SECONDS = 5.0
_redis_down_until: dict[str, float] = {}


def channel(site_id: int) -> str:
    return f"vetted:changes:{site_id}"


@dataclass(frozen=True, slots=True)
class Published:
    """One change-feed event, as written by transitions.publish_changes."""

    comment: Comment
    seq: int
    event_type: str
    article_key: str


def changes_published(events: list[Published]) -> None:
    """Called inside the transaction that writes the events."""
    webhooks.plan_deliveries([(e.comment, e.seq, e.event_type) for e in events])
    latest_by_site: dict[int, int] = {}
    threads: set[tuple[int, str]] = set()
    for event in events:
        latest_by_site[event.comment.site_id] = event.seq
        threads.add((event.comment.site_id, event.article_key))
    call_after_commit(_notify, current_app.config.get("REDIS_URL"), latest_by_site,
                      sorted(threads))


def _redis_down(url: str) -> bool:
    return time.monotonic() < _redis_down_until.get(url, 0.0)


def _notify(url: str | None, latest_by_site: dict[int, int],
            threads: list[tuple[int, str]]) -> None:
    for site_id, key in threads:
        thread_cache.forget(site_id, key)
    if not url or _redis_down(url):
        return
    try:
        # One round trip: wake each site's feed consumers, tell web processes which threads
        # changed.
        with redis_client(url).pipeline(transaction=False) as pipe:
            for site_id, seq in latest_by_site.items():
                pipe.publish(channel(site_id), seq)
            for site_id, key in threads:
                pipe.publish(thread_cache.CHANNEL, thread_cache.announcement(site_id, key))
            pipe.execute()
    except redis.RedisError as error:
        _redis_down_until[url] = time.monotonic() + BACKOFF_SECONDS
        log.warning("could not wake feed consumers (they poll instead): %s",
                    type(error).__name__)


class Waiter(Protocol):
    def wait(self, seconds: float) -> None:
        """Return after `seconds` or earlier when something may have changed."""


class PollingWaiter:
    def wait(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, POLL_SECONDS)))


class RedisWaiter:
    """Blocks on the site's channel; falls back to polling if Redis goes away mid-wait."""

    def __init__(self, pubsub: redis.client.PubSub) -> None:
        self.pubsub = pubsub
        self.fallback: PollingWaiter | None = None

    def wait(self, seconds: float) -> None:
        if self.fallback is not None:
            return self.fallback.wait(seconds)
        try:
            self.pubsub.get_message(timeout=max(0.0, min(seconds, RECHECK_SECONDS)))
        except redis.RedisError:
            self.fallback = PollingWaiter()
            self.fallback.wait(seconds)


@contextmanager
def subscription(site_id: int) -> Iterator[Waiter]:
    """A waiter subscribed before the caller looks, so no commit can slip in between."""
    url = current_app.config.get("REDIS_URL")
    pubsub = None
    if url and not _redis_down(url):
        try:
            pubsub = redis_client(url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(channel(site_id))
        except redis.RedisError as error:
            log.warning("long-poll falls back to polling: %s", type(error).__name__)
            pubsub = None
    try:
        yield RedisWaiter(pubsub) if pubsub is not None else PollingWaiter()
    finally:
        if pubsub is not None:
            try:
                pubsub.close()
            except redis.RedisError:
                pass


def wait_for_change(site_id: int, since: int, timeout: float, latest: Callable[[], int]) -> int:
    """Wait until `latest()` passes `since` or `timeout` seconds pass; returns latest()."""
    deadline = time.monotonic() + timeout
    with subscription(site_id) as waiter:
        while True:
            # End the read transaction: the next look sees new commits, and no connection is
            # held while waiting.
            db.session.commit()
            current = latest()
            remaining = deadline - time.monotonic()
            if current > since or remaining <= 0:
                return current
            waiter.wait(remaining)
