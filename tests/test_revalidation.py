"""The fast path before Flask (304s and cached pages): the same answer the view gives, and only
when it is sure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import request, request_started
from werkzeug.test import Client

from service.revalidation import ListRevalidation
from tests.test_thread_cache import URL, approve, settle, statements_during

ORIGIN = "https://news.example"
# Headers that differ between any two answers, whoever gives them.
PER_ANSWER = {"X-Request-Id", "Date"}


@pytest.fixture()
def production_like(app, site, app_factory):
    """An app with the site cache on (tests turn it off), its thread already cached."""
    warm = app_factory(SITE_CACHE_SECONDS=60)
    settle(warm)
    return warm


def flask_only(app) -> Client:
    """A client for the same app without the fast path: what the view itself answers."""
    assert isinstance(app.wsgi_app, ListRevalidation)
    return Client(app.wsgi_app.wsgi_app, app.response_class)


@pytest.fixture()
def views_run(production_like) -> Iterator[list[str]]:
    """Endpoints Flask dispatched to during the test (the fast path dispatches none)."""
    seen: list[str] = []

    def record(_sender, **_extra) -> None:
        seen.append(request.endpoint)

    with request_started.connected_to(record, production_like):
        yield seen


def comparable(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_ANSWER}


def warm_etag(app, submit) -> str:
    approve(app, submit().get_json()["id"])
    client = app.test_client()
    client.get(URL)  # looks the site and thread up, so both are cached
    return client.get(URL).headers["ETag"]


@pytest.mark.parametrize("headers", [{}, {"Origin": ORIGIN}], ids=["no-origin", "allowed-origin"])
def test_the_fast_304_matches_the_views_304(production_like, submit, headers, views_run):
    etag = warm_etag(production_like, submit)
    headers = {**headers, "If-None-Match": etag}
    ran = views_run
    ran.clear()  # what warming up dispatched

    fast = production_like.test_client().get(URL, headers=headers)
    assert fast.status_code == 304 and ran == []  # answered before Flask dispatched
    slow = flask_only(production_like).get(URL, headers=headers)
    assert slow.status_code == 304 and ran == ["public.list_comments"]
    assert comparable(fast) == comparable(slow)
    assert fast.headers["ETag"] == etag and fast.data == b""


def test_the_fast_304_asks_neither_database_nor_flask(production_like, submit, views_run):
    etag = warm_etag(production_like, submit)
    ran = views_run
    ran.clear()  # what warming up dispatched
    client = production_like.test_client()
    answers = []
    sql = statements_during(production_like, lambda: answers.append(
        client.get(URL, headers={"If-None-Match": etag})))
    assert answers[0].status_code == 304 and sql == [] and ran == []


def test_it_echoes_a_sane_request_id_and_invents_one_otherwise(production_like, submit):
    etag = warm_etag(production_like, submit)
    client = production_like.test_client()
    given = client.get(URL, headers={"If-None-Match": etag, "X-Request-Id": "proxy-id-1234"})
    assert given.headers["X-Request-Id"] == "proxy-id-1234"
    invented = client.get(URL, headers={"If-None-Match": etag, "X-Request-Id": "short"})
    assert len(invented.headers["X-Request-Id"]) == 16


@pytest.mark.parametrize(("url", "headers", "status"), [
    (URL, {"Origin": "https://evil.example"}, 403),               # an origin not allowed
    (URL + "&limit=0", {}, 422),                                  # a bad page size
    (URL + "&after=x", {}, 422),
    (URL.replace("site=news", "site=nosuch&site=news"), {}, 404),  # the first value counts
])
def test_anything_doubtful_goes_to_flask(production_like, submit, url, headers, status,
                                         views_run):
    etag = warm_etag(production_like, submit)
    views_run.clear()  # what warming up dispatched
    answer = production_like.test_client().get(url, headers={"If-None-Match": etag, **headers})
    assert answer.status_code == status and views_run == ["public.list_comments"]


@pytest.mark.parametrize("headers", [{}, {"Origin": ORIGIN}, {"If-None-Match": '"0-0-50"'}],
                         ids=["no-origin", "allowed-origin", "old-validator"])
def test_a_cached_page_matches_the_views_200(production_like, submit, headers, views_run):
    etag = warm_etag(production_like, submit)  # the view has rendered the page once
    views_run.clear()
    client = production_like.test_client()
    answers = []
    sql = statements_during(production_like, lambda: answers.append(client.get(URL,
                                                                               headers=headers)))
    fast = answers[0]
    assert fast.status_code == 200 and sql == [] and views_run == []
    slow = flask_only(production_like).get(URL, headers=headers)
    assert slow.status_code == 200 and views_run == ["public.list_comments"]
    assert comparable(fast) == comparable(slow) and fast.data == slow.data
    assert fast.headers["ETag"] == etag and len(fast.get_json()["comments"]) == 1


def test_a_page_not_yet_rendered_goes_to_flask_once(production_like, submit, views_run):
    warm_etag(production_like, submit)
    views_run.clear()
    client = production_like.test_client()
    other_page = URL + "&limit=7"
    assert client.get(other_page).status_code == 200
    assert views_run == ["public.list_comments"]  # the view rendered and cached it...
    assert client.get(other_page).status_code == 200
    assert views_run == ["public.list_comments"]  # ...so the next read did not need Flask


def test_a_new_approval_changes_the_answer_at_once(production_like, submit, views_run):
    etag = warm_etag(production_like, submit)
    client = production_like.test_client()
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    approve(production_like, submit(body="a second thought on tariffs",
                                    email="b@example.org").get_json()["id"])
    fresh = client.get(URL, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and len(fresh.get_json()["comments"]) == 2
    assert fresh.headers["ETag"] != etag


def test_a_site_not_yet_cached_goes_to_flask_once(app, production_like, submit, views_run):
    approve(app, submit().get_json()["id"])
    etag = app.test_client().get(URL).headers["ETag"]  # another app: its site cache is its own
    client = production_like.test_client()
    views_run.clear()
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    assert views_run == ["public.list_comments"]  # Flask looked the site up...
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    assert views_run == ["public.list_comments"]  # ...so the next one did not need it


def test_global_rate_limits_keep_every_request_in_flask(app, app_factory):
    limited = app_factory(SITE_CACHE_SECONDS=60, RATELIMIT_DEFAULT="1000/minute")
    assert not isinstance(limited.wsgi_app, ListRevalidation)
