"""Worker memory over many decisions: does a Celery worker's RSS stay flat?

Run: .venv/bin/python bench/worker_memory.py [--decisions 50000]
Feeds N pending comments through one real worker process (prefork, as production runs it) in
batches, samples the resident memory of the worker and its children every 5% of the way, and
compares the end with the 10% mark (after warm-up: models loaded, pools filled). Issue 7's
target: flat within 10% over 50,000 decisions. Uses a fresh PostgreSQL database
(vetted_bench_memory) and Redis db 10, both removed afterwards; --database-url for another one.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench import databases, vetted_peer  # noqa: E402
from bench.processes import tree_rss_kib  # noqa: E402
from bench.texts import comment_text  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=50_000, help="comments to decide")
    parser.add_argument("--batch", type=int, default=1000,
                        help="comments stored and queued whenever the backlog falls below this")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--stall-timeout", type=float, default=120,
                        help="give up when no decision is made for this long (s)")
    parser.add_argument("--database-url", help="instead of a fresh PostgreSQL database")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-database", default="vetted_bench_memory")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10",
                        help="broker; this db number is flushed before and after")
    parser.add_argument("--output", type=Path,
                        default=BENCH / "results" / "worker_memory.json")
    return parser.parse_args(argv)


def store_and_queue(app, start: int, count: int) -> None:
    """Store `count` pending comments exactly as a submission does, then queue each."""
    from service import comments as svc
    from service.queue import enqueue_moderation
    from service.schemas import CommentSubmission

    meta = svc.RequestMeta(ip="127.0.0.1", user_agent="bench", referrer=None)
    rng = random.Random(start)
    with app.test_request_context():
        site = svc.get_site(vetted_peer.SITE)
        for n in range(start, start + count):
            # 500 authors over 100 articles: author history and threads grow as in real use.
            data = CommentSubmission.model_validate({
                "site": vetted_peer.SITE, "article": f"/bench/memory/{n % 100}",
                "name": f"Reader {n % 500}", "email": f"reader-{n % 500}@example.org",
                "body": comment_text(rng),
            })
            comment_id, _ = svc.submit_comment(site, data, meta)
            enqueue_moderation(comment_id)


def feed(app, worker, args: argparse.Namespace) -> list[dict[str, float]]:
    """Keep the backlog topped up until N are decided; sample RSS every 5%."""
    total, fed, samples = args.decisions, 0, []
    step = max(1, total // 20)
    next_mark, started = step, time.monotonic()
    last_decided, last_progress = 0, time.monotonic()
    while True:
        decided, pending = vetted_peer.decided_count(app)
        now = time.monotonic()
        if decided != last_decided:
            last_decided, last_progress = decided, now
        done = decided >= total
        # Every 5% mark passed, and the end itself when N is not a multiple of the step.
        while next_mark <= decided or (done and samples[-1]["decided"] < total):
            samples.append({"decided": min(next_mark, total), "seconds": round(now - started, 1),
                            "rss_mib": round(tree_rss_kib(worker.pid) / 1024, 1)})
            print(f"worker_memory: {samples[-1]}", file=sys.stderr, flush=True)
            next_mark += step
        if done:
            return samples
        if not worker.alive():
            raise RuntimeError(f"worker exited:\n{worker.tail()}")
        if now - last_progress > args.stall_timeout:
            raise RuntimeError(f"no decision for {args.stall_timeout:g} s at {decided}/{total}")
        if fed < total and pending < args.batch:
            count = min(args.batch, total - fed)
            store_and_queue(app, fed, count)
            fed += count
        else:
            time.sleep(0.5)


def summarise(samples: list[dict[str, float]], total: int) -> dict[str, object]:
    warm = next((s for s in samples if s["decided"] >= total // 10), samples[0])
    end = samples[-1]
    growth = (end["rss_mib"] - warm["rss_mib"]) / warm["rss_mib"]
    return {"decisions": total, "rss_at_10pct_mib": warm["rss_mib"], "rss_end_mib": end["rss_mib"],
            "rss_max_mib": max(s["rss_mib"] for s in samples),
            "growth_from_10pct": round(growth, 4), "flat_within_10pct": growth <= 0.10,
            "seconds": end["seconds"],
            "decisions_per_s": round(total / end["seconds"], 1) if end["seconds"] else None}


def markdown(summary: dict[str, object], samples: list[dict[str, float]]) -> str:
    lines = ["## Worker memory", "",
             f"- {summary['decisions']:,} decisions, worker RSS (main + prefork children): "
             f"{summary['rss_at_10pct_mib']} MiB at 10%, {summary['rss_end_mib']} MiB at the end, "
             f"max {summary['rss_max_mib']} MiB",
             f"- growth from 10% to end: {summary['growth_from_10pct']:.1%} -> target flat "
             f"within 10%: {'met' if summary['flat_within_10pct'] else 'missed'}",
             f"- {summary['decisions_per_s']} decisions/s over {summary['seconds']} s "
             "(includes storing the comments in the same run)",
             "", "| decided | seconds | RSS MiB |", "|---:|---:|---:|"]
    lines += [f"| {s['decided']:,} | {s['seconds']} | {s['rss_mib']} |" for s in samples]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    created = args.database_url is None
    database_url = args.database_url or databases.create_postgres(args.pg_admin_url,
                                                                  args.pg_database)
    databases.flush_redis_db(args.redis_url)
    secret = secrets.token_urlsafe(32)
    app = vetted_peer.make_app(database_url, args.redis_url, secret)
    try:
        vetted_peer.prepare(app, 0)
        env = vetted_peer.child_env(database_url, args.redis_url, secret)
        with tempfile.TemporaryDirectory(prefix="vetted-memory-") as tmp:
            worker = vetted_peer.start_worker(env, args.concurrency, Path(tmp))
            try:
                samples = feed(app, worker, args)
            finally:
                worker.stop()
    finally:
        vetted_peer.dispose(app)
        databases.flush_redis_db(args.redis_url)
        if created:
            databases.drop_postgres(args.pg_admin_url, args.pg_database)
    summary = summarise(samples, args.decisions)
    print(markdown(summary, samples))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"summary": summary, "samples": samples}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
