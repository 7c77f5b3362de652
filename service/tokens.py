"""API tokens: created once, stored as a hash, checked for role and site on every request."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import g, request
from sqlalchemy import select

from service.db import db
from service.errors import ApiError
from service.models import ApiToken, utcnow

ROLES = ("moderator", "service", "admin")
# Which roles may do what: an admin can do everything, a service only reads the feed.
GRANTS = {
    "moderate": {"moderator", "admin"},
    "feed": {"service", "moderator", "admin"},
    "admin": {"admin"},
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(role: str, sites: list[str], name: str = "") -> tuple[ApiToken, str]:
    """Returns the row and the token; the token itself is never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = "vt_" + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, sites=sorted(set(sites)), token_hash=_hash(token),
                   prefix=token[:10])
    db.session.add(row)
    db.session.commit()
    return row, token


def find_token(token: str) -> ApiToken | None:
    digest = _hash(token)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # Constant-time comparison even though the lookup already matched, to avoid timing leaks.
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at:
        return None
    return row


def revoke_token(token_id: int) -> bool:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.revoked_at:
        return False
    row.revoked_at = utcnow()
    db.session.commit()
    return True


def current_token() -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": "Bearer"})
    row = find_token(token.strip())
    if row is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token",
                       headers={"WWW-Authenticate": "Bearer"})
    return row


def require(grant: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator: a valid token whose role has `grant`; sets g.token."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = current_token()
            if token.role not in GRANTS[grant]:
                raise ApiError(403, "forbidden", f"a {token.role} token cannot do this")
            g.token = token
            return view(*args, **kwargs)
        return wrapped
    return decorator


def require_site(token: ApiToken, site_slug: str) -> None:
    if site_slug not in token.sites:
        raise ApiError(403, "forbidden", f"this token is not valid for site {site_slug!r}")
