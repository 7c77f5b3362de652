"""Per-site moderation policy: stored as JSON on the site row, validated here (no Flask)."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SitePolicy(BaseModel):
    """Every knob a site owner can turn; defaults are what a new site gets."""

    model_config = ConfigDict(extra="forbid")

    # Send every comment to review, whatever the checks say.
    review_all: bool = False
    # More links than this in body + website sends a comment to review.
    max_links: int = Field(2, ge=0, le=100)
    # Deepest reply nesting accepted (1 = no replies).
    max_depth: int = Field(5, ge=1, le=20)
    # WordPress "moderation keys": a match in name, email, url, body or IP sends to review.
    moderation_keys: list[str] = Field(default_factory=list)
    # WordPress "disallowed keys": a match in name, email, url, body or IP marks spam.
    blocklist: list[str] = Field(default_factory=list)
    # Spam model probability at or above which a comment is spam.
    spam_threshold: float = Field(0.9, ge=0, le=1)
    # Spam model probability from which (below spam_threshold) a comment waits for review.
    review_threshold: float = Field(0.3, ge=0, le=1)
    # Offensive-language probability at or above which a comment waits for review.
    offensive_threshold: float = Field(0.8, ge=0, le=1)
    # Extra words that always send a comment to review (the site's own offensive list).
    offensive_words: list[str] = Field(default_factory=list)
    # More comments than this from one IP or one email within flood_window_seconds -> review.
    flood_max: int = Field(5, ge=1, le=10_000)
    # Window for the flood counters, in seconds.
    flood_window_seconds: int = Field(60, ge=1, le=86_400)
    # Nearly the same text (8+ words) by another author or on another article within this
    # many seconds is spam.
    near_duplicate_window_seconds: int = Field(3600, ge=60, le=7 * 86_400)
    # Approved comments (and no spam) after which an author's soft flags are waived.
    trusted_after: int = Field(3, ge=1, le=1000)
    # Origins (scheme://host[:port]) whose pages may embed the widget and call the public API.
    allowed_origins: list[str] = Field(default_factory=list)
    # Moderators emailed when a comment enters review (needs SMTP_HOST; empty = no emails).
    notify_emails: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> SitePolicy:
        if self.review_threshold > self.spam_threshold:
            raise ValueError("review_threshold must not be above spam_threshold")
        return self


class SiteLike(Protocol):
    """A site row or its cached snapshot: all the public paths need of a site."""

    id: int

    @property
    def policy(self) -> SitePolicy: ...
