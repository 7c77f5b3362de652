"""The widget in a real browser (headless Debian Chromium) against a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.serving import make_server

from service import comments as svc
from service.db import db
from service.models import Comment, Site, Status
from service.schemas import CommentSubmission
from service.sites import create_site
from service.transitions import change_status
from tests.conftest import comment_payload

ARTICLE = "/2023/12/india-russia-talks"
# Served without any CSP, so only the widget's own care keeps hostile comments inert.
BLOG_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>A blog on another origin</title>
<link rel="icon" href="data:,"></head>
<body><h1>Someone else's blog</h1><p>An article.</p>
<div id="vetted-comments" data-site="demo" data-article="{article}" {extra}></div>
<script src="{api}/embed.js" async></script></body></html>"""


@dataclass
class Live:
    app: Flask
    base: str  # the service, where /demo/ lives
    blog: str  # another origin embedding the widget from `base`


@dataclass
class Recorder:
    """What a page logged and asked for, so tests can assert on it."""

    errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append((request.method, request.url)))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def posts(self) -> list[str]:
        return [url for method, url in self.requests if method == "POST"]


@pytest.fixture()
def live(app: Flask, app_factory) -> Iterator[Live]:
    served = app_factory()
    server = make_server("127.0.0.1", 0, served, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    blog = f"http://localhost:{server.server_port}"

    def blog_page() -> str:
        from flask import request

        lang = request.args.get("lang", "en")
        extra = " ".join(f'data-{k}="{request.args[k]}"' for k in ("lang", "theme")
                         if k in request.args)
        return BLOG_PAGE.format(lang=lang, article=ARTICLE, extra=extra, api=base)

    served.add_url_rule("/test-blog/", "test_blog", blog_page)
    with served.app_context():
        create_site("demo", "Demo", [base, blog])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(served, base, blog)
    server.shutdown()
    thread.join(10)
    server.server_close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def published(app: Flask, **overrides: Any) -> int:
    """A comment stored exactly as a submission is, then approved."""
    data = CommentSubmission.model_validate(comment_payload(site="demo", **overrides))
    with app.test_request_context():
        site = db.session.scalar(select(Site).where(Site.slug == "demo"))
        comment_id, _ = svc.submit_comment(site, data, svc.RequestMeta(None, None, None))
    decide(app, comment_id, Status.APPROVED)
    return comment_id


def decide(app: Flask, comment_id: int, status: Status, reason: str | None = None) -> None:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        change_status(comment, status, actor="test", action="decide", reason=reason)
        db.session.commit()


def comment_ids(app: Flask) -> list[int]:
    with app.app_context():
        ids = list(db.session.scalars(select(Comment.id).order_by(Comment.id)))
        db.session.remove()
        return ids


def fill_form(page: Page, *, body: str = "Good piece, thank you.", name: str = "Asha Rao",
              email: str = "asha@example.org",
              labels: tuple[str, str, str] = ("Comment", "Name", "Email")) -> None:
    form = page.locator(".vetted-form").first
    for label, value in zip(labels, (body, name, email), strict=True):
        form.get_by_role("textbox", name=label, exact=True).fill(value)


def post_own_comment(live: Live, page: Page) -> int:
    """Fill and send the form, wait for the pending comment to show; its stored id."""
    fill_form(page)
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".vetted-own")).to_have_count(1)
    [comment_id] = comment_ids(live.app)
    return comment_id


def open_widget(page: Page, url: str, recorder: Recorder) -> None:
    recorder.attach(page)
    page.goto(url)
    expect(page.locator(".vetted-count")).not_to_have_text("Loading comments…")


def test_empty_submit_shows_accessible_errors_and_sends_nothing(live: Live, page: Page):
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    expect(page.locator(".vetted-count")).to_have_text("No comments yet")
    expect(page.locator(".vetted-note")).to_have_text(
        "Your email address will not be published. Required fields are marked *")
    before = len(recorder.requests)
    page.get_by_role("button", name="Post Comment").click()
    body = page.get_by_role("textbox", name="Comment", exact=True)
    for label, message in (("Comment", "Please write your comment."),
                           ("Name", "Please enter your name."),
                           ("Email", "Please enter your email address.")):
        control = page.get_by_role("textbox", name=label, exact=True)
        expect(control).to_have_attribute("aria-invalid", "true")
        described = control.get_attribute("aria-describedby")
        expect(page.locator(f"#{described}")).to_have_text(message)
    website = page.get_by_role("textbox", name="Website", exact=True)
    expect(website).not_to_have_attribute("aria-invalid", "true")
    expect(body).to_be_focused()
    expect(page.get_by_role("alert")).to_have_text("Please correct the marked fields.")
    # Only the email is wrong now: its message changes, the others clear.
    fill_form(page, email="not an email")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.get_by_role("textbox", name="Email", exact=True)).to_be_focused()
    expect(body).not_to_have_attribute("aria-invalid", "true")
    assert recorder.requests[before:] == [] and recorder.posts() == []
    assert comment_ids(live.app) == []
    assert recorder.errors == []


