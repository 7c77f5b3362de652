"""Vetted in its production set-up: schema and seed in-process, gunicorn + Celery worker children.

The web and worker processes get only what production gets: DATABASE_URL, REDIS_URL,
VETTED_SECRET_KEY and VETTED_RATELIMIT_ENABLED=0 (so one client may post thousands of comments).
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from bench.processes import GunicornSettings, Service, gunicorn, wait_http

SITE, READ_ARTICLE, WRITE_ARTICLE = "bench", "/bench/read", "/bench/write"
BIN = Path(sys.executable).parent


def child_env(database_url: str, redis_url: str, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTED_")}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, VETTED_SECRET_KEY=secret,
               VETTED_RATELIMIT_ENABLED="0")
    return env


def make_app(database_url: str, redis_url: str, secret: str) -> Flask:
    """An in-process app on the same database, for seeding and for reading the outcome."""
    from service import create_app
    from service.config import normalise_database_url

    return create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": redis_url,
        "SECRET_KEY": secret,
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    })


def prepare(app: Flask, read_comments: int) -> None:
    """Migrate an empty database, create the site, seed the read thread with approved comments."""
    from flask_migrate import upgrade

    from service import comments as svc
    from service.db import db
    from service.models import Comment, Status
    from service.schemas import CommentSubmission
    from service.sites import create_site
    from service.transitions import change_status

    with app.app_context():
        upgrade(revision="heads")
    with app.test_request_context():
        site = create_site(SITE, "Benchmark")
        meta = svc.RequestMeta(ip="127.0.0.1", user_agent="bench", referrer=None)
        for n in range(read_comments):
            data = CommentSubmission.model_validate({
                "site": SITE, "article": READ_ARTICLE, "name": f"Seeder {n}",
                "email": f"seed-{n}@example.org",
                "body": f"Seed comment {n}: the section on the **budget** was useful, thanks.",
            })
            comment_id, _ = svc.submit_comment(site, data, meta)
            change_status(db.session.get(Comment, comment_id), Status.APPROVED, actor="bench",
                          action="seed", reason="bench.seed")
            db.session.commit()
        db.session.remove()


def dispose(app: Flask) -> None:
    """Close the in-process pool, so the database can be dropped."""
    from service.db import db

    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def decided_count(app: Flask, article_key: str | None = None) -> tuple[int, int]:
    """(decided, pending) comments, for one article or all."""
    from service.db import db
    from service.models import Article, Comment, Status

    with app.app_context():
        query = select(Comment.status, func.count()).group_by(Comment.status)
        if article_key is not None:
            query = query.join(Article, Article.id == Comment.article_id).where(
                Article.key == article_key)
        counts = dict(db.session.execute(query).all())
        db.session.remove()
    pending = counts.pop(Status.PENDING.value, 0)
    return sum(counts.values()), pending


def wait_until_drained(app: Flask, timeout: float) -> int:
    """Wait for the worker to decide every pending comment; returns how many are still pending."""
    deadline = time.monotonic() + timeout
    while True:
        _, pending = decided_count(app)
        if pending == 0 or time.monotonic() > deadline:
            return pending
        time.sleep(0.25)


def start_web(port: int, env: dict[str, str], settings: GunicornSettings,
              log_dir: Path) -> Service:
    service = gunicorn("vetted-web", str(BIN / "gunicorn"), "service.wsgi:app", port, settings,
                       env, log_dir)
    wait_http(service, f"http://127.0.0.1:{port}/healthz")
    return service


def start_worker(env: dict[str, str], concurrency: int, log_dir: Path,
                 name: str = "vetted-worker", timeout: float = 60) -> Service:
    """A Celery worker as production runs it (prefork); waits for its "ready" line."""
    command = [str(BIN / "celery"), "-A", "worker.app", "worker", "--loglevel", "INFO",
               "--concurrency", str(concurrency), "--queues", "vetted",
               "--hostname", f"bench-{secrets.token_hex(3)}@%h"]
    service = Service(name, command, env, log_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{name} exited:\n{service.tail()}")
        if " ready." in service.log_path.read_text(errors="replace"):
            return service
        time.sleep(0.2)
    service.stop()
    raise RuntimeError(f"{name} not ready within {timeout} s:\n{service.tail()}")


def read_url(base: str) -> str:
    return f"{base}/api/v1/comments?site={SITE}&article={READ_ARTICLE}&limit=200"
