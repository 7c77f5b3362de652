"""The SQLAlchemy and Alembic extensions, unbound until create_app calls init_app."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Objects stay readable after commit: views answer from what they just wrote without a re-SELECT.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")
migrate = Migrate(directory=MIGRATIONS_DIR, render_as_batch=True)


def autocommit_engine() -> Engine:
    """The app's engine with each statement its own transaction; it shares the engine's pool."""
    extensions = current_app.extensions
    if "vetted.autocommit_engine" not in extensions:
        extensions["vetted.autocommit_engine"] = db.engine.execution_options(
            isolation_level="AUTOCOMMIT")
    return extensions["vetted.autocommit_engine"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite shared by web, worker and beat: WAL for readers, waits instead of lock errors."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
