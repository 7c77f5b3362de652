"""The widget's routes: static assets and their headers and size, the demo page, the no-JS form."""

from __future__ import annotations

import gzip
import re

import pytest
import redis
from sqlalchemy import select

from service.db import db
from service.models import Comment
from service.widget import STATIC

ARTICLE_URL = "https://news.example/2023/12/india-russia-talks"
SIZE_BUDGET = 30 * 1024


def form(**overrides: str) -> dict[str, str]:
    data = {
        "site": "news",
        "article": "/2023/12/india-russia-talks",
        "name": "Asha Rao",
        "email": "asha@example.org",
        "body": "A thoughtful piece, thank you.",
        "url": "",
        "parent_id": "",
        "hp": "",
        "return_to": ARTICLE_URL,
    }
    data.update(overrides)
    return data


def stored(app) -> list[Comment]:
    with app.app_context():
        rows = db.session.scalars(select(Comment)).all()
        db.session.expunge_all()
        return list(rows)


@pytest.mark.parametrize(("path", "mimetype"), [("/embed.js", "text/javascript"),
                                                ("/embed.css", "text/css")])
def test_assets_are_cacheable_and_embeddable(client, path, mimetype):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.max_age == 300 and response.cache_control.public
    etag = response.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_widget_fits_the_size_budget():
    js = (STATIC / "embed.js").read_bytes()
    css = (STATIC / "embed.css").read_bytes()
    sizes = {name: len(gzip.compress(data, 9)) for name, data in
             (("js", js), ("css", css), ("both", js + css))}
    print("gzipped bytes:", sizes)
    assert sizes["both"] < SIZE_BUDGET


def test_widget_talks_only_to_its_own_origin_and_sets_no_cookies():
    js = (STATIC / "embed.js").read_text()
    css = (STATIC / "embed.css").read_text()
    # The SVG namespace is an identifier, not a request.
    urls = set(re.findall(r"https?://\w[\w.-]*[^\s\"'`)]*", js + css)) - {"http://www.w3.org/2000/svg"}
    assert urls <= {"https://comments.example.com/embed.js"}, urls  # the usage comment
    assert "document.cookie" not in js and 'credentials: "omit"' in js
    assert "@import" not in css and "url(" not in css
    # Exactly one place inserts HTML, and it inserts the server-sanitised body_html.
    assert js.count("innerHTML") == 1
    assert re.search(r"body\.innerHTML = String\(comment\.body_html", js)
    for sink in ("outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js


def test_demo_page_has_the_widget_and_strict_headers(client):
    response = client.get("/demo/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "India and Russia resume trade talks" in page
    assert 'data-site="demo"' in page and 'data-article="/2023/12/india-russia-talks"' in page
    assert re.search(r'<script src="/embed\.js" async></script>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script"
    assert not re.search(r"\son[a-z]+=", page), "no inline event handlers"
    assert "<noscript>" in page and 'action="/comments/form"' in page
    assert 'name="hp"' in page and 'tabindex="-1"' in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_form_post_stores_pending_queues_and_redirects_back(app, site, client):
    response = client.post("/comments/form", data=form(url="asha.example"),
                           headers={"Origin": "https://news.example"})
    assert response.status_code == 303
    assert response.headers["Location"] == ARTICLE_URL + "#vetted-submitted"
    [comment] = stored(app)
    assert comment.status == "pending" and comment.author_name == "Asha Rao"
    assert comment.author_url == "https://asha.example" and comment.parent_id is None
    # Queued after commit on the real broker, exactly like the JSON route.
    queue = redis.Redis.from_url(app.config["REDIS_URL"])
    assert queue.llen("vetted") == 1


def test_form_post_keeps_the_honeypot_for_the_checks(app, site, client):
    response = client.post("/comments/form", data=form(hp="http://spam.example"))
    assert response.status_code == 303
    [comment] = stored(app)
    assert comment.honeypot == "http://spam.example"


@pytest.mark.parametrize("return_to", [
    "",
    "https://evil.example/",
    "//evil.example/path",
    "https://news.example@evil.example/",
    "https://news.example.evil.example/",
    "javascript:alert(1)",
    "/relative/path",
    "http://news.example/",  # wrong scheme for the allowed origin
    "https://news.example:8443/",
    "https://news.example\\@evil.example/",
    "https://news.example/\r\nSet-Cookie: x=1",
    "https://news.example:99999/",
])
def test_form_post_never_redirects_off_the_site(app, site, client, return_to):
    response = client.post("/comments/form", data=form(return_to=return_to))
    assert response.status_code == 303
    assert response.headers["Location"] == "/comments/submitted"
    assert len(stored(app)) == 1
    landing = client.get("/comments/submitted")
    assert landing.status_code == 200 and "awaiting moderation" in landing.get_data(as_text=True)


def test_form_post_accepts_default_port_and_keeps_query(app, site, client):
    response = client.post("/comments/form",
                           data=form(return_to="https://news.example:443/a?b=1#comments"))
    assert response.headers["Location"] == "https://news.example:443/a?b=1#vetted-submitted"


@pytest.mark.parametrize(("overrides", "status", "expected"), [
    ({"name": "", "email": "not-an-email", "body": " "}, 422,
     ["Name:", "name is required", "Email:", "Comment:", "comment text is required"]),
    ({"url": "javascript:alert(1)"}, 422, ["Website:", "http or https"]),
    ({"parent_id": "abc"}, 422, ["Reply to:"]),
    ({"parent_id": "999"}, 422, ["Reply to:", "no published comment"]),
    ({"site": "nope"}, 404, ["no site named"]),
    ({"site": ""}, 422, ["Site:"]),
])
def test_form_post_errors_are_html_pages(app, site, client, overrides, status, expected):
    response = client.post("/comments/form", data=form(**overrides))
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "could not be posted" in page
    for text in expected:
        assert text in page
    assert stored(app) == []
    if status == 422 and overrides.get("site", "news") == "news":
        assert f'href="{ARTICLE_URL}"' in page, "a back link to the article"


def test_form_error_page_escapes_what_the_reader_sent(app, site, client):
    payload = '<script>alert(1)</script>'
    response = client.post("/comments/form", data=form(site=payload))
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert payload not in page and "&lt;script&gt;" in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_form_post_from_a_foreign_origin_is_refused(app, site, client):
    response = client.post("/comments/form", data=form(),
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert stored(app) == []


def test_form_post_too_large_is_an_html_413(app, site, client):
    response = client.post("/comments/form", data=form(body="x" * 70_000))
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert stored(app) == []


def test_form_post_json_body_is_a_422_page_not_a_500(app, site, client):
    response = client.post("/comments/form", json=form())
    assert response.status_code == 422 and response.mimetype == "text/html"


def test_form_post_rate_limit_is_an_html_429(app_factory, app, site):
    limited = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per minute")
    client = limited.test_client()
    codes = [client.post("/comments/form", data=form()).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    last = client.post("/comments/form", data=form())
    assert last.mimetype == "text/html" and "Retry-After" in last.headers
