"""Security headers on every answer and a brake on token guessing."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from limits import parse_many
from werkzeug.routing import IntegerConverter, Map

from service.errors import ApiError
from service.extensions import limiter
from service.models import MAX_ID

log = logging.getLogger(__name__)

# Paths that take a bearer token: too many failed attempts from one IP are answered 429 here.
GUARDED_PREFIXES = ("/api/v1/moderation", "/api/v1/changes", "/api/v1/webhooks",
                    "/api/v1/admin")
_AUTH_SCOPE = "auth-failures"

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def add_security_headers(response: Response) -> Response:
    """Defaults only: a header the view already set (a stricter or page-specific one) wins."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        # HTML pages may not be framed by other sites unless the page says otherwise.
        csp = response.headers.get("Content-Security-Policy", "")
        if "X-Frame-Options" not in response.headers and "frame-ancestors" not in csp:
            response.headers["X-Frame-Options"] = "DENY"
            if not csp:
                response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _auth_limits() -> list:
    return parse_many(current_app.config["RATELIMIT_AUTH_FAILURES"])


def _guarding() -> bool:
    return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))


def refuse_token_guessing() -> None:
    """Before a guarded request: 429 once this IP has failed authentication too often."""
    if not _guarding() or not request.path.startswith(GUARDED_PREFIXES):
        return
    ip = request.remote_addr or "-"
    try:
        for item in _auth_limits():
            if not limiter.limiter.test(item, _AUTH_SCOPE, ip):
                reset_at, _ = limiter.limiter.get_window_stats(item, _AUTH_SCOPE, ip)
                retry = max(1, int(reset_at - time.time()) + 1)
                raise ApiError(429, "rate_limited", "too many failed authentication attempts",
                               headers={"Retry-After": str(retry)})
    except ApiError:
        raise
    except Exception as error:  # noqa: BLE001 - limit storage down: fail open, log it
        log.warning("auth failure limit unavailable: %s", type(error).__name__)


def count_auth_failure(response: Response) -> Response:
    """After any 401, count one failure against the client's IP."""
    if response.status_code != 401 or not _guarding():
        return response
    ip = request.remote_addr or "-"
    try:
        for item in _auth_limits():
            limiter.limiter.hit(item, _AUTH_SCOPE, ip)
    except Exception as error:  # noqa: BLE001 - limit storage down: fail open, log it
        log.warning("auth failure limit unavailable: %s", type(error).__name__)
    return response


class DepthSafeJSONProvider(DefaultJSONProvider):
    """A body nested thousands deep is bad input (400), not a crash (RecursionError -> 500)."""

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that no database column can overflow: a huge id is 404, not a crash."""

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    """Call before blueprints are registered, so their `<int:...>` routes are bounded too."""
    app.json = DepthSafeJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_token_guessing)
    app.after_request(count_auth_failure)
    app.after_request(add_security_headers)
