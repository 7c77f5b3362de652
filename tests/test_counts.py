"""Public comment counts per article, with the public API's CORS rules."""

from __future__ import annotations

from service.db import db
from service.models import Comment, Status
from service.transitions import change_status
from tests.conftest import store_without_queueing


def decide(app, comment_id: int, to: Status) -> None:
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), to, actor="moderator:test",
                      action=to.value)
        db.session.commit()


def test_counts_follow_approvals_and_removals(app, site, client):
    a = [store_without_queueing(app, site, article="/a", body=f"on a {i}") for i in range(3)]
    (b,) = [store_without_queueing(app, site, article="/b")]
    for comment_id in a:
        decide(app, comment_id, Status.APPROVED)
    decide(app, b, Status.REJECTED)
    decide(app, a[0], Status.REMOVED)

    answer = client.get("/api/v1/counts?site=news&article=/a&article=/b&article=/never")
    assert answer.status_code == 200
    assert answer.get_json() == {"counts": {"/a": 2, "/b": 0, "/never": 0}}

    etag = answer.headers["ETag"]
    again = client.get("/api/v1/counts?site=news&article=/a&article=/b&article=/never",
                       headers={"If-None-Match": etag})
    assert again.status_code == 304
    decide(app, a[1], Status.REMOVED)
    changed = client.get("/api/v1/counts?site=news&article=/a&article=/b&article=/never",
                         headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["counts"]["/a"] == 1


def test_counts_answer_allowed_origins_only(site, client):
    allowed = client.get("/api/v1/counts?site=news&article=/a",
                         headers={"Origin": "https://news.example"})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://news.example"
    refused = client.get("/api/v1/counts?site=news&article=/a",
                         headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_bad_count_requests(site, client):
    too_many = "&".join(f"article=/p{i}" for i in range(101))
    answer = client.get(f"/api/v1/counts?site=news&{too_many}")
    assert answer.status_code == 422 and "article" in answer.get_json()["fields"]
    hundred = "&".join(f"article=/p{i}" for i in range(100))
    assert len(client.get(f"/api/v1/counts?site=news&{hundred}").get_json()["counts"]) == 100
    assert client.get("/api/v1/counts?site=news").status_code == 422
    assert client.get("/api/v1/counts?article=/a").get_json()["fields"] == {"site": "required"}
    long_key = "/" + "x" * 600
    assert client.get(f"/api/v1/counts?site=news&article={long_key}").status_code == 422
    assert client.get("/api/v1/counts?site=nope&article=/a").status_code == 404
