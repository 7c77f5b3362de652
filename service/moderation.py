"""Moderation API: the review queue, decisions (single and bulk), site policy for admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select

from service import decisions, review_queue, sites
from service.comments import get_site
from service.db import db
from service.errors import ApiError
from service.models import MAX_ID, ApiToken, Comment, Site
from service.moderation_schemas import BulkDecisionRequest, DecisionRequest, PreviewRequest
from service.policy_preview import preview, proposed_policy
from service.query_args import int_arg
from service.schemas import parse, validation_fields
from service.tokens import require, require_site
from service.transitions import Conflict

bp = Blueprint("moderation", __name__, url_prefix="/api/v1/moderation")


def _arg(name: str, default: str = "") -> str:
    return (request.args.get(name) or default).strip()


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _arg(name, default)
    if value not in choices:
        raise ApiError(422, "invalid", f"{name} is not valid",
                       {name: f"must be one of {', '.join(choices)}"})
    return value


def _site_for(token: ApiToken, slug: str) -> Site:
    if not slug:
        raise ApiError(422, "invalid", "site is required", {"site": "required"})
    require_site(token, slug)
    return get_site(slug)


def _comment_for(token: ApiToken, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise ApiError(404, "not_found", f"no comment {comment_id}")
    require_site(token, comment.site.slug)
    return comment


def _actor(token: ApiToken) -> str:
    return f"{'admin' if token.role == 'admin' else 'moderator'}:{token.id}"


def _conflict(message: str, **details: Any):
    """409 in the usual error shape, plus what the client needs to refresh its view."""
    return jsonify({"error": "conflict", "message": message, **details}), 409


@bp.get("/me")
@require("moderate")
def me():
    """Who the token is: the review page uses it to sign in and list the sites."""
    token: ApiToken = g.token
    return {"id": token.id, "name": token.name, "role": token.role, "sites": token.sites}


@bp.get("/queue")
@require("moderate")
def queue():
    site = _site_for(g.token, _arg("site"))
    filters = review_queue.QueueFilter(
        site=site,
        status=_choice("status", "review", review_queue.STATUSES),
        article=_arg("article") or None,
        q=_arg("q")[:200] or None,
        order=_choice("order", "oldest", review_queue.ORDERS),
        after=int_arg("after", 0, 0, MAX_ID),
        limit=int_arg("limit", review_queue.QUEUE_DEFAULT_LIMIT, 1,
                       review_queue.QUEUE_MAX_LIMIT),
    )
    return review_queue.list_queue(filters)


@bp.get("/comments/<int:comment_id>")
@require("moderate")
def comment_detail(comment_id: int):
    return review_queue.comment_detail(_comment_for(g.token, comment_id))


@bp.post("/comments/<int:comment_id>/decision")
@require("moderate")
def decide(comment_id: int):
    data = parse(DecisionRequest, request.get_json(silent=True))
    comment = _comment_for(g.token, comment_id)
    try:
        decisions.decide_one(comment, data.action, _actor(g.token), data.reason)
    except decisions.NotAllowed as error:
        return _conflict(str(error), id=comment_id, status=error.current)
    except Conflict as conflict:
        return _conflict(f"comment {comment_id} was decided meanwhile: it is {conflict.current}",
                         id=comment_id, status=conflict.current)
    return review_queue.comment_detail(comment)


@bp.post("/decisions")
@require("moderate")
def decide_many():
    data = parse(BulkDecisionRequest, request.get_json(silent=True))
    found = {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(data.ids)))}
    if missing := [i for i in data.ids if i not in found]:
        raise ApiError(404, "not_found", f"no comments {missing}",
                       {"ids": f"unknown ids: {', '.join(map(str, missing))}"})
    for slug in {c.site.slug for c in found.values()}:
        require_site(g.token, slug)
    comments = [found[i] for i in data.ids]
    try:
        decisions.decide_many(comments, data.action, _actor(g.token), data.reason)
    except decisions.BulkConflict as error:
        return _conflict(f"{error}; nothing was applied",
                         conflicts=[{"id": i, "status": s} for i, s in error.conflicts.items()])
    return {"action": data.action, "ids": data.ids,
            "statuses": {str(c.id): c.status for c in comments}}


@bp.get("/sites/<slug>/policy")
@require("admin")
def get_policy(slug: str):
    return _site_for(g.token, slug).policy.model_dump()


@bp.patch("/sites/<slug>/policy")
@require("admin")
def patch_policy(slug: str):
    site = _site_for(g.token, slug)
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        raise ApiError(400, "bad_request", "the request body must be a JSON object")
    try:
        # Validate first: update_policy normalises origins and assumes well-typed values.
        proposed_policy(site, changes)
        policy = sites.update_policy(site, changes, actor=_actor(g.token))
    except ValidationError as error:
        db.session.rollback()
        raise ApiError(422, "invalid", "some policy settings are invalid",
                       validation_fields(error)) from None
    return policy.model_dump()


@bp.post("/sites/<slug>/policy/preview")
@require("admin")
def preview_policy(slug: str):
    site = _site_for(g.token, slug)
    data = parse(PreviewRequest, request.get_json(silent=True))
    try:
        proposed = proposed_policy(site, data.policy)
    except ValidationError as error:
        raise ApiError(422, "invalid", "some policy settings are invalid",
                       {f"policy.{k}": v for k, v in validation_fields(error).items()}) from None
    return preview(site, proposed, data.limit)
