"""CORS for the public API: only origins a site allows may call it from a browser."""

from __future__ import annotations

from flask import Response, g, request
from sqlalchemy import select

from service.db import db
from service.errors import ApiError
from service.models import Site
from service.policy import SiteLike


def origin_allowed(site: SiteLike, origin: str | None) -> bool:
    return origin is not None and origin.rstrip("/") in site.policy.allowed_origins


def require_allowed_origin(site: SiteLike) -> None:
    """A browser post from a page the site does not list is refused (curl sends no Origin)."""
    g.cors_site = site
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(site, origin):
        raise ApiError(403, "origin_not_allowed", f"origin {origin} may not post to this site")


def any_site_allows(origin: str) -> bool:
    """Preflights carry no site, so they are answered for origins some site allows."""
    origin = origin.rstrip("/")
    for policy_json in db.session.scalars(select(Site.policy_json)):
        if origin in (policy_json or {}).get("allowed_origins", []):
            return True
    return False


def allowed_origin_headers(origin: str) -> dict[str, str]:
    """What lets a page on an allowed origin read an answer, and its validators."""
    return {"Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "ETag, Retry-After"}


def add_cors_headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if not origin:
        return response
    site = g.get("cors_site")
    if request.method == "OPTIONS":
        if any_site_allows(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, If-None-Match"
            response.headers["Access-Control-Max-Age"] = "600"
    elif site is not None and origin_allowed(site, origin):
        response.headers.extend(allowed_origin_headers(origin))
    response.vary.add("Origin")
    return response
