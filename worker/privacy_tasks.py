"""Retention: the beat task that lets IPs and user agents expire."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from service.privacy import purge_personal_data as purge

log = logging.getLogger(__name__)


@shared_task(name="vetted.purge_personal_data", ignore_result=True, time_limit=300)
def purge_personal_data() -> int:
    """Clear IP and user agent of comments decided more than RETENTION_DAYS ago."""
    cleared = purge(int(current_app.config["RETENTION_DAYS"]))
    if cleared:
        log.info("cleared expired personal data", extra={"comments": cleared})
    return cleared
