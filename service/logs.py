"""Structured logs: one JSON object per line, with the request id that follows a comment."""

from __future__ import annotations

import logging
import secrets
import sys
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

# The request id of the task being run, so worker log lines join the web request's.
task_request_id: ContextVar[str | None] = ContextVar("task_request_id", default=None)


CELERY_PER_TASK_LOGGERS = ("celery.app.trace", "celery.worker.strategy")


def current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    return task_request_id.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Celery's "received" and "succeeded" lines, two per task, repeat "comment decided" at a
    # measurable CPU cost; DEBUG brings them back.
    quiet = logging.WARNING if root.getEffectiveLevel() == logging.INFO else logging.NOTSET
    for name in CELERY_PER_TASK_LOGGERS:
        logging.getLogger(name).setLevel(quiet)


def request_id_from(incoming: str) -> str:
    """Take the proxy's id when it sends a sane one, so logs join up across hops."""
    return incoming if 8 <= len(incoming) <= 64 and incoming.isprintable() \
        else secrets.token_hex(8)


def init_app(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        g.request_id = request_id_from(request.headers.get("X-Request-Id", ""))

    @app.after_request
    def _echo_request_id(response):
        if rid := g.get("request_id"):
            response.headers["X-Request-Id"] = rid
        return response
