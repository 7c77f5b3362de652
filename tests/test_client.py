"""The reference feed client against a real HTTP server: cursor kept across restarts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from service.client import FeedClient, FeedError, FileCursor
from service.db import db
from service.models import Comment, Status
from service.tokens import create_token
from service.transitions import change_status
from tests.conftest import store_without_queueing


@pytest.fixture()
def base_url(app) -> Iterator[str]:
    """The app served over real HTTP in a thread, as integrators would reach it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture()
def token(app, site) -> str:
    with app.app_context():
        return create_token("service", ["news"])[1]


def approve(app, site, n: int = 1) -> list[int]:
    ids = []
    for i in range(n):
        comment_id = store_without_queueing(app, site, body=f"client test remark {i} {time.time()}")
        with app.app_context():
            change_status(db.session.get(Comment, comment_id), Status.APPROVED,
                          actor="moderator:test", action="approve")
            db.session.commit()
            db.session.remove()
        ids.append(comment_id)
    return ids


def test_poll_keeps_the_cursor_across_restarts(app, site, base_url, token, tmp_path):
    cursor = tmp_path / "state" / "news.cursor"
    first_ids = approve(app, site, 2)
    consumer = FeedClient(base_url, token, "news", FileCursor(cursor))
    assert [e.comment_id for e in consumer.poll()] == first_ids
    assert consumer.poll() == []
    saved = int(cursor.read_text())

    later = approve(app, site, 1)
    restarted = FeedClient(base_url, token, "news", FileCursor(cursor))
    assert FileCursor(cursor).load() == saved
    (event,) = restarted.poll()
    assert event.comment_id == later[0] and event.type == "comment.approved"
    assert event.seq > saved and event.article == "/2023/12/india-russia-talks"
    assert restarted.poll() == []


def test_iter_events_saves_each_event_only_once_handled(app, site, base_url, token, tmp_path):
    cursor = FileCursor(tmp_path / "news.cursor")
    ids = approve(app, site, 3)
    events = FeedClient(base_url, token, "news", cursor, limit=2).iter_events(wait=0)
    assert next(events).comment_id == ids[0]
    assert next(events).comment_id == ids[1]  # resuming marked the first as handled
    events.close()  # the process dies while handling the second event

    resumed = FeedClient(base_url, token, "news", cursor).iter_events(wait=0)
    assert [next(resumed).comment_id for _ in range(2)] == ids[1:]


def test_poll_waits_for_the_next_approval(app, site, base_url, token):
    consumer = FeedClient(base_url, token, "news")
    assert consumer.poll() == []
    (comment_id,) = [store_without_queueing(app, site)]

    def approve_soon() -> None:
        time.sleep(0.5)
        with app.app_context():
            change_status(db.session.get(Comment, comment_id), Status.APPROVED,
                          actor="moderator:test", action="approve")
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=approve_soon)
    thread.start()
    events = consumer.poll(wait=30)
    thread.join()
    assert [e.comment_id for e in events] == [comment_id]


def test_refusals_raise_feed_errors(app, site, base_url):
    from service.sites import create_site

    with app.app_context():
        create_site("blog", "Blog", [])
        blog_token = create_token("service", ["blog"])[1]
    with pytest.raises(FeedError) as refused:
        FeedClient(base_url, blog_token, "news").poll()
    assert refused.value.status == 403 and refused.value.code == "forbidden"
    with pytest.raises(FeedError) as unknown:
        FeedClient(base_url, "vt_not-a-token", "news").poll()
    assert unknown.value.status == 401
    with pytest.raises(ValueError):
        FeedClient("file:///etc/passwd", blog_token, "news")
