"""The stored state: sites, articles, comments, check results, audit and change events, tokens."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import db
from service.policy import SitePolicy

# Ids and seqs are INTEGER columns (32-bit on PostgreSQL): larger values can name no row, and
# binding them would be a database error, so inputs are validated against this bound.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REVIEW = "review"
    REJECTED = "rejected"
    SPAM = "spam"
    REMOVED = "removed"


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # SitePolicy as JSON, so a new knob needs no migration.
    policy_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def policy(self) -> SitePolicy:
        return SitePolicy.model_validate(self.policy_json or {})

    @policy.setter
    def policy(self, value: SitePolicy) -> None:
        self.policy_json = value.model_dump()


class Article(db.Model):
    """One page's thread; its counters make listing, ETags and counts cheap."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    key: Mapped[str] = mapped_column(String(500))
    approved_count: Mapped[int] = mapped_column(default=0)
    # Bumped whenever what the public sees of this thread changes; the list ETag is built on it.
    version: Mapped[int] = mapped_column(default=0)


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # Listing: approved comments of one article in id order.
        Index("ix_comments_article_status_id", "article_id", "status", "id"),
        # Re-queue: oldest pending first.
        Index("ix_comments_status_queued", "status", "queued_at"),
        # Workers' claims: only the queue itself, however many rows have left it.
        Index("ix_comments_pending_id", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_comments_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    depth: Mapped[int] = mapped_column(default=1)
    author_name: Mapped[str] = mapped_column(String(100))
    # Normalised by email-validator; never leaves the moderation API.
    email: Mapped[str] = mapped_column(String(320))
    author_url: Mapped[str | None] = mapped_column(String(500))
    # Keyed hash of the email: a stable avatar seed that cannot be reversed by guessing.
    avatar_seed: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # Rendered and sanitised once at write time, so reads do no rendering.
    body_html: Mapped[str] = mapped_column(Text)
    # Hash of the normalised body, for the exact-duplicate check.
    body_hash: Mapped[str] = mapped_column(String(64))
    honeypot: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    # Reason code of the decision, shown to the author for held or refused comments.
    status_reason: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(500))
    # sha256 of the submitter's token; the token itself is only ever in the 202 answer.
    token_hash: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Last time moderation was queued; the re-queue task looks for pending comments stuck since.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(lazy="joined")
    article: Mapped[Article] = relationship(lazy="joined")
    checks: Mapped[list[CheckRecord]] = relationship(
        back_populates="comment", order_by="CheckRecord.id", cascade="all, delete-orphan"
    )


class CheckRecord(db.Model):
    """One check's result for one comment, kept for moderators and audits."""

    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    check: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(500), default="")
    score: Mapped[float | None]
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="checks")


class AuditEvent(db.Model):
    """Who or which check moved what from where to where, and why."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    # "check:pipeline", "moderator:<token id>", "author", "admin:<token id>", "cli".
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedCounter(db.Model):
    """A single row whose update both allocates the next seq and orders commits by it."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


class ChangeEvent(db.Model):
    """A change to what the public sees; consumers poll these in seq order."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_site_seq", "site_id", "seq"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    type: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[Comment] = relationship(lazy="joined")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    # sha256 of the token: tokens are random 256-bit strings, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
