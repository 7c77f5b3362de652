"""Operations endpoints: liveness, readiness (database and broker reachable)."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from service.db import db

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


def database_ready() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        db.session.rollback()
        return type(error).__name__


def broker_ready() -> str | None:
    try:
        with current_app.extensions["celery"].connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return type(error).__name__


@bp.get("/readyz")
def readyz():
    problems = {name: err for name, err in
                (("database", database_ready()), ("broker", broker_ready())) if err}
    if problems:
        return {"error": "unavailable", "message": "not ready", "fields": problems}, 503
    return {"status": "ready", "database": "ok", "broker": "ok"}
