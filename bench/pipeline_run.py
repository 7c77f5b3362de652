"""Pipeline figure: N submissions from K concurrent clients, timed until every one is decided."""

from __future__ import annotations

import http.client
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from bench.texts import comment_text
from bench.vetted_peer import SITE, decided_count


def _post(port: int, payload: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/api/v1/comments", json.dumps(payload),
                     {"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def submit_all(port: int, article: str, count: int, clients: int, tag: str) -> list[int]:
    """Every submission's HTTP status, sent by `clients` threads."""
    rng = random.Random(tag)
    bodies = [comment_text(rng) for _ in range(count)]

    def one(n: int) -> int:
        return _post(port, {
            "site": SITE, "article": article, "name": f"Pipeline {tag} {n}",
            "email": f"pipeline-{tag}-{n}@example.org", "body": bodies[n],
        })

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, range(count)))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def decision_latencies(app: Flask, article: str) -> list[float]:
    """Seconds from comments.created_at to comments.decided_at, for one article."""
    from service.db import db
    from service.models import Article, Comment

    with app.app_context():
        rows = db.session.execute(
            select(Comment.created_at, Comment.decided_at)
            .join(Article, Article.id == Comment.article_id)
            .where(Article.key == article, Comment.decided_at.is_not(None))
        ).all()
        db.session.remove()
    return [(decided - created).total_seconds() for created, decided in rows
            if isinstance(decided, datetime)]


def run_pipeline(app: Flask, port: int, count: int, clients: int, timeout: float,
                 tag: str) -> dict[str, object]:
    article = f"/bench/pipeline-{tag}"
    started = time.monotonic()
    statuses = submit_all(port, article, count, clients, tag)
    submitted_s = time.monotonic() - started
    accepted = sum(200 <= s < 300 for s in statuses)
    decided = 0
    while time.monotonic() - started < timeout:
        decided, _ = decided_count(app, article)
        if decided >= accepted:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    latencies = decision_latencies(app, article)
    return {
        "submissions": count,
        "clients": clients,
        "accepted": accepted,
        "non_2xx": count - accepted,
        "decided": decided,
        "complete": decided >= accepted,
        "submit_seconds": round(submitted_s, 3),
        "seconds": round(elapsed, 3),
        "decisions_per_s": round(decided / elapsed, 1) if elapsed else 0.0,
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p99_s": round(percentile(latencies, 99), 3),
        "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else 0.0,
    }
