"""Issue 7's benchmark: Vetted against Isso 0.14.0 and a Flask hello-world, on this machine.

Run: .venv/bin/python bench/run.py            (or `make bench`; --help for the knobs)
     .venv/bin/python bench/run.py --quick     (tiny numbers; what the smoke test runs)
Prints a Markdown table and writes bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
# Run as a script from anywhere: the repository root makes `bench` and `service` importable.
sys.path.insert(0, str(BENCH.parent))

from bench import check_run, databases, isso_peer, pipeline_run, report, vetted_peer  # noqa: E402
from bench.loadgen import LoadResult, WrkSettings, run_wrk  # noqa: E402
from bench.processes import ROOT, GunicornSettings, Service, gunicorn, wait_http  # noqa: E402

SCENARIOS = ["hello", "isso-read", "isso-write", "vetted-read", "vetted-write",
             "vetted-pipeline", "vetted-check"]
ALIASES = {"isso": ["isso-read", "isso-write"],
           "vetted": [s for s in SCENARIOS if s.startswith("vetted-")],
           "vetted-304": ["vetted-read"]}
FULL = {"duration": 10.0, "comments": 200, "pipeline_submissions": 2000,
        "pipeline_clients": 16, "pipeline_timeout": 300.0, "check_comments": 10000,
        "drain_timeout": 300.0, "time_wait_timeout": 75.0}
QUICK = {"duration": 1.0, "comments": 20, "pipeline_submissions": 100,
         "pipeline_clients": 4, "pipeline_timeout": 60.0, "check_comments": 50,
         "drain_timeout": 60.0, "time_wait_timeout": 0.0}
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny numbers (1 s runs, few comments): a smoke run, not figures")
    parser.add_argument("--only", default="",
                        help=f"comma list of {', '.join(SCENARIOS)} (or isso, vetted); "
                             "default all")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--duration", type=float, help="seconds per load run (10; quick 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, every server")
    parser.add_argument("--gunicorn-threads", type=int, default=1,
                        help="1 = sync workers (production default); more = gthread")
    parser.add_argument("--celery-concurrency", type=int, default=2,
                        help="Celery worker processes (prefork)")
    parser.add_argument("--comments", type=int, help="comments in the read thread (200)")
    parser.add_argument("--pipeline-submissions", type=int, help="pipeline submissions (2000)")
    parser.add_argument("--pipeline-clients", type=int, help="concurrent submitters (16)")
    parser.add_argument("--pipeline-timeout", type=float, help="give up waiting after (300 s)")
    parser.add_argument("--drain-timeout", type=float,
                        help="wait for the write run's backlog before the pipeline (300 s)")
    parser.add_argument("--time-wait-timeout", type=float,
                        help="longest wait for the last run's TIME_WAIT sockets (75 s; quick 0)")
    parser.add_argument("--check-comments", type=int, help="lines fed to vetted check (10000)")
    parser.add_argument("--database-url",
                        help="use this database instead of creating a fresh PostgreSQL one "
                             "(the smoke test passes a SQLite file)")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN,
                        help="PostgreSQL server where the bench database is created")
    parser.add_argument("--pg-database", default="vetted_bench",
                        help="name of the fresh database (must start with vetted_bench)")
    parser.add_argument("--keep-database", action="store_true",
                        help="do not drop the bench database afterwards")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS,
                        help="broker; its db number is flushed before and after (default /9)")
    parser.add_argument("--isso-venv", type=Path, default=isso_peer.VENV)
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--log-dir", type=Path,
                        help="keep the servers' logs here (default: a temporary directory)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    selected: list[str] = []
    for name in filter(None, (part.strip() for part in args.only.split(","))):
        if name not in SCENARIOS and name not in ALIASES:
            parser.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
        selected += ALIASES.get(name, [name])
    args.selected = [s for s in SCENARIOS if s in selected] if selected else list(SCENARIOS)
    return args


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    from service.embedded import free_port as _free

    return _free()


def settle(url: str, timeout: float = 300) -> None:
    """Wait for one request to get through: a slow server still works off the connections wrk
    left queued when it stopped, and the next run must not start behind them."""
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - loopback
        answer.read()


def time_wait_sockets() -> int:
    """TCP sockets in TIME_WAIT on this machine (Linux /proc/net/sockstat)."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("tw") + 1])
    return 0


def drain_time_wait(limit: int = 2_000, timeout: float = 75) -> None:
    """Each request is a new connection (sync gunicorn closes it), so a fast run leaves tens of
    thousands of sockets in TIME_WAIT, and the next run's connects must hunt for free ports:
    Vetted's write, measured after its read and 304 runs, lost a third of its rate to that.
    Every run starts once they have expired (Linux keeps them 60 s)."""
    deadline = time.monotonic() + timeout
    if (waiting := time_wait_sockets()) > limit:
        log(f"waiting for {waiting:,} TIME_WAIT sockets to expire")
    while time_wait_sockets() > limit and time.monotonic() < deadline:
        time.sleep(1)


