"""Comment bodies: a small Markdown subset rendered once at write time, then sanitised by nh3."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("zero", {"linkify": True, "breaks": True}).enable(
    ["emphasis", "link", "backticks", "linkify", "newline", "list", "blockquote", "fence",
     "code", "escape"]
)
ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
LINK_REL = "nofollow ugc noopener"

# Bidi overrides and invisible characters that let text masquerade as something else.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Control characters other than tab and newline have no place in a comment.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# More than a few combining marks on one letter is "zalgo" text, not language.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_COMBINING_FLOOD = re.compile(f"([{_MARKS}]{{4}})[{_MARKS}]+")


def clean_text(text: str) -> str:
    """Normalise user text: NFC, no control or bidi-override characters, no combining floods."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _INVISIBLE.sub("", text)
    return _COMBINING_FLOOD.sub(r"\1", text).strip()


def _absolute_http_only(tag: str, attribute: str, value: str) -> str | None:
    """Drop relative and protocol-relative hrefs ("//evil.example"): links must be http(s)."""
    if attribute == "href" and not value.lower().startswith(("http://", "https://")):
        return None
    return value


# One cleaner for the process: nh3.clean would rebuild the same rules on every call.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https"},
    link_rel=LINK_REL,
    attribute_filter=_absolute_http_only,
)


def render_body(body: str) -> str:
    """Markdown subset to HTML, then nh3 keeps only safe tags and http(s) links."""
    return _CLEANER.clean(_MARKDOWN.render(body)).strip()


def body_fingerprint(body: str) -> str:
    """Hash of the body with case and whitespace folded, for exact-duplicate detection."""
    folded = " ".join(body.casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def avatar_seed(email: str, secret: str) -> str:
    """Keyed hash, so the seed cannot be matched against a list of known emails."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:32]
