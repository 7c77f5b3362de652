"""Shared fixtures: a real database (SQLite, or PostgreSQL via DATABASE_URL), a real Redis
(REDIS_URL, or a private redis-server) and a real Celery worker thread."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import text

from service import create_app, list_cache, thread_cache
from service.db import db
from service.models import Comment, Site
from service.sites import create_site

T = TypeVar("T")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    from service.embedded import start_redis

    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if url := os.environ.get("DATABASE_URL"):
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "vetted.db")


def make_app(database_url: str, redis_url: str, **overrides: Any) -> Flask:
    """An app on the test services; config knobs are parameters, not patches."""
    from service.config import normalise_database_url

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": False,
        "STRANDED_AFTER_SECONDS": 30,
        # Tests change policies and post at once; tests of the cache itself turn it on.
        "SITE_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str) -> Iterator[Flask]:
    app = make_app(database_url, redis_url)
    with app.app_context():
        reset_schema(app)
    yield app
    dispose(app)


def dispose(app: Flask) -> None:
    """Close pooled connections so no socket outlives its test."""
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture()
def app_factory(database_url: str, redis_url: str) -> Iterator[Callable[..., Flask]]:
    """Extra apps with other settings (`app_factory(RATELIMIT_ENABLED=True)`), closed after."""
    made: list[Flask] = []

    def factory(redis: str | None = None, **overrides: Any) -> Flask:
        made.append(make_app(database_url, redis or redis_url, **overrides))
        return made[-1]

    yield factory
    for extra in made:
        dispose(extra)


def reset_schema(app: Flask) -> None:
    """Fresh schema built by the migrations themselves, so they are tested on every run."""
    from flask_migrate import upgrade

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="heads")


TABLES = ["check_results", "audit_events", "change_events", "comments", "articles",
          "api_tokens", "sites", "learned_spam_models", "labelled_examples"]


@pytest.fixture(autouse=True)
def clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty tables and Redis before each test that uses the shared app."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    flush_queue(app)
    empty_tables(app)
    list_cache.clear()
    thread_cache.clear()
    from worker.learning import forget_cached_model  # no test scores with an earlier test's model

    forget_cached_model()
    yield
    # Nothing queued by this test may reach the next module's worker.
    flush_queue(app)


def flush_queue(app: Flask) -> None:
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    client.flushdb()
    client.close()


def empty_tables(app: Flask, attempts: int = 5) -> None:
    """Delete every row; a worker thread may still be finishing the previous test's batch,
    so a clash with it (deadlock, or a row it just inserted) is simply tried again."""
    from sqlalchemy.exc import DBAPIError

    with app.app_context():
        for attempt in range(attempts):
            db.session.remove()
            try:
                for table in TABLES:
                    db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
                db.session.execute(text("UPDATE feed_counter SET last_seq = 0"))
                db.session.commit()
                return
            except DBAPIError:
                db.session.rollback()
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5)


@pytest.fixture()
def client(app: Flask):
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def celery_worker(app: Flask) -> Iterator[Any]:
    """A real Celery worker consuming from the real Redis broker in a thread (per module, so
    modules without it can drive status changes themselves)."""
    celery_app = app.extensions["celery"]
    with start_worker(celery_app, pool="solo", perform_ping_check=False,
                      shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


@pytest.fixture()
def site(app: Flask) -> Site:
    with app.app_context():
        return create_site("news", "News", ["https://news.example"])


def comment_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "site": "news",
        "article": "/2023/12/india-russia-talks",
        "name": "Asha Rao",
        "email": "asha@example.org",
        "body": "I disagree with the author about the tariffs; "
                "the 2019 figures tell another story.",
    }
    payload.update(overrides)
    return payload


def poll_until(read: Callable[[], T], ready: Callable[[T], bool], timeout: float = 10) -> T:
    """Read until `ready` holds or the timeout passes; the last reading either way."""
    deadline = time.monotonic() + timeout
    while not ready(value := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def wait_for_status(app: Flask, comment_id: int, *, not_in: tuple[str, ...] = ("pending",),
                    timeout: float = 20) -> str:
    """Poll the database until the worker has moved the comment out of `not_in`."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            status = db.session.get(Comment, comment_id).status
            db.session.remove()
        if status not in not_in or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def status_of(app: Flask, comment_id: int) -> str:
    """A comment's status as the database has it now."""
    with app.app_context():
        status = db.session.get(Comment, comment_id).status
        db.session.remove()
        return status


@pytest.fixture()
def submit(client) -> Callable[..., Any]:
    def _submit(**overrides: Any):
        return client.post("/api/v1/comments", json=comment_payload(**overrides))
    return _submit


def store_without_queueing(app: Flask, site: Site, **overrides: Any) -> int:
    """Commit a pending comment exactly as a submission does, but queue nothing."""
    from service import comments as svc
    from service.schemas import CommentSubmission

    with app.test_request_context():
        stored_id, _ = svc.submit_comment(
            db.session.merge(site), CommentSubmission.model_validate(comment_payload(**overrides)),
            svc.RequestMeta(ip="203.0.113.9", user_agent="pytest", referrer=None))
        return stored_id


# Debian's chromium, headless, with nothing that reaches for the network on its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


ROOT = Path(__file__).resolve().parent.parent
