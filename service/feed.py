"""Change feed for services: every public change of a site, in seq order, with long-polling.

A long-poll holds one web worker for up to MAX_WAIT seconds: deployments serving many
long-pollers run gunicorn with gthread or gevent workers (see README).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from service import changes, feed_notify
from service.comments import get_site
from service.models import MAX_ID
from service.query_args import int_arg, required_arg
from service.tokens import require, require_site

bp = Blueprint("feed", __name__, url_prefix="/api/v1")

MAX_WAIT = 30


@bp.get("/changes")
@require("feed")
def list_changes():
    slug = required_arg("site")
    require_site(g.token, slug)
    site_id = get_site(slug).id
    since = int_arg("since", 0, 0, MAX_ID)
    limit = int_arg("limit", changes.DEFAULT_LIMIT, 1, changes.MAX_LIMIT)
    wait = int_arg("wait", 0, 0, MAX_WAIT)
    latest = changes.latest_seq(site_id)
    if latest <= since and wait:
        latest = feed_notify.wait_for_change(site_id, since, wait,
                                             lambda: changes.latest_seq(site_id))
    etag = f"{latest}-{since}-{limit}"
    if request.if_none_match.contains(etag):
        return "", 304, {"ETag": f'"{etag}"'}
    response = current_app.json.response(changes.changes_page(site_id, since, limit))
    response.set_etag(etag)
    return response
