"""Serialised comment lists, cached per process by thread version.

A thread's version changes with every change the public can see (service/transitions.py), so a
(thread, version, page) key never goes stale and needs no invalidation: popular threads are
served from memory at the cost of one indexed row lookup for the version.
"""

from __future__ import annotations

import json
import threading

from cachetools import LRUCache

from service.comments import list_approved
from service.models import Article

# Bounded by bytes, so a few huge threads cannot grow a web process without limit.
_bodies: LRUCache[tuple[int, int, int, int], bytes] = LRUCache(maxsize=64 * 1024 * 1024,
                                                                 getsizeof=len)
_lock = threading.Lock()
EMPTY = json.dumps({"comments": [], "next": None, "total": 0}).encode()


def list_body(article: Article | None, after: int, limit: int) -> bytes:
    """The JSON answer for one page of approved comments."""
    if article is None:
        return EMPTY
    key = (article.id, article.version, after, limit)
    with _lock:
        body = _bodies.get(key)
    if body is None:
        body = json.dumps(list_approved(article, after, limit), ensure_ascii=False,
                          separators=(",", ":")).encode()
        with _lock:
            _bodies[key] = body
    return body


def etag_for(article: Article | None, after: int, limit: int) -> str:
    """Validators are per URL, so the version (a global seq) and the page are enough; a thread
    that only has pending comments answers like one that does not exist yet."""
    return f"{article.version if article else 0}-{after}-{limit}"


def clear() -> None:
    """Forget every cached list (tests reset the database, and with it the versions)."""
    with _lock:
        _bodies.clear()
