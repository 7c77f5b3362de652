"""Submitting, listing and looking up comments: plain functions the views call."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from service import thread_cache
from service.db import autocommit_engine, db
from service.errors import ApiError
from service.models import Article, Comment, Site, Status
from service.policy import SiteLike
from service.rendering import avatar_seed, body_fingerprint, render_body
from service.schemas import CommentSubmission
from service.thread_cache import ThreadRef

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
# Built once: the hottest write path need not rebuild the statement and its cache key per call.
_INSERT_COMMENT = insert(Comment.__table__).returning(Comment.__table__.c.id)


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What the request says about the submitter, stored for moderators only."""

    ip: str | None
    user_agent: str | None
    referrer: str | None
    request_id: str | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_site(slug: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise ApiError(404, "unknown_site", f"no site named {slug!r}")
    return site


def get_or_create_article(site: SiteLike, key: str) -> int:
    """The id of the thread for `key`, creating it on the first submission."""
    if (known := thread_cache.article_id(site, key)) is not None:
        return known
    article = find_article(site, key) or create_article(site, key)
    thread_cache.remember_article_id(site, key, article.id)
    return article.id


def create_article(site: SiteLike, key: str) -> Article:
    try:
        # A savepoint, so losing the race to another submitter does not undo our transaction.
        with db.session.begin_nested():
            article = Article(site_id=site.id, key=key)
            db.session.add(article)
        return article
    except IntegrityError:
        return find_article(site, key)  # type: ignore[return-value]


def find_article(site: SiteLike, key: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.site_id == site.id, Article.key == key))


def check_parent(site: SiteLike, article_key: str, parent_id: int, max_depth: int) -> Comment:
    parent = db.session.get(Comment, parent_id)
    if (
        parent is None
        or parent.site_id != site.id
        or parent.article.key != article_key
        or parent.status != Status.APPROVED
    ):
        raise ApiError(422, "invalid", "cannot reply to that comment",
                       {"parent_id": "no published comment with this id on this article"})
    if parent.depth + 1 > max_depth:
        raise ApiError(422, "invalid", "replies are nested too deeply",
                       {"parent_id": f"replies may nest at most {max_depth} deep"})
    return parent


def submit_comment(site: SiteLike, data: CommentSubmission, meta: RequestMeta) -> tuple[int, str]:
    """Store the comment as pending and commit; returns its id and the author's token.

    The caller enqueues moderation after this. A Core INSERT on the table, because the hottest
    write path needs none of the ORM's bookkeeping, run in autocommit on a plain connection: one
    statement is its own transaction, so BEGIN and COMMIT would be two more round trips for
    nothing, and the session's transaction machinery is not needed either.
    """
    policy = site.policy
    parent = check_parent(site, data.article, data.parent_id, policy.max_depth) \
        if data.parent_id else None
    article_id = get_or_create_article(site, data.article)
    token = secrets.token_urlsafe(24)
    if db.session().in_transaction():
        db.session.commit()  # a new thread's row, read by the INSERT on another connection
    with autocommit_engine().connect() as connection:
        comment_id = connection.execute(
            _INSERT_COMMENT,
            {
                "site_id": site.id,
                "article_id": article_id,
                "parent_id": parent.id if parent else None,
                "depth": parent.depth + 1 if parent else 1,
                "author_name": data.name,
                "email": data.email,
                "author_url": data.url,
                "avatar_seed": avatar_seed(data.email, current_app.config["SECRET_KEY"]),
                "body": data.body,
                "body_html": render_body(data.body),
                "body_hash": body_fingerprint(data.body),
                "honeypot": data.hp or "",
                "status": Status.PENDING,
                "ip": meta.ip,
                "user_agent": (meta.user_agent or "")[:500] or None,
                "referrer": (meta.referrer or "")[:500] or None,
                "token_hash": token_hash(token),
                "request_id": meta.request_id,
            },
        ).scalar_one()
    return comment_id, token


def public_comment(comment: Comment) -> dict[str, Any]:
    """The only shape the public ever sees: no email, no IP, a keyed avatar seed."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {
            "name": comment.author_name,
            "url": comment.author_url,
            "avatar": comment.avatar_seed,
        },
        "body_html": comment.body_html,
        "created_at": comment.created_at.isoformat(timespec="seconds") + "Z",
    }


def list_approved(article: ThreadRef, after: int, limit: int) -> dict[str, Any]:
    """Approved comments of one thread, oldest first, keyset-paginated by id."""
    rows = db.session.scalars(
        select(Comment)
        .where(
            Comment.article_id == article.id,
            Comment.status == Status.APPROVED,
            Comment.id > after,
        )
        .order_by(Comment.id)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    return {
        "comments": [public_comment(c) for c in page],
        "next": str(page[-1].id) if len(rows) > limit else None,
        "total": article.approved_count,
    }


def find_own_comment(comment_id: int, token: str) -> Comment:
    """The submitter's own comment, found by id and proven by the token (404 otherwise)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not token or not hmac.compare_digest(
        comment.token_hash, token_hash(token)
    ):
        raise ApiError(404, "not_found", "no comment with this id and token")
    return comment


def own_status(comment: Comment) -> dict[str, Any]:
    """What the author may see of their comment: status and the stable reason code."""
    return {
        "id": comment.id,
        "status": comment.status,
        "reason": comment.status_reason if comment.status != Status.APPROVED else None,
        "comment": public_comment(comment),
        "article": comment.article.key,
        "site": comment.site.slug,
    }
