"""Pooled connections are pinged only after sitting idle, and a dead one is replaced unseen."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from service.db import db


def use_connection(app) -> int:
    """One request's worth of database use; returns the server's id for the connection."""
    with app.app_context():
        try:
            if db.engine.dialect.name == "postgresql":
                return db.session.scalar(text("SELECT pg_backend_pid()"))
            return db.session.scalar(text("SELECT 1"))
        finally:
            db.session.remove()


def count_pings(app, monkeypatch) -> list[int]:
    with app.app_context():
        dialect = db.engine.dialect
    pings: list[int] = []
    real_ping = dialect.do_ping

    def counting_ping(dbapi_connection):
        pings.append(1)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting_ping)
    return pings


def test_a_busy_connection_is_not_pinged_an_idle_one_is(app_factory, monkeypatch):
    app = app_factory(DB_PING_AFTER_IDLE_SECONDS=0.3)
    pings = count_pings(app, monkeypatch)
    use_connection(app)  # opens the connection: fresh, so no ping
    use_connection(app)
    assert pings == []
    time.sleep(0.4)
    use_connection(app)
    assert pings == [1]


def test_zero_pings_on_every_use(app_factory, monkeypatch):
    app = app_factory(DB_PING_AFTER_IDLE_SECONDS=0)
    pings = count_pings(app, monkeypatch)
    for _ in range(3):
        use_connection(app)
    assert len(pings) == 3


def test_an_idle_connection_the_server_dropped_is_replaced(app_factory, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a server that can drop a client's connection")
    app = app_factory(DB_PING_AFTER_IDLE_SECONDS=0.3)
    first = use_connection(app)
    with app_factory().app_context():
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        db.session.commit()
        db.session.remove()
    time.sleep(0.4)
    # The ping finds the connection dead; the pool opens a new one and the request succeeds.
    assert use_connection(app) != first
