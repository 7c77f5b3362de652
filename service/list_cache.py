"""Serialised comment lists, cached per process and tagged with the thread's version.

A thread's version changes with every change the public can see (service/transitions.py): a
cached page is served only while its version is current, so it needs no invalidation, and a
newer version replaces it, so busy threads do not pile up dead copies.
"""

from __future__ import annotations

import json
import threading

from cachetools import LRUCache

from service.comments import list_approved
from service.thread_cache import ThreadRef

# (thread, after, limit) -> (version, body); bounded by bytes, so a few huge threads cannot
# grow a web process without limit.
_pages: LRUCache[tuple[int, int, int], tuple[int, bytes]] = LRUCache(
    maxsize=64 * 1024 * 1024, getsizeof=lambda entry: len(entry[1]))
_lock = threading.Lock()
EMPTY = json.dumps({"comments": [], "next": None, "total": 0}).encode()


def list_body(article: ThreadRef | None, after: int, limit: int) -> bytes:
    """The JSON answer for one page of approved comments."""
    if article is None:
        return EMPTY
    if (cached := cached_body(article, after, limit)) is not None:
        return cached
    body = json.dumps(list_approved(article, after, limit), ensure_ascii=False,
                      separators=(",", ":")).encode()
    with _lock:
        _pages[(article.id, after, limit)] = (article.version, body)
    return body


def cached_body(article: ThreadRef | None, after: int, limit: int) -> bytes | None:
    """The page's current JSON if this process already has it; never does I/O."""
    if article is None:
        return EMPTY
    with _lock:
        cached = _pages.get((article.id, after, limit))
    return cached[1] if cached is not None and cached[0] == article.version else None


def etag_for(article: ThreadRef | None, after: int, limit: int) -> str:
    """Validators are per URL, so the version (a global seq) and the page are enough; a thread
    that only has pending comments answers like one that does not exist yet."""
    return f"{article.version if article else 0}-{after}-{limit}"


def validator_headers(etag: str) -> dict[str, str]:
    """Browsers and proxies may keep the list but must ask again; a 304 usually costs no I/O."""
    return {"ETag": f'"{etag}"', "Cache-Control": "no-cache"}


def clear() -> None:
    """Forget every cached list (tests reset the database, and with it the versions)."""
    with _lock:
        _pages.clear()
