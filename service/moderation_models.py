"""Labelled examples: what moderators called spam or ham, kept so the spam model can learn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import db
from service.models import utcnow


class LabelledExample(db.Model):
    """One comment's latest spam/ham label, with the submission as the checks saw it.

    No foreign keys on purpose: a label outlives its comment (retraining keeps it) and must not
    block deleting comments or sites.
    """

    __tablename__ = "labelled_examples"
    __table_args__ = (Index("ix_labelled_examples_site_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int]
    # One row per comment: a later "ham" after "spam" relabels it rather than adding a twin.
    comment_id: Mapped[int] = mapped_column(unique=True)
    body: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    url: Mapped[str] = mapped_column(String(500), default="")
    # True = spam.
    is_spam: Mapped[bool]
    # "moderator:<token id>" who gave the label.
    labelled_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
