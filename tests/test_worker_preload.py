"""A prefork worker loads the checks once, in its parent, before forking its children."""

from __future__ import annotations

import pytest

from bench import vetted_peer


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_worker_parent_preloads_the_checks_before_its_pool_starts(database_url, redis_url,
                                                                      tmp_path):
    env = vetted_peer.child_env(database_url, redis_url, "a-test-secret-of-sufficient-length")
    worker = vetted_peer.start_worker(env, concurrency=2, log_dir=tmp_path, timeout=90)
    try:
        log = worker.log_path.read_text(errors="replace")
    finally:
        worker.stop()
    preloaded = log.find("checks preloaded")
    assert preloaded != -1, log[-2000:]
    # The pool's children are forked once the worker is ready; they inherit what was loaded.
    assert preloaded < log.find(" ready."), log[-2000:]
    assert log.count("checks preloaded") == 1  # the parent only, not once per child
