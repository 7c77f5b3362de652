"""Thin Celery tasks: they take ids and call plain functions."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from service.queue import enqueue_moderation

log = logging.getLogger(__name__)


@shared_task(name="vetted.moderate_comment", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=30, time_limit=60, ignore_result=True)
def moderate_comment(comment_id: int) -> str | None:
    # Imported when run, so web processes never load the models just to register the task.
    from worker import moderation

    decision = moderation.moderate_and_drain(comment_id)
    return decision.status.value if decision else None


@shared_task(name="vetted.requeue_stranded", ignore_result=True, time_limit=60)
def requeue_stranded() -> int:
    """Queue again every comment still pending after the grace period (lost or killed tasks)."""
    from worker import moderation

    ids = moderation.stranded_comment_ids(current_app.config["STRANDED_AFTER_SECONDS"])
    # Past the gate: a drain that died may still hold it.
    queued = sum(enqueue_moderation(comment_id, coalesce=False) for comment_id in ids)
    if ids:
        log.info("re-queued stranded comments", extra={"found": len(ids), "queued": queued})
    return queued


@shared_task(name="vetted.deliver_webhook", bind=True, acks_late=True, ignore_result=True,
             soft_time_limit=30, time_limit=60)
def deliver_webhook(self, delivery_id: int) -> None:
    """One signed POST; the delivery row counts attempts, so redelivered messages stay bounded."""
    from service.webhook_delivery import attempt_delivery

    countdown = attempt_delivery(delivery_id)
    if countdown is not None:
        raise self.retry(countdown=countdown, max_retries=None)


@shared_task(name="vetted.requeue_webhook_deliveries", ignore_result=True, time_limit=60)
def requeue_webhook_deliveries() -> int:
    """Queue again deliveries whose message was never sent (broker down at commit time)."""
    from service.webhooks import enqueue_delivery, stranded_delivery_ids

    ids = stranded_delivery_ids(current_app.config["STRANDED_AFTER_SECONDS"] * 2)
    return sum(enqueue_delivery(delivery_id) for delivery_id in ids)
