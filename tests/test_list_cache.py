"""The cached comment list never serves a stale thread."""

from __future__ import annotations

from service.db import db
from service.models import Comment, Status
from service.tokens import create_token
from service.transitions import change_status

URL = "/api/v1/comments?site=news&article=/2023/12/india-russia-talks"


def set_status(app, comment_id: int, status: Status) -> None:
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), status, actor="test", action="test")
        db.session.commit()


def ids(client) -> list[int]:
    return [c["id"] for c in client.get(URL).get_json()["comments"]]


def test_approval_and_removal_show_on_the_next_read(app, site, submit, client):
    first = submit().get_json()["id"]
    second = submit(body="another remark about the treaty", email="b@example.org").get_json()["id"]
    assert ids(client) == []
    set_status(app, first, Status.APPROVED)
    assert ids(client) == [first]
    set_status(app, second, Status.APPROVED)
    assert ids(client) == [first, second]
    set_status(app, first, Status.REMOVED)
    assert ids(client) == [second]
    assert client.get(URL).get_json()["total"] == 1


def test_moderator_decision_through_the_api_is_visible_at_once(app, site, submit, client):
    comment_id = submit().get_json()["id"]
    set_status(app, comment_id, Status.REVIEW)
    etag = client.get(URL).headers["ETag"]
    with app.app_context():
        _, token = create_token("moderator", ["news"])
    decided = client.post(f"/api/v1/moderation/comments/{comment_id}/decision",
                          json={"action": "approve"}, headers={"Authorization": f"Bearer {token}"})
    assert decided.status_code == 200, decided.get_json()
    fresh = client.get(URL, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert [c["id"] for c in fresh.get_json()["comments"]] == [comment_id]


def test_etag_is_stable_while_nothing_public_changes(app, site, submit, client):
    comment_id = submit().get_json()["id"]
    set_status(app, comment_id, Status.APPROVED)
    etag = client.get(URL).headers["ETag"]
    submit(body="still pending, so invisible", email="c@example.org")
    rejected = submit(body="will be rejected", email="d@example.org").get_json()["id"]
    set_status(app, rejected, Status.REJECTED)
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    # Each page has its own validator.
    assert client.get(URL + "&limit=1").headers["ETag"] != etag


def test_site_policy_is_cached_briefly_on_public_paths(app_factory, site):
    from service.sites import update_policy

    cached = app_factory(SITE_CACHE_SECONDS=3600)
    client = cached.test_client()
    headers = {"Origin": "https://other.example"}
    assert client.get(URL, headers=headers).status_code == 403
    with cached.app_context():
        update_policy(db.session.merge(site),
                      {"allowed_origins": ["https://news.example", "https://other.example"]},
                      "test")
    # Within SITE_CACHE_SECONDS the web process keeps the policy it read...
    assert client.get(URL, headers=headers).status_code == 403
    # ...and a process without the cache (or after it expires) sees the change.
    assert app_factory(SITE_CACHE_SECONDS=0).test_client().get(
        URL, headers=headers).status_code == 200


def test_a_new_version_replaces_the_cached_page(app, site, submit, client):
    from service import list_cache

    for n in range(3):
        comment_id = submit(body=f"remark {n} about the treaty",
                            email=f"v{n}@example.org").get_json()["id"]
        set_status(app, comment_id, Status.APPROVED)
        assert len(client.get(URL).get_json()["comments"]) == n + 1
    assert len(list_cache._pages) == 1  # one page of one thread, whatever its history
