"""Each thread's id, version and count, known in-process: hot reads ask neither the database
nor Redis.

Every commit that changes what the public sees of a thread announces it on one Redis channel
(after the commit). Each web process listens on that channel from a background thread and
forgets the announced thread, so the next read looks it up again. The publishing process also
forgets it at once, so a writer reads its own change. While the process is not subscribed
(starting up, Redis down) nothing is cached and every read asks the database, and an entry is
never kept longer than THREAD_CACHE_SECONDS, which bounds the harm of a lost announcement.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from cachetools import LRUCache, TTLCache
from flask import current_app
from sqlalchemy import select

from service.db import db
from service.metrics import THREAD_LOOKUPS
from service.models import Article
from service.policy import SiteLike

log = logging.getLogger(__name__)

CHANNEL = "vetted:threads"
# After losing the subscription, try again this often.
RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """What listing a thread needs of its article row; detached from any session."""

    id: int
    version: int
    approved_count: int


_Key = tuple[int, str]


class ThreadDirectory:
    """(site id, article key) -> ThreadRef, or None for a thread nobody has commented on yet."""

    def __init__(self, redis_url: str, ttl: float, maxsize: int = 100_000) -> None:
        self.redis_url = redis_url
        self._entries: TTLCache[_Key, ThreadRef | None] = TTLCache(maxsize, ttl)
        # Threads are never deleted, so their ids need no announcements (submissions use them).
        self._ids: LRUCache[_Key, int] = LRUCache(maxsize)
        self._lock = threading.Lock()
        # Bumped by every eviction: a lookup that raced one does not store what it read.
        self._generation = 0
        self._live = False
        self._pid = 0

    def lookup(self, site_id: int, key: str) -> ThreadRef | None:
        cached, found = self.peek(site_id, key)
        if cached:
            return found
        with self._lock:
            # Read after the miss: an eviction before this point precedes the load below.
            generation, live = self._generation, self._live
        THREAD_LOOKUPS.labels("miss" if live else "off").inc()
        found = load_thread(site_id, key)
        with self._lock:
            if self._live and self._generation == generation:
                self._entries[(site_id, key)] = found
        return found

    def peek(self, site_id: int, key: str) -> tuple[bool, ThreadRef | None]:
        """(True, thread) when a live entry is cached; (False, None) otherwise. Never does I/O."""
        self._ensure_listening()
        with self._lock:
            if self._live and (site_id, key) in self._entries:
                THREAD_LOOKUPS.labels("hit").inc()
                return True, self._entries[(site_id, key)]
        return False, None

    def article_id(self, site_id: int, key: str) -> int | None:
        with self._lock:
            return self._ids.get((site_id, key))

    def remember_article_id(self, site_id: int, key: str, article_id: int) -> None:
        with self._lock:
            self._ids[(site_id, key)] = article_id

    def listening(self) -> bool:
        """Whether announcements reach this process now (starts the listener if need be)."""
        self._ensure_listening()
        return self._live

    def evict(self, site_id: int, key: str) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop((site_id, key), None)

    def clear(self, live: bool | None = None, ids: bool = False) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            if ids:
                self._ids.clear()
            if live is not None:
                self._live = live

    def _ensure_listening(self) -> None:
        # One listener per process: gunicorn forks workers, and threads do not survive a fork.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return  # another request thread started it meanwhile
            self._pid, self._live = os.getpid(), False
            self._entries.clear()
        threading.Thread(target=self._listen, name="thread-cache", daemon=True).start()

    def _listen(self) -> None:
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1,
                                      health_check_interval=5)
        while True:
            pubsub = client.pubsub()
            try:
                pubsub.subscribe(CHANNEL)
                while True:
                    message = pubsub.get_message(timeout=5)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Anything announced before now was missed: start empty.
                        self.clear(live=True)
                    elif message["type"] == "message":
                        self._apply(message["data"])
            except Exception as error:  # noqa: BLE001 - any failure: stop trusting the cache
                self.clear(live=False)
                log.warning("thread cache off until Redis answers again: %s",
                            type(error).__name__)
                with contextlib.suppress(Exception):  # the connection may be gone already
                    pubsub.close()
                time.sleep(RETRY_SECONDS)

    def _apply(self, data: bytes) -> None:
        try:
            site_id, key = json.loads(data)
        except (ValueError, TypeError):
            log.warning("ignored a malformed thread announcement")
            return
        self.evict(site_id, key)


def load_thread(site_id: int, key: str) -> ThreadRef | None:
    row = db.session.execute(
        select(Article.id, Article.version, Article.approved_count)
        .where(Article.site_id == site_id, Article.key == key)
    ).first()
    return ThreadRef(*row) if row else None


# One directory per Redis URL and database in this process (tests run several apps).
_directories: dict[tuple[str, str], ThreadDirectory] = {}
_registry_lock = threading.Lock()


def _directory() -> ThreadDirectory | None:
    return directory_for(current_app.config)


def directory_for(config: Mapping[str, Any]) -> ThreadDirectory | None:
    """The directory an app with this config uses; None when the cache is off."""
    ttl = float(config["THREAD_CACHE_SECONDS"])
    if not config.get("REDIS_URL") or ttl <= 0:
        return None
    name = (config["REDIS_URL"], config["SQLALCHEMY_DATABASE_URI"])
    with _registry_lock:
        directory = _directories.get(name)
        if directory is None:
            directory = _directories[name] = ThreadDirectory(config["REDIS_URL"], ttl)
    return directory


def find_thread(site: SiteLike, key: str) -> ThreadRef | None:
    """The thread of `key` on `site` as of the last announcement this process heard."""
    directory = _directory()
    if directory is None:
        return load_thread(site.id, key)
    return directory.lookup(site.id, key)


def article_id(site: SiteLike, key: str) -> int | None:
    """The id of an existing thread, if this process has seen it."""
    directory = _directory()
    return directory.article_id(site.id, key) if directory else None


def remember_article_id(site: SiteLike, key: str, found: int) -> None:
    if directory := _directory():
        directory.remember_article_id(site.id, key, found)


def announcement(site_id: int, key: str) -> str:
    """The message published on CHANNEL after a commit that changed this thread."""
    return json.dumps([site_id, key])


def forget(site_id: int, key: str) -> None:
    """After such a commit: this process stops using the thread at once, before Redis says so."""
    for directory in list(_directories.values()):
        directory.evict(site_id, key)


def clear() -> None:
    """Forget every thread (tests reset the database, and with it ids and versions)."""
    for directory in list(_directories.values()):
        directory.clear(ids=True)
