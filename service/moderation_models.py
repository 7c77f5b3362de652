"""Labelled examples (what moderators called spam or ham) and the spam models learned from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text
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


class LearnedSpamModel(db.Model):
    """One saved state of the deployment's learned spam model; the newest row is the one in use.

    In the database, not a file, so workers on every machine score with the same lessons.
    """

    __tablename__ = "learned_spam_models"
    # Ids never reused on SQLite either: a process compares ids to notice a newer model.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moderator decisions this model has learned from since the shipped one (replays not counted).
    decisions_learned: Mapped[int] = mapped_column(default=0)
    # Labelled examples used by the step that produced this row (new labels plus replayed ones).
    examples: Mapped[int] = mapped_column(default=0)
    # SpamModel.to_bytes(): the joblib file `vetted spam train` writes, versioned.
    blob: Mapped[bytes] = mapped_column(LargeBinary)
