"""Webhooks: registration, signed deliveries through a real worker to a real HTTP receiver,
retries with backoff, the delivery log and automatic disabling."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from service.db import db
from service.models import Comment, Status
from service.tokens import create_token
from service.transitions import change_status
from service.webhook_delivery import signature_header
from tests.conftest import ROOT, dispose, make_app, store_without_queueing

# Short backoff and low limits, so retries and disabling happen within a test.
WORKER_CONFIG = {"WEBHOOK_BACKOFF_SECONDS": 0.05, "WEBHOOK_MAX_ATTEMPTS": 3,
                 "WEBHOOK_DISABLE_AFTER": 3}


@pytest.fixture(scope="module")
def webhook_worker(app, database_url: str, redis_url: str) -> Iterator[Any]:
    """A real Celery worker on the real broker, running with the short-backoff settings."""
    worker_app = make_app(database_url, redis_url, **WORKER_CONFIG)
    with start_worker(worker_app.extensions["celery"], pool="solo", perform_ping_check=False,
                      shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker
    dispose(worker_app)


class Receiver:
    """A local HTTP endpoint that answers a scripted status per request and records them."""

    def __init__(self, statuses: list[int], then: int = 200) -> None:
        self.statuses, self.then = list(statuses), then
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "at": time.time()})
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.then
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture()
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def factory(statuses: list[int] | None = None, then: int = 200) -> Receiver:
        made.append(Receiver(statuses or [], then))
        return made[-1]

    yield factory
    for one in made:
        one.close()


@pytest.fixture()
def admin(app, site) -> dict[str, str]:
    with app.app_context():
        return {"Authorization": f"Bearer {create_token('admin', ['news'])[1]}"}


def readme_verifier() -> Callable[[str, bytes, str], bool]:
    """The verification function exactly as README.md documents it."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - our own README, to test what integrators copy
    return namespace["verify_vetted_signature"]


def wait_until(predicate: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
    return result


def register(client, headers, url: str, events: list[str] | None = None, **extra):
    body = {"url": url, "events": events or ["comment.approved"]} | extra
    return client.post("/api/v1/webhooks?site=news", json=body, headers=headers)


def approved_comment(app, site, to: Status = Status.APPROVED, comment_id: int | None = None,
                     **overrides) -> int:
    """Store a comment and have a moderator decide it (the same path as the API)."""
    comment_id = comment_id or store_without_queueing(app, site, **overrides)
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), to, actor="moderator:test",
                      action=to.value)
        db.session.commit()
        db.session.remove()
    return comment_id


def deliveries(client, headers, webhook_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["deliveries"]


def test_register_list_and_delete(client, admin):
    created = register(client, admin, "https://hooks.example/vetted",
                       ["comment.removed", "comment.approved"])
    assert created.status_code == 201
    hook = created.get_json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 40
    assert hook["events"] == ["comment.approved", "comment.removed"] and hook["enabled"]

    listed = client.get("/api/v1/webhooks?site=news", headers=admin).get_json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0] and hook["secret"] not in json.dumps(listed)

    chosen = register(client, admin, "http://hooks.example/2", secret="my-own-secret-0123")
    assert chosen.get_json()["secret"] == "my-own-secret-0123"

    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin).status_code == 204
    listed = client.get("/api/v1/webhooks?site=news", headers=admin).get_json()["webhooks"]
    assert [h["id"] for h in listed] == [chosen.get_json()["id"]]
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://hooks.example/x", "events": ["comment.approved"]}, "url"),
    ({"url": "javascript:alert(1)", "events": ["comment.approved"]}, "url"),
    ({"url": "https://", "events": ["comment.approved"]}, "url"),
    ({"url": "https://hooks.example/x", "events": []}, "events"),
    ({"url": "https://hooks.example/x", "events": ["comment.deleted"]}, "events"),
    ({"url": "https://hooks.example/x", "events": ["comment.approved"], "secret": "short"},
     "secret"),
    ({"events": ["comment.approved"]}, "url"),
])
def test_bad_registrations_are_422(client, admin, body, field):
    answer = client.post("/api/v1/webhooks?site=news", json=body, headers=admin)
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "invalid" and field in answer.get_json()["fields"]


def test_only_admins_of_the_site_manage_webhooks(app, client, admin):
    from service.sites import create_site

    with app.app_context():
        create_site("blog", "Blog", [])
        service_token = create_token("service", ["news"])[1]
        blog_admin = create_token("admin", ["blog"])[1]
    hook_id = register(client, admin, "https://hooks.example/x").get_json()["id"]

    assert client.get("/api/v1/webhooks?site=news").status_code == 401
    for token in (service_token, blog_admin):
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/webhooks?site=news", headers=headers).status_code == 403
        assert register(client, headers, "https://hooks.example/y").status_code == 403
        assert client.delete(f"/api/v1/webhooks/{hook_id}", headers=headers).status_code == 403
        assert client.get(f"/api/v1/webhooks/{hook_id}/deliveries",
                          headers=headers).status_code == 403
    assert client.get("/api/v1/webhooks/999999/deliveries", headers=admin).status_code == 404


