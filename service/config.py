"""Default settings, one comment each; environment variables override them (12-factor)."""

from __future__ import annotations

import os
from typing import Any

# Placeholder key: fine for `vetted up` and tests, refused by the production entry point.
DEV_SECRET_KEY = "vetted-dev-secret-change-me"  # noqa: S105 - a known placeholder, refused by wsgi


def _celery(broker_url: str, visibility_timeout: int = 300) -> dict[str, Any]:
    """All Celery settings under one key, as Flask's Celery pattern expects."""
    return {
        "broker_url": broker_url,
        # Results are written to the database by the tasks themselves.
        "task_ignore_result": True,
        # Acknowledge after the check ran, so a killed worker's comment is redelivered.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 4,
        # A submission must not hang when Redis is down: the re-queue task catches up.
        "broker_connection_timeout": 2,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
            # Unacknowledged messages come back after this many seconds.
            "visibility_timeout": visibility_timeout,
        },
        "task_default_queue": "vetted",
        # Our JSON log handler (configured by create_app) stays in charge in worker processes.
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "requeue-stranded": {"task": "vetted.requeue_stranded", "schedule": 10.0},
            "requeue-webhooks": {"task": "vetted.requeue_webhook_deliveries", "schedule": 60.0},
            "purge-personal-data": {"task": "vetted.purge_personal_data", "schedule": 3600.0},
        },
    }


def defaults() -> dict[str, Any]:
    """Settings before the environment is read."""
    return {
        # Signs nothing public but keys the avatar hash; must be secret in production.
        "SECRET_KEY": DEV_SECRET_KEY,
        # SQLite file under ./instance on a laptop, PostgreSQL in production.
        "SQLALCHEMY_DATABASE_URI": "sqlite:///vetted.db",
        # No ping on every checkout: service/pool_ping.py pings connections that sat idle.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        # A pooled connection idle this long is pinged before use, so a restarted PostgreSQL
        # is picked up again; 0 pings on every use.
        "DB_PING_AFTER_IDLE_SECONDS": 1.0,
        # Broker, rate limits and cache; empty means "no Redis configured" (vetted up embeds one).
        "REDIS_URL": "",
        # Reject request bodies larger than this many bytes with 413.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        # Ask DNS whether the email domain accepts mail (slow; off by default).
        "EMAIL_CHECK_DELIVERABILITY": False,
        # Pending comments a worker decides together in one transaction (one commit, one model
        # call); 1 turns batching off.
        "MODERATION_BATCH_SIZE": 50,
        # Longest a drain keeps submissions from queueing tasks, should it die (a batch of 50
        # takes well under a second; the drain renews it with every full batch).
        "MODERATION_GATE_SECONDS": 3,
        # A drain opened by a submission starts this many seconds later, so under load it
        # finds a batch rather than one comment (each batch costs a task and a commit).
        "MODERATION_COLLECT_SECONDS": 0.1,
        # How much CPU priority the worker gives up to the web (a nice increment, 0-19): on
        # shared cores a burst's moderation then waits for spare CPU instead of slowing
        # requests; 0 keeps them equal.
        "WORKER_NICE": 10,
        # Seconds a web process may use a site's policy before reading it again (public paths).
        "SITE_CACHE_SECONDS": 5,
        # Longest a web process trusts a thread's cached version should a change announcement be
        # lost (announcements normally evict it at once); 0 reads the database on every list.
        "THREAD_CACHE_SECONDS": 30,
        # A comment still pending after this many seconds is queued again by the beat task.
        "STRANDED_AFTER_SECONDS": 30,
        # Webhook retries wait this many seconds times 2**(attempt-1); tests shorten it.
        "WEBHOOK_BACKOFF_SECONDS": 2.0,
        # Attempts per webhook delivery before it counts as failed.
        "WEBHOOK_MAX_ATTEMPTS": 8,
        # Consecutive failed deliveries after which a webhook is disabled.
        "WEBHOOK_DISABLE_AFTER": 10,
        # HTTP rate limits and the per-IP/per-email flood checks ("0" for benchmarks only).
        "RATELIMIT_ENABLED": True,
        # Submissions allowed per client IP (Flask-Limiter syntax).
        "RATELIMIT_SUBMIT": "10 per minute;100 per hour",
        # Submissions allowed per site, whatever the IP (caps a distributed flood on one site).
        "RATELIMIT_SUBMIT_PER_SITE": "300 per minute",
        # Failed token checks (401) allowed per client IP before 429: stops token guessing.
        "RATELIMIT_AUTH_FAILURES": "10 per minute",
        # Days after a decision before a comment's IP and user agent are erased.
        "RETENTION_DAYS": 30,
        # Seconds before a reserved but unacknowledged task is delivered again (killed worker).
        "VISIBILITY_TIMEOUT_SECONDS": 300,
        # Number of reverse proxies in front whose X-Forwarded-For is trusted (0 = none).
        "TRUSTED_PROXIES": 0,
        # Log format: "json" for machines, "text" for people.
        "LOG_FORMAT": "json",
        # Port on which a worker serves /metrics itself (0 = off; needs PROMETHEUS_MULTIPROC_DIR).
        "WORKER_METRICS_PORT": 0,
        # Lowest level logged; emails and tokens are never logged at INFO.
        "LOG_LEVEL": "INFO",
        # Seconds a process keeps its learned spam model before asking the database for a newer one.
        "LEARNED_MODEL_REFRESH_SECONDS": 5,
        # SMTP server for "comment waits for review" emails to moderators ("" = no emails).
        "SMTP_HOST": "",
        # SMTP port (25 plain, 587 with SMTP_STARTTLS).
        "SMTP_PORT": 25,
        # Sender address of moderator notifications.
        "SMTP_FROM": "vetted@localhost",
        # SMTP login, when the server wants one ("" = no login).
        "SMTP_USERNAME": "",
        # SMTP password for SMTP_USERNAME.
        "SMTP_PASSWORD": "",
        # Upgrade the SMTP connection with STARTTLS before logging in.
        "SMTP_STARTTLS": False,
        # Review page address put in notification emails ("" = just name the /moderate page).
        "MODERATE_URL": "",
    }


def from_environment(config: dict[str, Any]) -> None:
    """Apply the unprefixed variables DESIGN.md names (VETTED_* are read by Flask itself)."""
    if url := os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if url := os.environ.get("REDIS_URL"):
        config["REDIS_URL"] = url


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def finalise(config: dict[str, Any]) -> None:
    """Derive the settings that depend on others once all sources are applied."""
    redis_url = config["REDIS_URL"]
    celery = _celery(redis_url or "memory://", int(config["VISIBILITY_TIMEOUT_SECONDS"]))
    celery.update(config.get("CELERY", {}))
    config["CELERY"] = celery
    config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
