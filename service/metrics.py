"""Prometheus metrics: counters and histograms shared by web and worker processes.

With PROMETHEUS_MULTIPROC_DIR set (as `vetted up` and the Docker image do), every gunicorn and
Celery process writes to that directory and /metrics adds them all up, workers included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

SUBMISSIONS = Counter("vetted_submissions_total", "Comment submissions by outcome", ["outcome"])
DECISIONS = Counter("vetted_decisions_total", "Status changes by resulting status and source",
                    ["verdict", "source"])
CHECK_SECONDS = Histogram(
    "vetted_check_duration_seconds", "Time spent in each check", ["check"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
SUBMIT_TO_DECISION = Histogram(
    "vetted_submit_to_decision_seconds", "From submission to the pipeline's decision",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
THREAD_LOOKUPS = Counter("vetted_thread_cache_lookups_total",
                         "Thread lookups on public list reads: hit, miss, or off (no live "
                         "subscription, so the database was asked)", ["result"])
WEBHOOK_DELIVERIES = Counter("vetted_webhook_deliveries_total", "Webhook delivery attempts",
                             ["outcome"])

# Submission answers by HTTP status, as stable outcome labels.
SUBMIT_OUTCOMES = {202: "accepted", 400: "bad_request", 403: "origin_not_allowed",
                   404: "unknown_site", 413: "too_large", 415: "unsupported_media_type",
                   422: "invalid", 429: "rate_limited", 503: "unavailable"}


def record_submission(status_code: int) -> None:
    SUBMISSIONS.labels(SUBMIT_OUTCOMES.get(status_code, f"http_{status_code}")).inc()


def decision_source(actor: str) -> str:
    """'check:pipeline' -> 'check', 'moderator:12' -> 'moderator'."""
    return actor.split(":", 1)[0]


class QueueAgeCollector:
    """Age of the oldest pending and review comment, read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from service.db import db
        from service.models import Comment, Status, utcnow

        gauge = GaugeMetricFamily("vetted_queue_oldest_seconds",
                                  "Age of the oldest comment waiting, by status", labels=["status"])
        now = utcnow()
        for status in (Status.PENDING, Status.REVIEW):
            oldest = db.session.scalar(select(func.min(Comment.created_at))
                                       .where(Comment.status == status))
            gauge.add_metric([status.value], (now - oldest).total_seconds() if oldest else 0.0)
        yield gauge


def process_registry() -> CollectorRegistry:
    """Every process's metrics in multiprocess mode, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    database = CollectorRegistry()
    database.register(QueueAgeCollector())
    try:
        body = generate_latest(process_registry()) + generate_latest(database)
    except Exception:  # a database outage must not hide the process metrics
        current_app.logger.warning("queue age metrics unavailable")
        body = generate_latest(process_registry())
    return Response(body, content_type=CONTENT_TYPE_LATEST)
