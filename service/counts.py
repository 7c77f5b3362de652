"""Public comment counts per article, for "12 comments" links on index pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from service.cors import add_cors_headers, require_allowed_origin
from service.db import db
from service.errors import ApiError
from service.models import Article
from service.query_args import required_arg
from service.site_cache import public_site

bp = Blueprint("counts", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)

MAX_ARTICLES, MAX_KEY = 100, 500


def article_counts(site_id: int, keys: list[str]) -> dict[str, int]:
    """Approved comments per article key; unknown articles count 0."""
    found = dict(db.session.execute(
        select(Article.key, Article.approved_count)
        .where(Article.site_id == site_id, Article.key.in_(keys))
    ).all())
    return {key: found.get(key, 0) for key in keys}


def requested_keys() -> list[str]:
    keys = list(dict.fromkeys(k.strip() for k in request.args.getlist("article") if k.strip()))
    if not keys:
        raise ApiError(422, "invalid", "article is required", {"article": "required"})
    if len(keys) > MAX_ARTICLES:
        raise ApiError(422, "invalid", "too many articles",
                       {"article": f"at most {MAX_ARTICLES} per request"})
    if any(len(k) > MAX_KEY for k in keys):
        raise ApiError(422, "invalid", "article key too long",
                       {"article": f"at most {MAX_KEY} characters each"})
    return keys


@bp.get("/counts")
def counts():
    site = public_site(required_arg("site"))
    require_allowed_origin(site)
    response = jsonify({"counts": article_counts(site.id, requested_keys())})
    # Counts change rarely: a content ETag lets browsers and caches revalidate cheaply.
    response.add_etag()
    return response.make_conditional(request)
