"""Ids just past the 32-bit INTEGER columns are refused cleanly on every database (found by
schemathesis on PostgreSQL: they used to reach the database and fail there)."""

from __future__ import annotations

import pytest

from service.models import MAX_ID
from service.tokens import create_token
from tests.conftest import comment_payload

TOO_BIG = MAX_ID + 1


@pytest.fixture()
def admin(app, site) -> dict[str, str]:
    with app.app_context():
        _, token = create_token("admin", ["news"])
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("method", "url", "status"), [
    ("get", f"/api/v1/comments/{TOO_BIG}/status?token=x", 404),
    ("delete", f"/api/v1/comments/{TOO_BIG}?token=x", 404),
    ("get", f"/api/v1/comments?site=news&article=/a&after={TOO_BIG}", 422),
    ("get", f"/api/v1/changes?site=news&since={TOO_BIG}", 422),
    ("get", f"/api/v1/moderation/comments/{TOO_BIG}", 404),
    ("get", f"/api/v1/moderation/queue?site=news&after={TOO_BIG}", 422),
    ("get", f"/api/v1/webhooks/{TOO_BIG}/deliveries", 404),
])
def test_out_of_range_ids_in_urls(client, admin, method, url, status):
    response = getattr(client, method)(url, headers=admin)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_out_of_range_ids_in_bodies(client, admin):
    reply = client.post("/api/v1/comments", json=comment_payload(parent_id=TOO_BIG))
    assert reply.status_code == 422 and "parent_id" in reply.get_json()["fields"]
    bulk = client.post("/api/v1/moderation/decisions", json={"ids": [TOO_BIG], "action": "approve"},
                       headers=admin)
    assert bulk.status_code == 422 and "ids" in bulk.get_json()["fields"]
    # The largest id that fits is still a normal "no such comment".
    assert client.get(f"/api/v1/comments/{MAX_ID}/status?token=x").status_code == 404
