"""Sending one webhook delivery: sign, POST, record the attempt, decide on a retry."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import update

from service.db import db
from service.metrics import WEBHOOK_DELIVERIES
from service.models import utcnow
from service.webhook_models import Webhook, WebhookDelivery
from service.webhooks import FINAL_STATUSES

log = logging.getLogger(__name__)

# A slow receiver must not hold a worker: connect and read give up after this many seconds.
TIMEOUT_SECONDS = 5
USER_AGENT = "Vetted-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>": the timestamp is signed, so it cannot be replayed
    with a fresh one."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


@dataclass(frozen=True, slots=True)
class Response:
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is a failure: following it would POST the signed body somewhere unregistered.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST and report the status or the network error; never raises for the receiver's faults."""
    if urlsplit(url).scheme not in ("http", "https"):
        return Response(None, "only http and https URLs are delivered to")
    # S310: the scheme is checked just above (and was validated at registration).
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return Response(answer.status, None)
    except urllib.error.HTTPError as error:
        error.close()
        return Response(error.code, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Response(None, f"{type(error).__name__}: {reason}"[:500])


def backoff_seconds(attempts: int) -> float:
    """Exponential: base, 2*base, 4*base ... after the 1st, 2nd, 3rd failed attempt."""
    return float(current_app.config["WEBHOOK_BACKOFF_SECONDS"]) * 2 ** (attempts - 1)


def attempt_delivery(delivery_id: int) -> float | None:
    """Send one attempt; returns the countdown before the next one, or None when done."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status in FINAL_STATUSES:
        return None
    hook = delivery.webhook
    if not hook.enabled:
        _finish(delivery, "skipped", None, "webhook disabled")
        return None
    url, secret, body = hook.url, hook.secret, delivery.payload.encode()
    # End the read transaction: no database connection is held while the receiver answers.
    db.session.commit()
    answer = post(url, body, {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Vetted-Event": delivery.event_type,
        "X-Vetted-Delivery": str(delivery.id),
        "X-Vetted-Signature": signature_header(secret, body),
    })
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    delivery.last_status_code, delivery.last_error = answer.status, answer.error
    WEBHOOK_DELIVERIES.labels("ok" if answer.ok else "error").inc()
    if answer.ok:
        _finish(delivery, "succeeded", hook, None)
        return None
    if delivery.attempts >= int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]):
        _finish(delivery, "failed", hook, answer.error)
        return None
    delivery.status = "retrying"
    db.session.commit()
    return backoff_seconds(delivery.attempts)


def _finish(delivery: WebhookDelivery, status: str, hook: Webhook | None,
            error: str | None) -> None:
    """Close the delivery and keep the webhook's failure streak, disabling it when too long."""
    delivery.status, delivery.completed_at = status, utcnow()
    if error is not None:
        delivery.last_error = error[:500]
    if hook is not None and status == "succeeded":
        db.session.execute(update(Webhook).where(Webhook.id == hook.id)
                           .values(consecutive_failures=0))
    elif hook is not None and status == "failed":
        _record_failure(hook.id)
    db.session.commit()
    log.info("webhook delivery finished", extra={
        "delivery_id": delivery.id, "webhook_id": delivery.webhook_id, "status": status,
        "attempts": delivery.attempts, "last_status_code": delivery.last_status_code})


def _record_failure(webhook_id: int) -> None:
    db.session.execute(update(Webhook).where(Webhook.id == webhook_id)
                       .values(consecutive_failures=Webhook.consecutive_failures + 1))
    disabled = db.session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.enabled.is_(True),
               Webhook.consecutive_failures >= int(current_app.config["WEBHOOK_DISABLE_AFTER"]))
        .values(enabled=False, disabled_at=utcnow())
    ).rowcount
    if disabled:
        log.warning("webhook disabled after repeated failed deliveries",
                    extra={"webhook_id": webhook_id})
