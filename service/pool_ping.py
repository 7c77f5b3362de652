"""Ping a pooled database connection before use only when it has sat idle.

SQLAlchemy's pool_pre_ping pings on every checkout; that was a fifth of a comment
submission's CPU. A connection in constant use was proven by the request that just returned
it; one idle for longer than DB_PING_AFTER_IDLE_SECONDS may have been dropped (a PostgreSQL
restart, a firewall's idle timeout), so it is pinged first and replaced if the ping fails.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_RETURNED_AT = "vetted.returned_at"


def install(engine: Engine, idle_seconds: float) -> None:
    """Ping on checkout when the connection has been idle `idle_seconds` (0: every time)."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record) -> None:
        record.info[_RETURNED_AT] = time.monotonic()  # just opened: nothing to prove

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and time.monotonic() - returned_at < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out a fresh one instead.
            raise DisconnectionError(f"idle connection failed its ping: {error}") from error
