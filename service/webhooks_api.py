"""Admin API for webhooks: register, list, delete, and read the delivery log."""

from __future__ import annotations

from flask import Blueprint, g, request

from service import webhooks
from service.comments import get_site
from service.models import MAX_ID
from service.query_args import int_arg, required_arg
from service.schemas import parse
from service.tokens import require, require_site
from service.webhook_models import Webhook

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")


def _own_webhook(webhook_id: int) -> Webhook:
    """The webhook, if the admin's token covers its site (404 first, so ids are not probed)."""
    hook = webhooks.get_webhook(webhook_id)
    require_site(g.token, hook.site.slug)
    return hook


@bp.post("/webhooks")
@require("admin")
def register():
    slug = required_arg("site")
    require_site(g.token, slug)
    site = get_site(slug)
    data = parse(webhooks.WebhookRegistration, request.get_json(silent=True))
    hook, secret = webhooks.create_webhook(site, data, f"admin:{g.token.id}")
    # The only time the secret is shown: the receiver needs it to verify signatures.
    return webhooks.webhook_json(hook) | {"secret": secret}, 201


@bp.get("/webhooks")
@require("admin")
def list_webhooks():
    slug = required_arg("site")
    require_site(g.token, slug)
    return {"webhooks": [webhooks.webhook_json(h) for h in webhooks.site_webhooks(get_site(slug))]}


@bp.delete("/webhooks/<int:webhook_id>")
@require("admin")
def delete(webhook_id: int):
    webhooks.delete_webhook(_own_webhook(webhook_id))
    return "", 204


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@require("admin")
def deliveries(webhook_id: int):
    hook = _own_webhook(webhook_id)
    before = int_arg("before", 0, 0, MAX_ID)
    limit = int_arg("limit", 50, 1, webhooks.DELIVERIES_LIMIT)
    return webhooks.deliveries(hook, before, limit)
