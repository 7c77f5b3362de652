"""The in-process thread cache: warm reads skip the database, announcements from any process
evict, and without a live subscription every read asks the database."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import event, text

from service import thread_cache
from service.db import db
from service.models import Comment, Status
from service.transitions import change_status
from tests.test_outage import private_redis  # noqa: F401 - fixture

ARTICLE = "/2023/12/india-russia-talks"
URL = f"/api/v1/comments?site=news&article={ARTICLE}"


def approve(app, comment_id: int) -> None:
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), Status.APPROVED, actor="test",
                      action="test")
        db.session.commit()


def directory_of(app) -> thread_cache.ThreadDirectory:
    with app.app_context():
        directory = thread_cache._directory()
    assert directory is not None
    return directory


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def settle(app) -> None:
    """Wait until this process has heard every announcement published so far (they arrive in
    order on one channel, so hearing a marker sent now means hearing all earlier ones)."""
    import secrets

    import redis

    directory = directory_of(app)
    assert wait_until(directory.listening)
    marker = (0, f"marker-{secrets.token_hex(4)}")
    directory._entries[marker] = None
    publisher = redis.Redis.from_url(app.config["REDIS_URL"])
    publisher.publish(thread_cache.CHANNEL, thread_cache.announcement(*marker))
    publisher.close()
    assert wait_until(lambda: marker not in directory._entries)


def approve_behind_the_caches_back(app, comment_id: int) -> None:
    """What a change looks like to this process before its announcement arrives."""
    with app.app_context():
        db.session.execute(text("UPDATE comments SET status = 'approved' WHERE id = :id"),
                           {"id": comment_id})
        db.session.execute(text("UPDATE articles SET version = version + 1000, "
                                "approved_count = approved_count + 1"))
        db.session.commit()


def statements_during(app, action) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_warm_read_and_its_304_ask_the_database_nothing(app, site, submit, app_factory):
    approve(app, submit().get_json()["id"])
    production_like = app_factory(SITE_CACHE_SECONDS=60)  # tests turn the site cache off
    client = production_like.test_client()
    settle(production_like)
    etag = client.get(URL).headers["ETag"]
    client.get(URL)  # the first read after the subscription fills the cache

    answers = []
    sql = statements_during(production_like, lambda: answers.extend([
        client.get(URL), client.get(URL, headers={"If-None-Match": etag})]))
    assert [a.status_code for a in answers] == [200, 304]
    assert sql == []


def test_lookups_are_counted_for_prometheus(app, site, submit, client):
    from tests.test_observability import samples, value

    approve(app, submit().get_json()["id"])
    settle(app)
    before = samples(client)
    client.get(URL)  # fills the cache
    client.get(URL)
    after = samples(client)
    name = "vetted_thread_cache_lookups_total"
    assert value(after, name, result="miss") == value(before, name, result="miss") + 1
    assert value(after, name, result="hit") == value(before, name, result="hit") + 1


def test_an_announcement_from_another_process_evicts_the_thread(app, site, submit, client,
                                                               database_url, redis_url):
    first = submit().get_json()["id"]
    second = submit(body="another remark about the treaty", email="b@example.org").get_json()["id"]
    approve(app, first)
    settle(app)
    client.get(URL)
    before = client.get(URL)
    assert [c["id"] for c in before.get_json()["comments"]] == [first]

    # Another process approves the second comment with the real code path and exits.
    script = textwrap.dedent(f"""
        from service import create_app
        from service.db import db
        from service.models import Comment, Status
        from service.transitions import change_status
        app = create_app({{"LOG_LEVEL": "WARNING"}})
        with app.app_context():
            change_status(db.session.get(Comment, {second}), Status.APPROVED, actor="test",
                          action="test")
            db.session.commit()
    """)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)

    # The announcement travels over Redis, so this process hears it within moments.
    assert wait_until(lambda: [c["id"] for c in client.get(URL).get_json()["comments"]]
                      == [first, second], timeout=2)
    assert client.get(URL, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_the_cache_really_serves_until_the_announcement(app, site, submit, client):
    """Proves the test above is about the announcement: without one the cache is stale."""
    first = submit().get_json()["id"]
    second = submit(body="another remark about the treaty", email="b@example.org").get_json()["id"]
    approve(app, first)
    settle(app)
    client.get(URL)
    approve_behind_the_caches_back(app, second)
    assert [c["id"] for c in client.get(URL).get_json()["comments"]] == [first]

    with app.app_context():
        site_id = site.id
    import redis

    publisher = redis.Redis.from_url(app.config["REDIS_URL"])
    publisher.publish(thread_cache.CHANNEL, thread_cache.announcement(site_id, ARTICLE))
    publisher.close()
    assert wait_until(lambda: [c["id"] for c in client.get(URL).get_json()["comments"]]
                      == [first, second], timeout=2)


@pytest.mark.slow
def test_without_redis_every_read_asks_the_database(app, site, submit, app_factory,
                                                    private_redis):  # noqa: F811
    url, stop, _restart = private_redis
    cut_off = app_factory(url)
    client = cut_off.test_client()
    first = submit().get_json()["id"]
    second = submit(body="another remark about the treaty", email="b@example.org").get_json()["id"]
    approve(app, first)
    directory = directory_of(cut_off)
    assert wait_until(directory.listening)
    client.get(URL)
    with cut_off.app_context():
        site_id = site.id
    assert (site_id, ARTICLE) in directory._entries  # cached while the subscription lived

    stop()
    assert wait_until(lambda: not directory.listening())
    # No announcement can arrive now, so the cache must not be trusted: the change shows anyway.
    approve_behind_the_caches_back(cut_off, second)
    assert [c["id"] for c in client.get(URL).get_json()["comments"]] == [first, second]


def test_a_lookup_that_raced_an_eviction_is_not_stored(app, site, submit, monkeypatch):
    comment_id = submit().get_json()["id"]
    approve(app, comment_id)
    directory = directory_of(app)
    assert wait_until(directory.listening)
    real_load = thread_cache.load_thread

    def load_then_evict(site_id: int, key: str):
        found = real_load(site_id, key)
        directory.evict(site_id, key)  # an announcement arrives while we read
        return found

    monkeypatch.setattr(thread_cache, "load_thread", load_then_evict)
    with app.app_context():
        site_id = site.id
        assert directory.lookup(site_id, ARTICLE) is not None
    assert (site_id, ARTICLE) not in directory._entries


def test_a_submission_to_a_known_thread_does_not_look_the_thread_up(app, site, submit):
    assert submit().status_code == 202  # the first one finds or creates the thread
    sql = statements_during(app, lambda: submit(body="a second remark on the treaty",
                                                 email="b@example.org"))
    assert any(s.startswith("INSERT INTO comments") for s in sql)
    assert not any("FROM articles" in s for s in sql)
