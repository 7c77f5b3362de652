"""Public API for readers and the widget: submit, list approved, see your own comment."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from service import comments as svc
from service import list_cache, thread_cache
from service.cors import add_cors_headers, require_allowed_origin
from service.db import db
from service.errors import ApiError
from service.extensions import limiter, site_key, site_limit
from service.metrics import record_submission
from service.models import MAX_ID, Status
from service.query_args import int_arg, required_arg
from service.queue import enqueue_moderation
from service.schemas import CommentSubmission, parse
from service.site_cache import public_site
from service.transitions import Conflict, change_status

bp = Blueprint("public", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)


@bp.after_request
def _count_submission(response):
    if request.endpoint == "public.submit":
        record_submission(response.status_code)
    return response


def _submit_limit() -> str:
    return current_app.config["RATELIMIT_SUBMIT"]


def request_meta() -> svc.RequestMeta:
    return svc.RequestMeta(
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        referrer=request.referrer,
        request_id=g.get("request_id"),
    )


@bp.post("/comments")
@limiter.limit(_submit_limit)
@limiter.limit(site_limit, key_func=site_key)
def submit():
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "send application/json (HTML forms post to /comments/form)")
    context = {"check_deliverability": current_app.config["EMAIL_CHECK_DELIVERABILITY"]}
    data = parse(CommentSubmission, request.get_json(silent=True), context)
    site = public_site(data.site)
    require_allowed_origin(site)
    comment_id, token = svc.submit_comment(site, data, request_meta())
    enqueue_moderation(comment_id, g.get("request_id"))
    return {"id": comment_id, "status": Status.PENDING.value, "token": token}, 202


@bp.get("/comments")
def list_comments():
    site = public_site(required_arg("site"))
    require_allowed_origin(site)
    key = required_arg("article")
    after = int_arg("after", 0, 0, MAX_ID)
    limit = int_arg("limit", svc.DEFAULT_LIMIT, 1, svc.MAX_LIMIT)
    thread = thread_cache.find_thread(site, key)
    etag = list_cache.etag_for(thread, after, limit)
    headers = list_cache.validator_headers(etag)
    if request.if_none_match.contains(etag):
        # Most such answers come from service/revalidation.py before Flask runs.
        return current_app.response_class(status=304, headers=headers,
                                          mimetype="application/json")
    body = list_cache.list_body(thread, after, limit)
    return current_app.response_class(body, 200, headers, mimetype="application/json")


@bp.get("/comments/<int:comment_id>/status")
def own_status(comment_id: int):
    comment = svc.find_own_comment(comment_id, request.args.get("token", ""))
    require_allowed_origin(comment.site)
    return svc.own_status(comment)


@bp.delete("/comments/<int:comment_id>")
def remove_own(comment_id: int):
    """The author takes their published comment down (approved -> removed)."""
    comment = svc.find_own_comment(comment_id, request.args.get("token", ""))
    require_allowed_origin(comment.site)
    if comment.status not in (Status.APPROVED, Status.PENDING, Status.REVIEW):
        raise ApiError(409, "conflict", f"comment is {comment.status}")
    try:
        change_status(comment, Status.REMOVED, actor="author", action="remove",
                      reason="author.removed")
    except Conflict as conflict:
        raise ApiError(409, "conflict", f"comment is {conflict.current}") from None
    db.session.commit()
    return svc.own_status(comment)
