"""Isso 0.14.0, the peer: its own virtualenv, its config file, 200 seeded comments, gunicorn.

Isso exposes a WSGI app as `isso.run:application` (it reads ISSO_SETTINGS), so it runs under
the same gunicorn settings as the others; `gunicorn` is installed into Isso's venv at the
version our own venv uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from importlib.metadata import version
from pathlib import Path

from bench.processes import GunicornSettings, Service, gunicorn, wait_http

ISSO_VERSION = "0.14.0"
VENV = Path(__file__).resolve().parent / ".isso-venv"
READ_URI, WRITE_URI = "/bench/read", "/bench/write"


def ensure_venv(venv: Path) -> Path:
    """Create Isso's own venv on first use; returns its bin directory."""
    bin_dir = venv / "bin"
    marker = venv / f".isso-{ISSO_VERSION}"
    if marker.exists():
        return bin_dir
    print(f"bench: creating {venv} with isso=={ISSO_VERSION} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(bin_dir / "pip"), "install", "--quiet", f"isso=={ISSO_VERSION}",
                    f"gunicorn=={version('gunicorn')}"], check=True)
    marker.touch()
    return bin_dir


def write_config(directory: Path, port: int, unused_port: int) -> Path:
    """Moderation and guard off, SQLite, no notifications; everything else Isso's defaults.

    `host` points at a closed port: Isso HEADs it at start-up and a refused connection is
    instant, and POSTs carry a title so Isso never fetches the page.
    """
    path = directory / "isso.cfg"
    path.write_text(f"""[general]
dbpath = {directory / 'isso.db'}
host = http://127.0.0.1:{unused_port}/
notify =
gravatar = false

[moderation]
enabled = false

[guard]
enabled = false

[server]
listen = http://127.0.0.1:{port}/
""")
    return path


def start(venv: Path, directory: Path, port: int, unused_port: int, settings: GunicornSettings,
          log_dir: Path) -> Service:
    bin_dir = ensure_venv(venv)
    config = write_config(directory, port, unused_port)
    env = {**os.environ, "ISSO_SETTINGS": str(config)}
    env.pop("PYTHONPATH", None)
    service = gunicorn("isso", str(bin_dir / "gunicorn"), "isso.run:application", port,
                       settings, env, log_dir, cwd=directory)
    return _ready(service, port)


def start_own_server(venv: Path, directory: Path, port: int, unused_port: int,
                     log_dir: Path) -> Service:
    """The fallback: `isso -c FILE run` (werkzeug's threaded server), one process."""
    bin_dir = ensure_venv(venv)
    config = write_config(directory, port, unused_port)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ISSO_SETTINGS")}
    service = Service("isso-own-server", [str(bin_dir / "isso"), "-c", str(config), "run"],
                      env, log_dir, cwd=directory)
    return _ready(service, port)


def _ready(service: Service, port: int) -> Service:
    try:
        wait_http(service, f"http://127.0.0.1:{port}/info")
    except RuntimeError:
        service.stop()
        raise
    return service


def post_comment(base: str, uri: str, n: int, tag: str) -> int:
    payload = {"text": f"Seed comment {n} ({tag}): the section on the budget was useful.",
               "author": f"Seeder {n}", "email": f"seed-{n}-{tag}@example.org",
               "title": "Bench"}
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        f"{base}/new?uri={uri}", data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        return answer.status


def seed(base: str, comments: int, tag: str) -> None:
    """Seed the read thread through Isso's own API, and open the write thread."""
    for n in range(comments):
        post_comment(base, READ_URI, n, tag)
    post_comment(base, WRITE_URI, 0, tag)


def read_url(base: str) -> str:
    return f"{base}/?uri={READ_URI}"


def write_url(base: str) -> str:
    return f"{base}/new?uri={WRITE_URI}"


def count_read(base: str) -> int:
    with urllib.request.urlopen(read_url(base), timeout=30) as answer:  # noqa: S310 - loopback
        return int(json.load(answer)["total_replies"])
