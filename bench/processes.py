"""Start and stop the servers under test: gunicorn, a Celery worker; wait until they answer."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GunicornSettings:
    """The same settings for every server, so the figures compare like with like."""

    workers: int = 2
    # 1 = gunicorn's default sync worker (what docker-compose runs); more = gthread.
    threads: int = 1

    def args(self) -> list[str]:
        worker_class = "sync" if self.threads <= 1 else "gthread"
        args = ["--workers", str(self.workers), "--worker-class", worker_class]
        if self.threads > 1:
            args += ["--threads", str(self.threads)]
        return args

    def describe(self) -> str:
        kind = "sync" if self.threads <= 1 else f"gthread x{self.threads} threads"
        return f"gunicorn {self.workers} workers ({kind}), no access log"


class Service:
    """A child process whose output goes to a log file; stopped by its own pid only."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path,
                 cwd: Path = ROOT) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=self._log,
                                        stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def gunicorn(name: str, executable: str, app: str, port: int, settings: GunicornSettings,
             env: dict[str, str], log_dir: Path, cwd: Path = ROOT) -> Service:
    command = [executable, *settings.args(), "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", "--graceful-timeout", "5", app]
    return Service(name, command, env, log_dir, cwd)


def wait_http(service: Service, url: str, timeout: float = 60) -> None:
    """Poll until the URL answers anything below 500; fail with the log tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited:\n{service.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} did not answer {url} within {timeout} s:\n"
                       f"{service.tail()}")


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (KiB)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{current}/task/{current}/children")
        try:
            pending += [int(c) for c in children.read_text().split()]
        except OSError:
            pass
    return total