def load(name: str, url: str, wrk: WrkSettings, settle_url: str, *, time_wait_timeout: float,
         **script_env: str) -> dict[str, Any]:
    drain_time_wait(timeout=time_wait_timeout)
    log(f"{name}: wrk {wrk.threads} threads, {wrk.connections} connections, "
        f"{wrk.duration:g} s -> {url}")
    result: LoadResult = run_wrk(url, wrk, script_env)
    settle(settle_url)
    log(f"{name}: {result.rps:,.1f} req/s, p99 {result.p99_ms:.1f} ms, "
        f"unexpected {result.unexpected}")
    if result.requests == 0:
        raise RuntimeError(f"{name}: no request completed within {wrk.duration:g} s")
    return result.as_dict()


def attempt(results: dict[str, Any], names: list[str], run: Callable[[], None]) -> None:
    """Run one server's scenarios; a failure is reported in the table, not fatal to the rest."""
    try:
        run()
    except Exception as error:  # noqa: BLE001 - any failure becomes a "skipped" row
        log(f"{', '.join(names)} failed: {error}")
        for name in names:
            first = (str(error).splitlines() or [type(error).__name__])[0]
            results.setdefault(name, {"skipped": f"failed: {first[:160]}"})


def bench_hello(args: argparse.Namespace, results: dict[str, Any], work: Path) -> None:
    port = free_port()
    service = gunicorn("hello", str(Path(sys.executable).parent / "gunicorn"),
                       "bench.hello_app:app", port, args.gunicorn, dict(os.environ), work)
    try:
        wait_http(service, f"http://127.0.0.1:{port}/")
        url = f"http://127.0.0.1:{port}/"
        results["hello"] = load("hello", url, args.wrk, url,
                                    time_wait_timeout=args.time_wait_timeout)
    finally:
        service.stop()


def bench_isso(args: argparse.Namespace, results: dict[str, Any], work: Path,
               notes: dict[str, str]) -> None:
    directory = work / "isso"
    directory.mkdir(exist_ok=True)
    port = free_port()
    try:
        service = isso_peer.start(args.isso_venv, directory, port, free_port(), args.gunicorn,
                                  work)
        notes["isso"] = f"isso {isso_peer.ISSO_VERSION} under gunicorn (isso.run:application)"
    except RuntimeError as error:
        log(f"isso under gunicorn failed ({error}); falling back to its own server")
        service = isso_peer.start_own_server(args.isso_venv, directory, port, free_port(),
                                             work)
        notes["isso"] = (f"isso {isso_peer.ISSO_VERSION} on ITS OWN SERVER (gunicorn failed): "
                         "not the same worker settings")
    base = f"http://127.0.0.1:{port}"
    try:
        log(f"isso: seeding {args.comments} comments through its API")
        isso_peer.seed(base, args.comments, args.tag)
        if (seen := isso_peer.count_read(base)) != args.comments:
            raise RuntimeError(f"isso thread has {seen} comments, expected {args.comments}")
        if "isso-read" in args.selected:
            results["isso-read"] = load("isso-read", isso_peer.read_url(base), args.wrk,
                                        f"{base}/info", time_wait_timeout=args.time_wait_timeout)
        if "isso-write" in args.selected:
            results["isso-write"] = load("isso-write", isso_peer.write_url(base), args.wrk,
                                         f"{base}/info", BENCH_METHOD="POST", BENCH_BODY="isso",
                                         BENCH_RUN=args.tag,
                                         time_wait_timeout=args.time_wait_timeout)
    finally:
        service.stop()


def etag_of(url: str, expected_total: int) -> str:
    """The list's ETag, after checking the thread really holds the seeded comments."""
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback
        body = json.load(answer)
        etag = answer.headers["ETag"]
    if body["total"] != expected_total or len(body["comments"]) != expected_total:
        raise RuntimeError(f"read thread has {body['total']} comments, expected {expected_total}")
    return etag


def bench_vetted(args: argparse.Namespace, results: dict[str, Any], work: Path,
                 notes: dict[str, str]) -> None:
    created = args.database_url is None
    database_url = args.database_url or databases.create_postgres(args.pg_admin_url,
                                                                  args.pg_database)
    notes["vetted database"] = (f"fresh PostgreSQL database {args.pg_database}" if created
                                else database_url.split("://")[0] + " (given)")
    databases.flush_redis_db(args.redis_url)
    secret = secrets.token_urlsafe(32)
    app = vetted_peer.make_app(database_url, args.redis_url, secret)
    services: list[Service] = []
    try:
        log(f"vetted: migrating and seeding {args.comments} approved comments")
        vetted_peer.prepare(app, args.comments)
        env = vetted_peer.child_env(database_url, args.redis_url, secret)
        try:
            services.append(vetted_peer.start_worker(env, args.celery_concurrency, work))
            port = free_port()
            services.append(vetted_peer.start_web(port, env, args.gunicorn, work))
            server_scenarios(args, results, app, f"http://127.0.0.1:{port}", port)
        finally:
            for service in reversed(services):
                service.stop()
        # After the servers stop, so the check run has its core to itself.
        if "vetted-check" in args.selected:
            attempt(results, ["vetted-check"],
                    lambda: results.update({"vetted-check": check_scenario(args, env, work)}))
    finally:
        vetted_peer.dispose(app)
        databases.flush_redis_db(args.redis_url)
        if created and not args.keep_database:
            databases.drop_postgres(args.pg_admin_url, args.pg_database)


