"""The embeddable widget: its script and stylesheet, the demo article and the no-JS form post."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from service import comments as svc
from service import noscript
from service.cors import require_allowed_origin
from service.errors import ApiError
from service.extensions import limiter
from service.public import request_meta
from service.queue import enqueue_moderation
from service.schemas import CommentSubmission, parse
from service.site_cache import public_site

bp = Blueprint("widget", __name__)

STATIC = Path(__file__).resolve().parent / "static"
# Short, so a widget fix reaches readers within minutes; the ETag makes revalidation cheap.
ASSET_MAX_AGE = 300
DEMO_SITE, DEMO_ARTICLE = "demo", "/2023/12/india-russia-talks"
# The demo page runs only our own external script and styles: no inline code at all.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Result and error pages of the form post need nothing but the stylesheet.
PAGE_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; " \
           "frame-ancestors 'none'"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def asset_response(name: str) -> Response:
    """A static file with a content ETag and short caching, loadable from any site."""
    body = (STATIC / name).read_bytes()
    response = Response(body, content_type=_TYPES[Path(name).suffix])
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = ASSET_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


def html_page(body: str, status: int = 200, csp: str = PAGE_CSP) -> Response:
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


@bp.get("/embed.js")
def embed_js() -> Response:
    return asset_response("embed.js")


@bp.get("/embed.css")
def embed_css() -> Response:
    return asset_response("embed.css")


@bp.get("/demo/demo.css")
def demo_css() -> Response:
    return asset_response("demo.css")


@bp.get("/demo/")
def demo() -> Response:
    page = render_template("demo.html", site=DEMO_SITE, article=DEMO_ARTICLE,
                           return_to=url_for("widget.demo", _external=True))
    return html_page(page, csp=DEMO_CSP)


@bp.get("/comments/submitted")
def form_submitted() -> Response:
    """Where a form post lands when its return_to is not a page of the site."""
    return html_page(render_template("form_result.html", errors=None, back=None))


def _submit_limit() -> str:
    return current_app.config["RATELIMIT_SUBMIT"]


@bp.post("/comments/form")
@limiter.limit(_submit_limit)
def form_post() -> Response:
    """The same submission as POST /api/v1/comments, from a plain HTML form."""
    form = request.form
    site = noscript.find_site(form.get("site", ""))
    back = noscript.safe_return_to(site, form.get("return_to"))
    try:
        context = {"check_deliverability": current_app.config["EMAIL_CHECK_DELIVERABILITY"]}
        data = parse(CommentSubmission, noscript.submission_data(form), context)
        site = public_site(data.site)
        require_allowed_origin(site)
        comment_id, _token = svc.submit_comment(site, data, request_meta())
    except ApiError as error:
        return error_page(error.status, error.message, error.fields, back)
    enqueue_moderation(comment_id, g.get("request_id"))
    target = noscript.with_confirmation(back) if back else url_for("widget.form_submitted")
    return redirect(target, 303)  # type: ignore[return-value]


def error_page(status: int, message: str, fields: dict[str, str] | None,
               back: str | None) -> Response:
    errors = [(noscript.FIELD_LABELS.get(name, name), text) for name, text in
              (fields or {}).items()] or [("", message)]
    page = render_template("form_result.html", errors=errors, back=back)
    return html_page(page, status)


@bp.errorhandler(HTTPException)
def _html_error(error: HTTPException) -> Response:
    """Too large, too fast and the like: an HTML page for people, not JSON."""
    response = error_page(error.code or 400, error.description or error.name, None, None)
    if error.code == 429 and (retry := getattr(error, "retry_after", None)):
        response.headers["Retry-After"] = str(retry)
    return response
