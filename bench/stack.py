"""A throwaway Vetted stack of real processes for fault drills: private Redis, optional private
PostgreSQL, gunicorn, Celery worker and beat. Everything it starts, it stops by pid."""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.embedded import free_port, start_redis, wait_for_redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if
                   Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """A private cluster on its own port and socket directory; never the machine's 5432."""

    def __init__(self, port: int | None = None) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) found")
        self.bindir, self.port = bindir, port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="vetted-pg-"))
        self.data = self.directory / "data"
        # initdb refuses to run as root: run the server as the postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bindir / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/tmp")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.directory / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis:
    """A redis-server on a fixed private port, so it can be stopped and started again."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process, _ = start_redis(self.directory, self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@dataclass
class Stack:
    """Web, worker and beat over one database and one Redis, configured by environment."""

    workdir: Path
    database_url: str
    redis: PrivateRedis
    settings: dict[str, Any] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    web_port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def env(self, **extra: Any) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("VETTED_") and k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis.url,
                   VETTED_SECRET_KEY=self.secret_key,
                   VETTED_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
        for key, value in {**self.settings, **extra}.items():
            env[f"VETTED_{key}"] = value if isinstance(value, str) else json.dumps(value)
        return env

    def vetted(self, *args: str) -> str:
        """Run the `vetted` command against this stack and return its output."""
        result = subprocess.run(
            [PYTHON, "-c", "from service.cli import cli; cli(prog_name='vetted')", *args],
            env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"vetted {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self, site: str = "news") -> None:
        self.vetted("db", "upgrade", "heads")
        self.vetted("sites", "create", site, "--name", site)

    def _spawn(self, name: str, command: list[str], **extra: Any) -> subprocess.Popen:
        # The child keeps its own copy of the log descriptor; ours is closed at once.
        with (self.workdir / f"{name}.log").open("ab") as log:
            # A session of its own, so a SIGKILL takes the whole worker (parent and pool) at once.
            process = subprocess.Popen(command, env=self.env(**extra), cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_web(self, workers: int = 2) -> subprocess.Popen:
        process = self._spawn("web", [
            PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind",
            f"127.0.0.1:{self.web_port}", "--log-level", "warning", "--timeout", "60",
            "service.wsgi:app"])
        self.wait_http("/healthz", process)
        return process

    def start_worker(self, name: str = "worker", concurrency: int = 1,
                     **extra: Any) -> subprocess.Popen:
        return self._spawn(name, [
            PYTHON, "-m", "celery", "-A", "worker.app", "worker", "--loglevel", "WARNING",
            "--concurrency", str(concurrency), "--queues", "vetted", "--without-gossip",
            "--without-mingle", "--hostname", f"{name}-{os.getpid()}@%h"], **extra)

    def start_beat(self) -> subprocess.Popen:
        return self._spawn("beat", [
            PYTHON, "-m", "celery", "-A", "worker.app", "beat", "--loglevel", "WARNING",
            "--schedule", str(self.workdir / "celerybeat-schedule")])

    def kill(self, name: str) -> None:
        """SIGKILL the process group: no shutdown, no acknowledgements, like a lost machine."""
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def wait_http(self, path: str, process: subprocess.Popen, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("web exited:\n" + self.log_tail("web"))
            try:
                with urllib.request.urlopen(self.url(path), timeout=2):  # noqa: S310 - loopback
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError("web did not answer:\n" + self.log_tail("web"))

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) \
            if path.exists() else ""


def request(stack: Stack, method: str, path: str, body: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None,
            timeout: float = 15) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
    """One HTTP call; returns status, JSON body (None if not JSON) and headers."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(stack.url(path), data=data, method=method,  # noqa: S310
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            status, raw, head = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, head = error.code, error.read(), dict(error.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, head


def wait_redis(url: str) -> None:
    wait_for_redis(url, seconds=15)
