"""Answers reads of a cached comment list before Flask runs: 304 or the cached page.

Most reads of a popular thread ask "has it changed?" and get "no", and the rest ask for a page
this process has already serialised. When the site, the thread and (for a 200) the page are
already cached here, the answer needs no routing, no request context and no hooks, so this WSGI
layer gives it directly, with the same headers the Flask view would send
(tests/test_revalidation.py compares them). Anything else, including every doubtful case, goes
to Flask unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.http import parse_etags

from service import list_cache, thread_cache
from service.comments import DEFAULT_LIMIT, MAX_LIMIT
from service.cors import allowed_origin_headers, origin_allowed
from service.extensions import global_limits_configured
from service.logs import request_id_from
from service.models import MAX_ID
from service.query_args import parse_int, parse_required
from service.security import HEADERS
from service.site_cache import cached_site

LIST_PATH = "/api/v1/comments"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ListRevalidation:
    """WSGI middleware: a read of a cached thread's list is answered 304, or 200 from the cache."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == LIST_PATH:
            answer = cached_answer(self.app, environ)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body] if body else []
        return self.wsgi_app(environ, start_response)


def cached_answer(app: Flask, environ: dict[str, Any]
                  ) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """(status, headers, body), or None when Flask must answer (a miss, bad input...)."""
    args = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)[::-1])
    slug, key = parse_required(args.get("site")), parse_required(args.get("article"))
    after = parse_int(args.get("after"), 0, 0, MAX_ID)
    limit = parse_int(args.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    if not slug or not key or after is None or limit is None:
        return None
    site = cached_site(app, slug)
    origin = environ.get("HTTP_ORIGIN")
    if site is None or (origin is not None and not origin_allowed(site, origin)):
        return None
    directory = thread_cache.directory_for(app.config)
    if directory is None:
        return None
    cached, thread = directory.peek(site.id, key)
    if not cached:
        return None
    etag = list_cache.etag_for(thread, after, limit)
    if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
        status, body = "304 NOT MODIFIED", b""
        headers = {}
    elif (page := list_cache.cached_body(thread, after, limit)) is not None:
        status, body = "200 OK", page
        headers = {"Content-Type": "application/json", "Content-Length": str(len(page))}
    else:
        return None
    headers.update(list_cache.validator_headers(etag))
    headers.update(HEADERS)
    if origin is not None:
        headers.update(allowed_origin_headers(origin), Vary="Origin")
    headers["X-Request-Id"] = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
    return status, list(headers.items()), body


def install(app: Flask) -> None:
    """Only where no global rate limit is configured: those must see every request."""
    if not global_limits_configured(app):
        app.wsgi_app = ListRevalidation(app, app.wsgi_app)  # type: ignore[method-assign]
