"""The plain HTML form post for readers without JavaScript: form fields in, safe redirect out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from service.db import db
from service.models import Site

CONFIRMATION_FRAGMENT = "vetted-submitted"
# Required fields are always passed (possibly empty) so the validators say "x is required".
_REQUIRED = ("site", "article", "name", "email", "body")
# Optional fields are left out when empty: "" is no website, no parent, an empty honeypot.
_OPTIONAL = ("url", "parent_id", "hp")
FIELD_LABELS = {
    "body": "Comment", "name": "Name", "email": "Email", "url": "Website",
    "parent_id": "Reply to", "site": "Site", "article": "Article", "hp": "Form",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def submission_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as the JSON API would receive them."""
    data: dict[str, Any] = {name: form.get(name, "") for name in _REQUIRED}
    for name in _OPTIONAL:
        if value := form.get(name, ""):
            data[name] = value
    return data


def find_site(slug: str) -> Site | None:
    return db.session.scalar(select(Site).where(Site.slug == slug.strip()[:64])) \
        if slug.strip() else None


def url_origin(url: str) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL, None for anything else or odd."""
    if not url or any(c in url for c in "\\\r\n\t ") or not url.isprintable():
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    origin = f"{parts.scheme}://{parts.hostname}"
    return origin if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"{origin}:{port}"


def safe_return_to(site: Site | None, return_to: str | None) -> str | None:
    """return_to when it is a page on one of the site's allowed origins, else None.

    Checking the parsed origin (not a prefix) refuses //evil, userinfo tricks and look-alikes,
    so the route cannot be used as an open redirect.
    """
    if site is None or not return_to:
        return None
    origin = url_origin(return_to.strip())
    allowed = {url_origin(o) for o in site.policy.allowed_origins}
    return return_to.strip() if origin is not None and origin in allowed else None


def with_confirmation(url: str) -> str:
    """The article URL with the fragment the page uses to show "your comment was received"."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query,
                       CONFIRMATION_FRAGMENT))