def test_submitted_comment_awaits_moderation_then_shows_published(live: Live, page: Page):
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    fill_form(page, body="Trade talks *matter*.")
    page.get_by_role("textbox", name="Website", exact=True).fill("https://asha.example")
    page.get_by_role("button", name="Post Comment").click()
    own = page.locator(".vetted-own")
    expect(own).to_contain_text("Awaiting moderation")
    expect(own.locator(".vetted-body em")).to_have_text("matter")
    expect(page.locator(".vetted-status")).to_have_text(
        "Thank you! Your comment is awaiting moderation.")
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value("")
    [comment_id] = comment_ids(live.app)
    assert recorder.posts() == [live.base + "/api/v1/comments"]

    page.reload()  # still shown, from localStorage, while it waits
    expect(page.locator(".vetted-own")).to_contain_text("Awaiting moderation")
    expect(page.locator(".vetted-count")).to_have_text("No comments yet")

    decide(live.app, comment_id, Status.APPROVED)
    page.reload()
    item = page.locator(f"#vetted-comment-{comment_id}")
    expect(item).to_contain_text("Trade talks matter.")
    expect(page.locator(".vetted-count")).to_have_text("1 comment")
    expect(page.locator(".vetted-own")).to_have_count(0)
    expect(item.locator("time")).to_have_text("now")
    author = item.locator("a.vetted-author")
    expect(author).to_have_text("Asha Rao")
    expect(author).to_have_attribute("href", "https://asha.example")
    expect(author).to_have_attribute("rel", "nofollow ugc noopener")
    expect(item.locator("svg.vetted-avatar rect[fill]").first).to_be_attached()
    page.wait_for_function("() => localStorage.length === 0")
    assert page.context.cookies() == []
    hosts = {url.split("/")[2] for _, url in recorder.requests}
    assert hosts == {live.base.split("/")[2]}, "nothing is fetched from anywhere else"
    assert recorder.errors == []


def test_published_while_open_turns_into_a_normal_comment(live: Live, page: Page):
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    comment_id = post_own_comment(live, page)
    decide(live.app, comment_id, Status.APPROVED)
    # The widget's own polling notices; no reload.
    expect(page.locator(".vetted-own")).to_have_count(0)
    expect(page.locator(".vetted-status")).to_have_text("Your comment has been published.")
    expect(page.locator(".vetted-count")).to_have_text("1 comment")
    assert recorder.errors == []


