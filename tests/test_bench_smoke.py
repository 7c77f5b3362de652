"""The benchmark harness runs end to end with tiny numbers against real processes.

Not a benchmark: it proves `bench/run.py --quick` starts Vetted (gunicorn + Celery worker),
loads it with wrk and prints the table and the JSON with figures. It asserts what the servers
answered, never how fast.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?$")


def other_db(redis_url: str, number: int = 15) -> str:
    """The test Redis server on a db number of our own, so no other worker takes our tasks."""
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{number}"))


def table_rows(markdown: str) -> dict[str, list[str]]:
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| vetted-"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk (Debian package) not installed")
def test_quick_run_prints_the_table_and_writes_json(tmp_path, redis_url):
    output = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "vetted-read,vetted-write",
         "--database-url", f"sqlite:///{tmp_path / 'bench.db'}",
         "--redis-url", other_db(redis_url), "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    rows = table_rows(done.stdout)
    assert set(rows) == {"vetted-read", "vetted-304", "vetted-write"}, done.stdout
    for name, cells in rows.items():
        rps, p50, p99, unexpected = cells[3:7]
        assert all(NUMBER.match(v) for v in (rps, p50, p99, unexpected)), (name, cells)
    assert "| target (issue 7) | measured | verdict |" in done.stdout
    assert "wrk 2 threads, 32 connections, 1 s per run" in done.stdout

    report = json.loads(output.read_text())
    results = report["results"]
    # Each run really reached the service and got the answer its scenario is about.
    assert results["vetted-read"]["statuses"].get("200", 0) > 0
    assert results["vetted-304"]["statuses"].get("304", 0) > 0
    assert results["vetted-write"]["statuses"].get("202", 0) > 0
    assert results["vetted-304"]["unexpected"] == 0
    assert report["ratios"]["read_vs_isso"] is None  # Isso was not part of this run
    assert "sqlite" in report["settings"]["vetted database"]