def test_delivery_is_signed_and_verifies_with_the_documented_snippet(
        app, site, client, admin, receiver, webhook_worker):
    endpoint = receiver()
    hook = register(client, admin, endpoint.url).get_json()
    comment_id = approved_comment(app, site)
    wait_until(lambda: endpoint.count() == 1)

    (request,) = endpoint.requests
    headers, body = request["headers"], request["body"]
    event = json.loads(body)
    assert event["type"] == "comment.approved" and event["site"] == "news"
    assert event["comment"]["id"] == comment_id and event["comment"]["article"]
    assert "asha@example.org" not in body.decode()
    assert headers["X-Vetted-Event"] == "comment.approved"
    assert headers["Content-Type"] == "application/json"

    verify = readme_verifier()
    signature = headers["X-Vetted-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert verify(hook["secret"], body, signature)
    assert not verify("whsec_some-other-secret", body, signature)
    assert not verify(hook["secret"], body.replace(b"news", b"nevs"), signature)
    assert not verify(hook["secret"], body, "v1=deadbeef")
    stale = signature_header(hook["secret"], body, int(time.time()) - 600)
    assert not verify(hook["secret"], body, stale)

    (log,) = wait_until(lambda: [d for d in deliveries(client, admin, hook["id"])
                                 if d["status"] == "succeeded"])
    assert headers["X-Vetted-Delivery"] == str(log["id"])
    assert log["attempts"] == 1 and log["last_status_code"] == 200
    assert log["event_seq"] == event["seq"] and log["completed_at"]


def test_failed_deliveries_are_retried_until_they_succeed(
        app, site, client, admin, receiver, webhook_worker):
    endpoint = receiver([500, 500])
    hook = register(client, admin, endpoint.url).get_json()
    approved_comment(app, site)
    (log,) = wait_until(lambda: [d for d in deliveries(client, admin, hook["id"])
                                 if d["status"] == "succeeded"])
    assert log["attempts"] == 3 and log["last_status_code"] == 200 and log["last_error"] is None
    assert endpoint.count() == 3

    verify = readme_verifier()
    first, *retries = endpoint.requests
    for request in retries:
        # A retry sends the same event under the same delivery id, freshly signed.
        assert request["body"] == first["body"]
        assert request["headers"]["X-Vetted-Delivery"] == first["headers"]["X-Vetted-Delivery"]
        assert verify(hook["secret"], request["body"], request["headers"]["X-Vetted-Signature"])

    # Nothing more is sent once the receiver said yes: a later event is delivered only once.
    approved_comment(app, site, body="a second remark, different from the first one")
    wait_until(lambda: len([d for d in deliveries(client, admin, hook["id"])
                            if d["status"] == "succeeded"]) == 2)
    assert endpoint.count() == 4


def test_only_subscribed_event_types_are_delivered(app, site, client, admin, receiver,
                                                   webhook_worker):
    endpoint = receiver()
    hook = register(client, admin, endpoint.url, ["comment.removed"]).get_json()
    comment_id = approved_comment(app, site)
    approved_comment(app, site, Status.REMOVED, comment_id=comment_id)
    wait_until(lambda: endpoint.count() == 1)
    (log,) = wait_until(lambda: [d for d in deliveries(client, admin, hook["id"])
                                 if d["status"] == "succeeded"])
    assert log["event_type"] == "comment.removed"
    assert endpoint.requests[0]["headers"]["X-Vetted-Event"] == "comment.removed"


def test_unreachable_receiver_is_logged_and_given_up_after_max_attempts(
        app, site, client, admin, receiver, webhook_worker):
    closed = receiver()
    url = closed.url
    closed.close()
    hook = register(client, admin, url).get_json()
    approved_comment(app, site)
    (log,) = wait_until(lambda: [d for d in deliveries(client, admin, hook["id"])
                                 if d["status"] == "failed"])
    assert log["attempts"] == WORKER_CONFIG["WEBHOOK_MAX_ATTEMPTS"]
    assert log["last_status_code"] is None and "Connection refused" in log["last_error"]


def test_webhook_is_disabled_after_consecutive_failed_deliveries(
        app, site, client, admin, receiver, webhook_worker):
    endpoint = receiver(then=500)
    hook = register(client, admin, endpoint.url).get_json()
    limit, attempts = WORKER_CONFIG["WEBHOOK_DISABLE_AFTER"], WORKER_CONFIG["WEBHOOK_MAX_ATTEMPTS"]
    for n in range(limit):
        approved_comment(app, site, body=f"failing delivery number {n} of the series")
        wait_until(lambda n=n: len([d for d in deliveries(client, admin, hook["id"])
                                    if d["status"] == "failed"]) == n + 1)

    (shown,) = client.get("/api/v1/webhooks?site=news", headers=admin).get_json()["webhooks"]
    assert not shown["enabled"] and shown["disabled_at"]
    assert shown["consecutive_failures"] == limit
    assert endpoint.count() == limit * attempts
    log = deliveries(client, admin, hook["id"])
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("failed", attempts, 500)] * limit

    # A disabled webhook gets no new deliveries.
    approved_comment(app, site, body="approved after the webhook was disabled")
    assert len(deliveries(client, admin, hook["id"])) == limit


def test_a_success_resets_the_failure_streak(app, site, client, admin, receiver,
                                             webhook_worker):
    attempts = WORKER_CONFIG["WEBHOOK_MAX_ATTEMPTS"]
    endpoint = receiver([500] * attempts * 2)  # two failed deliveries, then success
    hook = register(client, admin, endpoint.url).get_json()
    for n in range(3):
        approved_comment(app, site, body=f"streak comment number {n} here")
        wait_until(lambda n=n: len([d for d in deliveries(client, admin, hook["id"])
                                    if d["status"] in ("failed", "succeeded")]) == n + 1)
    (shown,) = client.get("/api/v1/webhooks?site=news", headers=admin).get_json()["webhooks"]
    assert shown["enabled"] and shown["consecutive_failures"] == 0


def test_backoff_doubles_from_the_configured_base(app_factory):
    from service.webhook_delivery import backoff_seconds

    with app_factory(WEBHOOK_BACKOFF_SECONDS=2).app_context():
        assert [backoff_seconds(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
