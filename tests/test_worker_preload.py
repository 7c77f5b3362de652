"""A prefork worker prepares once, in its parent, before forking its children: it loads the
checks and lowers its CPU priority below the web's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import vetted_peer


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_worker_parent_prepares_before_its_pool_starts(database_url, redis_url, tmp_path):
    env = vetted_peer.child_env(database_url, redis_url, "a-test-secret-of-sufficient-length")
    worker = vetted_peer.start_worker(env, concurrency=2, log_dir=tmp_path, timeout=90)
    try:
        log = worker.log_path.read_text(errors="replace")
        family = [worker.pid, *children_of(worker.pid)]
        priorities = [os.getpriority(os.PRIO_PROCESS, pid) for pid in family]
    finally:
        worker.stop()
    # The parent and each pool child run at the default WORKER_NICE (10), so the web goes first.
    assert len(family) == 3 and priorities == [10, 10, 10], (family, priorities)
    preloaded = log.find("checks preloaded")
    assert preloaded != -1, log[-2000:]
    # The pool's children are forked once the worker is ready; they inherit what was loaded.
    assert preloaded < log.find(" ready."), log[-2000:]
    assert log.count("checks preloaded") == 1  # the parent only, not once per child


def children_of(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]
