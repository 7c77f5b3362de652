"""The review page at /moderate: server-rendered shell, vanilla JS calling the moderation API."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

bp = Blueprint("moderate_page", __name__)

# Scripts and styles only from our own static files (no inline code), never framed, no referrer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The page shows emails and IPs: never keep it in a shared cache.
    "Cache-Control": "no-store",
}


@bp.get("/moderate")
def moderate() -> Response:
    response = Response(render_template("moderate.html"), mimetype="text/html")
    response.headers.update(PAGE_HEADERS)
    return response
