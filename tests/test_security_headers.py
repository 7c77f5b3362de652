"""Security headers on every answer; a page's own headers win; production refuses a weak key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask import Blueprint, Flask

from tests.conftest import ROOT, comment_payload

BASELINE = {"X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin"}


def assert_baseline(response) -> None:
    for name, value in BASELINE.items():
        assert response.headers.get(name) == value, (name, response.status_code)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/healthz", {}),
        ("get", "/api/v1/comments?site=news&article=/a", {}),
        ("get", "/api/v1/comments?site=news", {}),  # 422
        ("get", "/api/v1/comments/1/status?token=x", {}),  # 404
        ("get", "/no/such/page", {}),  # 404 from routing
        ("post", "/api/v1/comments", {"json": comment_payload()}),  # 202
        ("post", "/api/v1/comments", {"data": "x", "content_type": "text/plain"}),  # 415
        ("put", "/api/v1/comments", {}),  # 405
    ],
)
def test_every_answer_has_the_baseline_headers(site, client, method, path, kwargs):
    response = getattr(client, method)(path, **kwargs)
    assert_baseline(response)
    if response.mimetype == "application/json":
        assert "X-Frame-Options" not in response.headers


def test_304_and_rate_limited_answers_have_them_too(site, client, app_factory):
    url = "/api/v1/comments?site=news&article=/a"
    etag = client.get(url).headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert_baseline(not_modified)
    limited = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per minute").test_client()
    try:
        limited.post("/api/v1/comments", json=comment_payload())
        refused = limited.post("/api/v1/comments", json=comment_payload(body="again"))
        assert refused.status_code == 429
        assert_baseline(refused)
    finally:
        app_factory(RATELIMIT_ENABLED=False)  # the limiter's switch is shared


def pages_app(app_factory) -> Flask:
    """An app with two HTML pages: one plain, one that sets its own framing and referrer policy."""
    app = app_factory()
    pages = Blueprint("pages_probe", __name__)

    @pages.get("/_probe/plain")
    def plain():
        return "<!doctype html><title>plain</title>"

    @pages.get("/_probe/own")
    def own():
        return "<!doctype html><title>own</title>", 200, {
            "Content-Security-Policy": "frame-ancestors https://news.example",
            "Referrer-Policy": "no-referrer",
        }

    app.register_blueprint(pages)
    return app


def test_html_pages_may_not_be_framed_by_default(app, app_factory):
    response = pages_app(app_factory).test_client().get("/_probe/plain")
    assert response.mimetype == "text/html"
    assert_baseline(response)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_page_keeps_the_headers_it_set(app, app_factory):
    response = pages_app(app_factory).test_client().get("/_probe/own")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors https://news.example"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def import_wsgi(secret: str | None, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTED_")}
    env.pop("DATABASE_URL", None)
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # never contacted at import
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/wsgi.db"
    if secret is not None:
        env["VETTED_SECRET_KEY"] = secret
    return subprocess.run([sys.executable, "-c", "import service.wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("secret", [None, "", "short", "vetted-dev-secret-change-me"])
def test_production_entry_point_refuses_a_missing_or_weak_secret(tmp_path, secret):
    result = import_wsgi(secret, tmp_path)
    assert result.returncode != 0
    assert "VETTED_SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_production_entry_point_starts_with_a_real_secret(tmp_path):
    result = import_wsgi("k" * 48, tmp_path)
    assert result.returncode == 0, result.stderr