def server_scenarios(args: argparse.Namespace, results: dict[str, Any], app: Any, base: str,
                     port: int) -> None:
    health = f"{base}/healthz"
    if "vetted-read" in args.selected:
        url = vetted_peer.read_url(base)
        etag = etag_of(url, args.comments)
        results["vetted-read"] = load("vetted-read", url, args.wrk, health,
                                      time_wait_timeout=args.time_wait_timeout)
        results["vetted-304"] = load("vetted-304", url, args.wrk, health, BENCH_ETAG=etag,
                                     BENCH_EXPECT="304", time_wait_timeout=args.time_wait_timeout)
    if "vetted-write" in args.selected:
        results["vetted-write"] = load(
            "vetted-write", f"{base}/api/v1/comments", args.wrk, health, BENCH_METHOD="POST",
            BENCH_BODY="vetted", BENCH_SITE=vetted_peer.SITE,
            BENCH_ARTICLE=vetted_peer.WRITE_ARTICLE, BENCH_RUN=args.tag,
            time_wait_timeout=args.time_wait_timeout)
    if "vetted-pipeline" in args.selected:
        log("vetted-pipeline: waiting for the worker to drain earlier submissions")
        if left := vetted_peer.wait_until_drained(app, args.drain_timeout):
            log(f"vetted-pipeline: {left} comments still pending; measuring anyway")
        drain_time_wait(timeout=args.time_wait_timeout)
        log(f"vetted-pipeline: {args.pipeline_submissions} submissions from "
            f"{args.pipeline_clients} clients")
        results["vetted-pipeline"] = pipeline_run.run_pipeline(
            app, port, args.pipeline_submissions, args.pipeline_clients, args.pipeline_timeout,
            args.tag)
        log(f"vetted-pipeline: {results['vetted-pipeline']}")


def check_scenario(args: argparse.Namespace, env: dict[str, str], work: Path) -> dict[str, Any]:
    vetted = Path(sys.executable).parent / "vetted"
    if not check_run.available(vetted):
        log("vetted-check: `vetted check --help` failed: not available")
        return {"skipped": "not available (`vetted check --help` failed)"}
    log(f"vetted-check: {args.check_comments} comments on core 0")
    return check_run.run_checks(vetted, work, args.check_comments, env)


def git_revision() -> str:
    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" (+ uncommitted changes)"
                                                  if git("status", "--porcelain") else "")


def settings_of(args: argparse.Namespace, notes: dict[str, str]) -> dict[str, str]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_revision(),
        "mode": "QUICK (smoke numbers, not figures)" if args.quick else "full",
        "machine": f"{os.cpu_count()} CPUs, load average at start "
                   f"{' '.join(f'{x:.2f}' for x in args.load_at_start)} (other work on the "
                   "machine adds noise)",
        "load generator": f"wrk {args.wrk.threads} threads, {args.wrk.connections} "
                          f"connections, {args.wrk.duration:g} s per run, 127.0.0.1",
        "servers": args.gunicorn.describe() + "; one server under load at a time",
        "vetted": f"service.wsgi:app + Celery worker (prefork, concurrency "
                  f"{args.celery_concurrency}) + Redis {args.redis_url}, "
                  "VETTED_RATELIMIT_ENABLED=0",
        "read thread": f"{args.comments} approved comments",
        "pipeline": f"{args.pipeline_submissions} submissions, {args.pipeline_clients} clients",
        **notes,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.wrk = WrkSettings(args.threads, args.connections, args.duration)
    args.gunicorn = GunicornSettings(args.workers, args.gunicorn_threads)
    args.tag = secrets.token_hex(3)
    args.load_at_start = os.getloadavg()
    results: dict[str, Any] = {}
    notes: dict[str, str] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vetted-bench-") as tmp:
        work = Path(tmp)
        if args.log_dir:
            work = args.log_dir.resolve()
            work.mkdir(parents=True, exist_ok=True)
        if "hello" in args.selected:
            attempt(results, ["hello"], lambda: bench_hello(args, results, work))
        isso = [s for s in args.selected if s.startswith("isso-")]
        if isso:
            attempt(results, isso, lambda: bench_isso(args, results, work, notes))
        vetted = [s for s in args.selected if s.startswith("vetted-")]
        if vetted:
            names = vetted + (["vetted-304"] if "vetted-read" in vetted else [])
            attempt(results, names, lambda: bench_vetted(args, results, work, notes))
    notes["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    notes["wall time"] = f"{time.monotonic() - started:.0f} s"
    ratio = report.ratios(results)
    summary = {"settings": settings_of(args, notes), "results": results, "ratios": ratio,
               "targets": report.targets(results, ratio)}
    print(report.markdown(summary))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    log(f"wrote {args.output}")
    return 1 if any("skipped" in row and "not available" not in row["skipped"]
                    for row in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
