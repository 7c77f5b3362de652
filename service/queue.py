"""Enqueueing work for the workers; a broker outage delays moderation but never fails a request."""

from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)


def enqueue_moderation(comment_id: int, request_id: str | None = None) -> bool:
    """Queue the checks for a committed comment; False when the broker is unreachable.

    Publishing is not retried here: the beat task re-queues comments left pending, so the
    submitter gets a fast 202 even while Redis is down.
    """
    celery = current_app.extensions["celery"]
    try:
        celery.send_task(
            "vetted.moderate_comment",
            args=[comment_id],
            headers={"request_id": request_id} if request_id else None,
            retry=False,
        )
        return True
    except Exception as error:  # noqa: BLE001 - any broker failure means "re-queue later"
        log.warning("broker unavailable, comment %s will be re-queued: %s", comment_id,
                    type(error).__name__)
        return False
