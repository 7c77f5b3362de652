"""The benchmark's own PostgreSQL database and Redis db: created fresh, dropped or flushed after.

Only names starting with "vetted_bench" are ever created or dropped, so a typo cannot touch
the `test` database or anyone else's.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import redis

PREFIX = "vetted_bench"


def _checked(name: str) -> str:
    if not re.fullmatch(rf"{PREFIX}[a-z0-9_]*", name):
        raise ValueError(f"refusing database name {name!r}: it must start with {PREFIX!r}")
    return name


def database_url(admin_url: str, name: str) -> str:
    """The admin URL with its database swapped for ours."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + _checked(name)))


def _admin(admin_url: str):
    import psycopg

    url = admin_url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def create_postgres(admin_url: str, name: str) -> str:
    """Drop any leftover copy and create the database empty; returns its URL."""
    name = _checked(name)
    with _admin(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def drop_postgres(admin_url: str, name: str) -> None:
    name = _checked(name)
    with _admin(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis_db(url: str) -> None:
    """FLUSHDB on the one db number in the URL (never FLUSHALL)."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
