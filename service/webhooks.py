"""Webhook registration and delivery planning: plain functions the API and transitions call."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import inspect, select

from service.after_commit import call_after_commit
from service.changes import EVENT_TYPES, event_json
from service.db import db
from service.errors import ApiError
from service.models import Comment, Site
from service.requeue import claim_stale
from service.webhook_models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

EventType = Literal["comment.approved", "comment.removed", "comment.updated"]
Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=200)]
FINAL_STATUSES = ("succeeded", "failed", "skipped")
DELIVERIES_LIMIT = 100


class WebhookRegistration(BaseModel):
    """POST /api/v1/webhooks: where to send which events; the secret is generated if absent."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    secret: Secret | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(
            c.isspace() for c in value
        ):
            raise ValueError("must be an http or https URL")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


def create_webhook(site: Site, data: WebhookRegistration, actor: str) -> tuple[Webhook, str]:
    """Store the subscription; returns it and its secret (shown to the admin only once)."""
    secret = data.secret or "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(site_id=site.id, url=data.url, events=data.events, secret=secret,
                   created_by=actor)
    db.session.add(hook)
    db.session.commit()
    return hook, secret


def site_webhooks(site: Site) -> list[Webhook]:
    return list(db.session.scalars(
        select(Webhook).where(Webhook.site_id == site.id).order_by(Webhook.id)))


def get_webhook(webhook_id: int) -> Webhook:
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise ApiError(404, "not_found", f"no webhook {webhook_id}")
    return hook


def delete_webhook(hook: Webhook) -> None:
    db.session.delete(hook)
    db.session.commit()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def webhook_json(hook: Webhook) -> dict[str, Any]:
    """What the API shows of a webhook: never its secret (that is in the 201 answer only)."""
    return {
        "id": hook.id,
        "site": hook.site.slug,
        "url": hook.url,
        "events": hook.events,
        "enabled": hook.enabled,
        "consecutive_failures": hook.consecutive_failures,
        "disabled_at": _iso(hook.disabled_at),
        "created_at": _iso(hook.created_at),
    }


def deliveries(hook: Webhook, before: int, limit: int) -> dict[str, Any]:
    """The delivery log, newest first, keyset-paginated by id."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    if before:
        query = query.where(WebhookDelivery.id < before)
    rows = db.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    return {
        "deliveries": [delivery_json(d) for d in page],
        "next": str(page[-1].id) if len(rows) > limit else None,
    }


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_seq": delivery.event_seq,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": _iso(delivery.created_at),
        "last_attempt_at": _iso(delivery.last_attempt_at),
        "completed_at": _iso(delivery.completed_at),
    }


def payload_for(seq: int, event_type: str, comment: Comment) -> str:
    """The exact body sent: the feed's event plus the site, compact and stable."""
    body = event_json(seq, event_type, comment) | {"site": comment.site.slug}
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def plan_deliveries(events: list[tuple[Comment, int, str]]) -> list[WebhookDelivery]:
    """In the changes' own transaction: one delivery row per (comment, seq, event type) and
    subscribed, enabled webhook of its site.

    The rows commit (or roll back) with the events, and their tasks are queued only after that.
    """
    if not events:
        return []
    site_ids = {comment.site_id for comment, _, _ in events}
    hooks_by_site: dict[int, list[Webhook]] = {}
    for hook in db.session.scalars(
        select(Webhook).where(Webhook.site_id.in_(site_ids), Webhook.enabled.is_(True))
    ):
        hooks_by_site.setdefault(hook.site_id, []).append(hook)
    planned = []
    for comment, seq, event_type in events:
        hooks = [hook for hook in hooks_by_site.get(comment.site_id, [])
                 if event_type in hook.events]
        if hooks:
            payload = payload_for(seq, event_type, comment)
            planned += [WebhookDelivery(webhook_id=hook.id, event_seq=seq, event_type=event_type,
                                        payload=payload) for hook in hooks]
    db.session.add_all(planned)
    for delivery in planned:
        call_after_commit(_enqueue_planned, delivery)
    return planned


def _enqueue_planned(delivery: WebhookDelivery) -> None:
    # The identity is known after the flush without touching the (closed) transaction.
    enqueue_delivery(inspect(delivery).identity[0])


def enqueue_delivery(delivery_id: int) -> bool:
    """Queue one delivery; False when the broker is down (the re-queue task catches up)."""
    try:
        current_app.extensions["celery"].send_task(
            "vetted.deliver_webhook", args=[delivery_id], retry=False)
        return True
    except Exception as error:  # noqa: BLE001 - any broker failure means "re-queue later"
        log.warning("broker unavailable, webhook delivery %s will be re-queued: %s",
                    delivery_id, type(error).__name__)
        return False


def stranded_delivery_ids(older_than_seconds: float, limit: int = 1000) -> list[int]:
    """Deliveries never attempted long after they were queued; marks them queued again."""
    return claim_stale(WebhookDelivery, "pending", older_than_seconds, limit)
