"""The review page at /moderate: headers, and a real browser (headless Debian Chromium)
signing in, deciding with the keyboard and in bulk, against a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from werkzeug.serving import make_server

from service.db import db
from service.models import CheckRecord, Comment, Site, Status
from service.tokens import create_token
from service.transitions import change_status
from tests.conftest import status_of, store_without_queueing

HOSTILE_NAME = '<img src=x onerror="window.pwned=1">Mallory'


def test_page_headers_and_no_inline_script(client):
    response = client.get("/moderate")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert '<script src="/static/moderate.js" defer></script>' in html
    assert "<script>" not in html and " on" + "click=" not in html
    for asset in ("/static/moderate.js", "/static/moderate.css"):
        served = client.get(asset)
        assert served.status_code == 200
        served.close()  # static files are streamed; close the file handle


@pytest.fixture()
def live(app: Flask, site: Site) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    yield page, errors
    context.close()


@pytest.fixture()
def token(app: Flask, site: Site) -> str:
    with app.app_context():
        return create_token("moderator", ["news"], "Priya")[1]


def held(app: Flask, site: Site, body: str, **overrides: Any) -> int:
    comment_id = store_without_queueing(app, site, body=body, **overrides)
    with app.app_context():
        db.session.add(CheckRecord(comment_id=comment_id, check="links", verdict="hold",
                                   reason="links.too_many", detail="3 links (the site allows 2)"))
        change_status(db.session.get(Comment, comment_id), Status.REVIEW,
                      actor="check:pipeline", action="moderate", reason="links.too_many")
        db.session.commit()
    return comment_id


def sign_in(page: Page, base: str, token: str) -> None:
    page.goto(base + "/moderate")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#review")).to_be_visible()


def test_sign_in_and_approve_with_the_keyboard(app, site, live, page, token):
    page, errors = page
    first = held(app, site, "First held comment, with **emphasis**.", name=HOSTILE_NAME)
    second = held(app, site, "Second held comment.")
    sign_in(page, live, token)
    items = page.locator("#queue > li")
    expect(items).to_have_count(2)
    current = page.locator("#queue > li.current")
    expect(current).to_have_attribute("data-id", str(first))
    # The check's explanation and the author's details are shown, as text.
    expect(current.locator(".checks")).to_contain_text("links.too_many")
    expect(current.locator(".checks")).to_contain_text("3 links (the site allows 2)")
    expect(current.locator(".name")).to_have_text(HOSTILE_NAME)
    expect(current.locator(".email")).to_have_text("asha@example.org")
    expect(current.locator(".body strong")).to_have_text("emphasis")
    assert page.evaluate("window.pwned") is None

    page.keyboard.press("j")
    expect(current).to_have_attribute("data-id", str(second))
    page.keyboard.press("k")
    expect(current).to_have_attribute("data-id", str(first))
    page.keyboard.press("a")
    expect(items).to_have_count(1)
    expect(page.locator(f'#queue > li[data-id="{first}"]')).to_have_count(0)
    expect(page.locator("#message")).to_contain_text(f"#{first}: approve")
    assert status_of(app, first) == "approved" and status_of(app, second) == "review"

    page.keyboard.press("s")
    expect(page.locator("#empty")).to_be_visible()
    assert status_of(app, second) == "spam"
    # The token survives a reload (sessionStorage) and the queue is now empty.
    page.reload()
    expect(page.locator("#review")).to_be_visible()
    expect(page.locator("#empty")).to_be_visible()
    assert errors == []


def test_bulk_select_and_filters(app, site, live, page, token):
    page, errors = page
    ids = [held(app, site, f"Bulk candidate number {n}.") for n in range(3)]
    keeper = held(app, site, "A comment about the harvest.", article="/other")
    sign_in(page, live, token)
    expect(page.locator("#queue > li")).to_have_count(4)

    page.fill("#f-q", "harvest")
    page.click("#filters button[type=submit]")
    expect(page.locator("#queue > li")).to_have_count(1)
    page.fill("#f-q", "")
    page.fill("#f-article", "/2023/12/india-russia-talks")
    page.click("#filters button[type=submit]")
    expect(page.locator("#queue > li")).to_have_count(3)

    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text("3 selected")
    page.click("[data-bulk=reject]")
    expect(page.locator("#empty")).to_be_visible()
    assert [status_of(app, i) for i in ids] == ["rejected"] * 3
    assert status_of(app, keeper) == "review"

    # A comment decided elsewhere meanwhile: the page says so and drops it.
    page.fill("#f-article", "")
    page.click("#filters button[type=submit]")
    expect(page.locator("#queue > li")).to_have_count(1)
    with app.app_context():
        change_status(db.session.get(Comment, keeper), Status.SPAM, actor="moderator:999",
                      action="spam")
        db.session.commit()
    page.locator(f'#queue > li[data-id="{keeper}"] .act-approve').click()
    expect(page.locator("#message")).to_contain_text("it is spam")
    expect(page.locator("#queue > li")).to_have_count(0)
    assert [e for e in errors if "409" not in e] == []


def test_bad_token_is_refused(live, page):
    page, _ = page
    page.goto(live + "/moderate")
    page.fill("#token", "vt_wrong")
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#sign-in-error")).to_contain_text("unknown or revoked token")
    expect(page.locator("#review")).to_be_hidden()
