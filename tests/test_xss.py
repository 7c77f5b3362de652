"""XSS: every payload of the shared corpus, sent through the API, comes out as safe HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from service.db import db
from service.models import Comment, Status
from service.rendering import ALLOWED_TAGS, LINK_REL
from service.transitions import change_status
from tests.conftest import comment_payload

CORPUS = Path(__file__).parent / "data" / "xss_payloads.txt"


def load_payloads() -> list[str]:
    """One payload per line, blank lines skipped; the widget's browser tests read the same file."""
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


PAYLOADS = load_payloads()
ARTICLE = "/xss"


class AllowListAudit(HTMLParser):
    """Collects every tag and attribute the sanitiser let through."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        attributes = dict(attrs)
        allowed = {"href", "rel"} if tag == "a" else set()
        if extra := set(attributes) - allowed:
            self.problems.append(f"attributes {sorted(extra)} on <{tag}>")
        if tag == "a":
            self.links.append(attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.problems.append("an HTML comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"a declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"an unknown declaration {data!r}")


def assert_safe_html(html: str) -> None:
    audit = AllowListAudit()
    audit.feed(html)
    audit.close()
    assert not audit.problems, (audit.problems, html)
    for link in audit.links:
        assert link.get("rel") == LINK_REL, html
        if "href" not in link:  # an unsafe href was dropped, leaving inert text
            continue
        href = link["href"] or ""
        assert urlsplit(href).scheme in ("http", "https") and urlsplit(href).hostname, html


def assert_safe_url(url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname, url
    assert not set(url) & set("\"'<>` \t\n\\"), url


def test_the_corpus_is_big_and_varied():
    assert len(PAYLOADS) >= 50
    text = "\n".join(PAYLOADS).lower()
    for family in ("<script", "onerror", "javascript:", "data:", "<svg", "](javascript",
                   "&#", "<https://"):
        assert family in text, family


def publish(app, comment_id: int) -> None:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        change_status(comment, Status.APPROVED, actor="test", action="approve")
        db.session.commit()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_body_renders_only_safe_html(app, site, client, payload):
    response = client.post("/api/v1/comments", json=comment_payload(body=payload, article=ARTICLE))
    if response.status_code == 422:  # e.g. nothing visible left: refused, which is safe
        assert "body" in response.get_json()["fields"]
        return
    assert response.status_code == 202, response.get_json()
    publish(app, response.get_json()["id"])
    listing = client.get("/api/v1/comments", query_string={"site": "news", "article": ARTICLE})
    [comment] = listing.get_json()["comments"]
    assert_safe_html(comment["body_html"])
    for href in (link.get("href") or "" for link in _links(comment["body_html"])):
        assert "javascript" not in href.lower() and "data:" not in href.lower()


def _links(html: str) -> list[dict[str, str | None]]:
    audit = AllowListAudit()
    audit.feed(html)
    return audit.links


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_as_website_is_refused_or_a_plain_http_link(app, site, client, payload):
    response = client.post("/api/v1/comments", json=comment_payload(
        url=payload, article=ARTICLE, body="my site is linked"))
    if response.status_code == 422:
        assert "url" in response.get_json()["fields"]
        return
    assert response.status_code == 202
    publish(app, response.get_json()["id"])
    listing = client.get("/api/v1/comments", query_string={"site": "news", "article": ARTICLE})
    [comment] = listing.get_json()["comments"]
    assert_safe_url(comment["author"]["url"])


def test_good_links_survive_with_safe_rel(app, site, client):
    body = ("see [docs](https://ok.example/docs) and https://ok.example/auto and "
            "<https://ok.example/angle>")
    response = client.post("/api/v1/comments", json=comment_payload(body=body, article=ARTICLE))
    publish(app, response.get_json()["id"])
    [comment] = client.get("/api/v1/comments", query_string={
        "site": "news", "article": ARTICLE}).get_json()["comments"]
    links = _links(comment["body_html"])
    assert [link["href"] for link in links] == [
        "https://ok.example/docs", "https://ok.example/auto", "https://ok.example/angle"]
    assert_safe_html(comment["body_html"])
