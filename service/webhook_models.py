"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import db
from service.models import Site, utcnow


class Webhook(db.Model):
    """An admin's URL that receives signed POSTs for some event types of one site."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kept in clear: signing needs the secret itself, so a hash would not do (see README).
    secret: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Deliveries that ran out of attempts in a row; reset by any success.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship(lazy="joined")


class WebhookDelivery(db.Model):
    """One event sent (or being sent) to one webhook: the exact body, and how it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The delivery log of one webhook, newest first.
        Index("ix_webhook_deliveries_webhook_id", "webhook_id", "id"),
        # The re-queue task looks for deliveries whose message may have been lost.
        Index("ix_webhook_deliveries_status_queued", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_seq: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(32))
    # Fixed at planning time so every retry sends, and signs, the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    # pending -> retrying -> succeeded | failed; skipped when the webhook was disabled first.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    webhook: Mapped[Webhook] = relationship(lazy="joined")
