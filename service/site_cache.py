"""Sites as the public endpoints need them, cached for a few seconds per process.

Every submission and list read starts by looking its site up; a policy change reaches every
web process within SITE_CACHE_SECONDS, and moderators' and admins' endpoints always read the
database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import TTLCache
from flask import Flask, current_app

from service.comments import get_site
from service.policy import SitePolicy


@dataclass(frozen=True, slots=True)
class SiteRef:
    """What the public paths read of a site; detached from any database session."""

    id: int
    slug: str
    policy: SitePolicy


_lock = threading.Lock()


def _cache() -> TTLCache[str, SiteRef]:
    return _cache_of(current_app._get_current_object())  # type: ignore[attr-defined]


def _cache_of(app: Flask) -> TTLCache[str, SiteRef]:
    cache = app.extensions.get("site_cache")
    if cache is None:
        # One cache per app: tests run apps on different databases in one process.
        cache = TTLCache(maxsize=4096, ttl=float(app.config["SITE_CACHE_SECONDS"]))
        app.extensions["site_cache"] = cache
    return cache


def public_site(slug: str) -> SiteRef:
    """The site by slug (404 ApiError when unknown), at most SITE_CACHE_SECONDS old."""
    cache = _cache()
    with _lock:
        found = cache.get(slug)
    if found is None:
        site = get_site(slug)
        found = SiteRef(site.id, site.slug, site.policy)
        with _lock:
            cache[slug] = found
    return found


def cached_site(app: Flask, slug: str) -> SiteRef | None:
    """The site if this process looked it up recently; never asks the database."""
    cache = _cache_of(app)
    with _lock:
        return cache.get(slug)
