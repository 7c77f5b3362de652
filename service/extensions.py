"""Extensions without a better home, created unbound and bound by create_app."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Storage and switch come from RATELIMIT_STORAGE_URI / RATELIMIT_ENABLED in the app config.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def init_limiter(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # A Redis outage must not turn every submission into an error: fall back to memory.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # The limiter object is shared by every app in the process, and Flask-Limiter keeps its
    # on/off switch on it: keep it on and let each app's own setting decide per request.
    enabled = app.config["RATELIMIT_ENABLED"]
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    app.config["RATELIMIT_ENABLED"] = enabled
    if not global_limits_configured(app):
        skip_global_limit_pass(app)


# Limits Flask-Limiter applies to every request in its before-request pass.
GLOBAL_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def global_limits_configured(app: Flask) -> bool:
    return any(app.config.get(name) for name in GLOBAL_LIMITS)


def skip_global_limit_pass(app: Flask) -> None:
    """Vetted's limits are per route, and a decorated view checks its own limits as it runs.
    With no global limits configured, the before-request pass finds nothing to apply yet costs
    a third of a cached list read, so it is taken out."""
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]


@limiter.request_filter
def _limits_lifted() -> bool:
    """VETTED_RATELIMIT_ENABLED=0 exempts every request of that app."""
    return not current_app.config["RATELIMIT_ENABLED"]


def site_limit() -> str:
    return current_app.config["RATELIMIT_SUBMIT_PER_SITE"]


def site_key() -> str:
    """The site slug from the JSON body, so one site's quota is shared by every IP."""
    data = request.get_json(silent=True)
    slug = data.get("site") if isinstance(data, dict) else None
    return "site:" + (slug[:64] if isinstance(slug, str) else "-")