def test_reply_nests_under_its_parent(live: Live, page: Page):
    parent = published(live.app, name="Ravi", body="First!")
    other = published(live.app, name="Mira", body="Second.")
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    expect(page.locator(".vetted-count")).to_have_text("2 comments")
    parent_item = page.locator(f"#vetted-comment-{parent}")
    parent_item.get_by_role("button", name="Reply to Ravi").click()
    expect(parent_item.locator(".vetted-respond-title")).to_contain_text("Reply to Ravi")
    expect(parent_item.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()
    fill_form(page, body="Replying to Ravi.", name="Asha")
    page.get_by_role("button", name="Post Comment").click()
    reply = parent_item.locator(".vetted-replies > .vetted-own")
    expect(reply).to_contain_text("Replying to Ravi.")
    expect(reply).to_contain_text("Awaiting moderation")
    # The form went back to the end of the thread.
    expect(parent_item.locator(".vetted-form")).to_have_count(0)
    reply_id = comment_ids(live.app)[-1]
    with live.app.app_context():
        assert db.session.get(Comment, reply_id).parent_id == parent

    decide(live.app, reply_id, Status.APPROVED)
    page.reload()
    nested = page.locator(
        f"#vetted-comment-{parent} > .vetted-replies > #vetted-comment-{reply_id}")
    expect(nested).to_contain_text("Replying to Ravi.")
    expect(page.locator(f"#vetted-comment-{other} .vetted-replies > *")).to_have_count(0)
    expect(page.locator(".vetted-count")).to_have_text("3 comments")
    assert recorder.errors == []


HOSTILE_BODY = (
    "<script>window.__pwned = 'script'</script>\n\n"
    "<img src=x onerror=\"window.__pwned = 'img'\">\n\n"
    "<svg onload=\"window.__pwned = 'svg'\"></svg>\n\n"
    "[click me](javascript:window.__pwned='link') <iframe src=\"javascript:parent.__pwned=1\">"
)
HOSTILE_NAME = "<img src=x onerror=\"window.__pwned='name'\">"


def assert_inert(page: Page) -> None:
    state = page.evaluate("""() => ({
        pwned: window.__pwned === undefined ? null : String(window.__pwned),
        scripts: document.querySelectorAll('.vetted script, .vetted iframe').length,
        handlers: [...document.querySelectorAll('.vetted *')].filter(
            (el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
        jsLinks: document.querySelectorAll('.vetted a[href^="javascript"]').length,
    })""")
    assert state == {"pwned": None, "scripts": 0, "handlers": 0, "jsLinks": 0}


def test_hostile_comments_never_execute(live: Live, page: Page):
    recorder = Recorder()
    # Another origin, without any CSP: nothing but the widget stands between payload and page.
    open_widget(page, live.blog + "/test-blog/", recorder)
    # Control: this page does run an inline handler that reaches the DOM as HTML.
    page.evaluate("""() => document.body.insertAdjacentHTML('beforeend',
        '<img id="control" src="data:," onerror="window.__control = 1">')""")
    page.wait_for_function("() => window.__control === 1")
    page.evaluate("() => document.getElementById('control').remove()")

    fill_form(page, body=HOSTILE_BODY, name=HOSTILE_NAME)
    page.get_by_role("button", name="Post Comment").click()
    own = page.locator(".vetted-own")
    expect(own).to_contain_text("Awaiting moderation")  # rendered from the status answer
    expect(own.locator(".vetted-author")).to_have_text(HOSTILE_NAME)
    assert_inert(page)

    [comment_id] = comment_ids(live.app)
    decide(live.app, comment_id, Status.APPROVED)
    page.reload()
    item = page.locator(f"#vetted-comment-{comment_id}")
    expect(item.locator(".vetted-author")).to_have_text(HOSTILE_NAME)  # rendered from the list
    expect(item.locator(".vetted-body")).to_contain_text("click me")
    page.evaluate("() => document.querySelector('.vetted-body a')?.click()")
    assert_inert(page)
    assert recorder.errors == []


def test_the_shared_xss_corpus_stays_inert_in_the_page(live: Live, page: Page):
    from tests.test_xss import load_payloads

    stored = 0
    for payload in load_payloads():
        try:
            published(live.app, body=payload, name=payload if len(payload) <= 100 else "Reader")
            stored += 1
        except ValidationError:
            continue  # refused at the door: nothing to render
    assert stored > 80
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    recorder = Recorder()
    open_widget(page, live.blog + "/test-blog/", recorder)  # no CSP on this page
    expect(page.locator(".vetted-count")).to_have_text(f"{stored} comments")
    more = page.locator(".vetted-more")
    while more.is_visible():
        more.click()
        expect(more).to_be_enabled()  # the page arrived (the button may now be hidden)
    expect(page.locator(".vetted-comment")).to_have_count(stored)
    assert_inert(page)
    assert page.evaluate("""() => document.querySelectorAll(
        '.vetted object, .vetted embed, .vetted style, .vetted math, .vetted img').length""") == 0
    hosts = {url.split("/")[2] for _, url in recorder.requests}
    assert hosts <= {live.base.split("/")[2], live.blog.split("/")[2]}, hosts
    assert dialogs == [] and recorder.errors == []


def test_cross_origin_embed_uses_the_script_origin_and_german(live: Live, page: Page):
    published(live.app, name="Jonas", body="Guter Artikel.")
    recorder = Recorder()
    open_widget(page, live.blog + "/test-blog/?lang=de", recorder)
    expect(page.locator(".vetted-count")).to_have_text("1 Kommentar")
    expect(page.locator(".vetted-respond-title")).to_contain_text("Schreibe einen Kommentar")
    expect(page.locator(".vetted time")).to_have_text("jetzt")
    page.get_by_role("button", name="Kommentar abschicken").click()
    expect(page.get_by_role("alert")).to_have_text("Bitte korrigiere die markierten Felder.")
    fill_form(page, body="Danke!", name="Lena", email="lena@example.org",
              labels=("Kommentar", "Name", "E-Mail"))
    page.get_by_role("button", name="Kommentar abschicken").click()
    expect(page.locator(".vetted-own")).to_contain_text("Wartet auf Freischaltung")
    api_calls = [url for _, url in recorder.requests if "/api/v1/" in url]
    assert api_calls and all(url.startswith(live.base + "/api/v1/") for url in api_calls)
    assert recorder.errors == []


def test_server_field_errors_show_next_to_their_fields(live: Live, page: Page):
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    fill_form(page, email="asha@example")  # fine for the widget, not for the server
    page.get_by_role("button", name="Post Comment").click()
    email = page.get_by_role("textbox", name="Email", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    message = page.locator("#" + email.get_attribute("aria-describedby"))
    expect(message).to_contain_text("period")
    assert comment_ids(live.app) == []
    # The browser reports the refused request itself; nothing else may fail.
    assert all("status of 422" in error for error in recorder.errors), recorder.errors


def test_held_then_refused_comment_tells_the_reader_why(live: Live, page: Page):
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    comment_id = post_own_comment(live, page)
    decide(live.app, comment_id, Status.REVIEW, "links.too_many")
    page.reload()
    expect(page.locator(".vetted-own .vetted-badge")).to_have_text(
        "Held for review. It contains several links.")
    expect(page.locator(".vetted-status")).to_have_text(
        "Your comment is being held for review. It contains several links.")

    decide(live.app, comment_id, Status.SPAM, "blocklist.email")
    page.reload()
    expect(page.locator(".vetted-status")).to_have_text(
        "Your comment was not published. "
        "It contains words or addresses this site does not accept.")
    expect(page.locator(".vetted-own")).to_have_count(0)
    page.wait_for_function("() => localStorage.length === 0")
    assert recorder.errors == []


def test_unknown_reason_gets_the_generic_text(live: Live, page: Page):
    open_widget(page, live.base + "/demo/", Recorder())
    comment_id = post_own_comment(live, page)
    decide(live.app, comment_id, Status.REJECTED, "moderator wrote a private note")
    page.reload()
    expect(page.locator(".vetted-status")).to_have_text(
        "Your comment was not published. It does not meet this site's guidelines.")
    expect(page.locator(".vetted-status")).not_to_contain_text("private note")


def test_load_more_pages_through_long_threads(live: Live, page: Page):
    for n in range(53):
        published(live.app, name=f"Reader {n}", body=f"Comment number {n}.")
    recorder = Recorder()
    open_widget(page, live.base + "/demo/", recorder)
    expect(page.locator(".vetted-count")).to_have_text("53 comments")
    expect(page.locator(".vetted-list > .vetted-comment")).to_have_count(50)
    page.get_by_role("button", name="Load more comments").click()
    expect(page.locator(".vetted-list > .vetted-comment")).to_have_count(53)
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()
    last = page.locator(".vetted-list > .vetted-comment").last
    expect(last).to_contain_text("Comment number 52.")
    assert recorder.errors == []


def test_themes_follow_the_system_and_the_override(live: Live, page: Page):
    def foreground() -> str:
        return page.evaluate("""() => getComputedStyle(document.querySelector('.vetted'))
            .getPropertyValue('--vetted-fg').trim()""")

    page.emulate_media(color_scheme="light")
    open_widget(page, live.blog + "/test-blog/", Recorder())
    light = foreground()
    page.emulate_media(color_scheme="dark")
    dark = foreground()
    assert light != dark
    page.goto(live.blog + "/test-blog/?theme=light")
    expect(page.locator(".vetted")).to_have_attribute("data-theme", "light")
    assert foreground() == light


def test_form_works_without_javascript(live: Live, browser: Browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live.base + "/demo/")
        expect(page.locator(".vetted-count")).to_have_count(0)  # the widget did not run
        expect(page.locator("#vetted-submitted")).to_be_hidden()
        page.locator("#ns-body").fill("Posted without JavaScript.")
        page.locator("#ns-name").fill("Asha Rao")
        page.locator("#ns-email").fill("asha@example.org")
        page.get_by_role("button", name="Post Comment").click()
        page.wait_for_url(live.base + "/demo/#vetted-submitted")
        expect(page.locator("#vetted-submitted")).to_be_visible()
        expect(page.locator("#vetted-submitted")).to_contain_text("awaiting moderation")
    finally:
        context.close()
    [comment_id] = comment_ids(live.app)
    with live.app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status == Status.PENDING and comment.body == "Posted without JavaScript."
        assert comment.article.key == ARTICLE
