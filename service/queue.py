"""Enqueueing work for the workers; a broker outage delays moderation but never fails a request."""

from __future__ import annotations

import contextlib
import logging

from flask import current_app

from service.moderation_gate import open_gate, release_gate

log = logging.getLogger(__name__)


def enqueue_moderation(comment_id: int, request_id: str | None = None, *,
                       coalesce: bool = True) -> bool:
    """Make sure a drain will decide this committed comment; False when the broker is down.

    With `coalesce`, nothing is queued while a drain is running: it reaches this comment
    (service/moderation_gate.py). Publishing is not retried here: the beat task re-queues
    comments left pending, so the submitter gets a fast 202 even while Redis is down.
    """
    config = current_app.config
    celery = current_app.extensions["celery"]
    url = config["REDIS_URL"]
    gated = False
    try:
        if coalesce and url:
            if not open_gate(url, float(config["MODERATION_GATE_SECONDS"])):
                return True
            gated = True
        # A new drain waits a moment to collect a batch; a drain's follow-up has one waiting.
        delay = float(config["MODERATION_COLLECT_SECONDS"]) if gated else 0.0
        celery.send_task(
            "vetted.moderate_comment",
            args=[comment_id],
            headers={"request_id": request_id} if request_id else None,
            countdown=delay or None,
            retry=False,
        )
        return True
    except Exception as error:  # noqa: BLE001 - any broker failure means "re-queue later"
        log.warning("broker unavailable, comment %s will be re-queued: %s", comment_id,
                    type(error).__name__)
        if gated:
            with contextlib.suppress(Exception):  # let the next submission try to queue
                release_gate(url)
        return False
