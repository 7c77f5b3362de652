"""Response shapes of the HTTP API, for the OpenAPI document and for tests that check answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["pending", "approved", "review", "rejected", "spam", "removed"]


class ErrorBody(BaseModel):
    error: str = Field(description="A stable code, e.g. invalid, unknown_site, rate_limited.")
    message: str
    fields: dict[str, str] | None = Field(None, description="Per-field messages (422 only).")


class Author(BaseModel):
    name: str
    url: str | None
    avatar: str = Field(description="Keyed hash seed for an identicon; not derived from a "
                                    "guessable hash of the email.")


class PublicComment(BaseModel):
    id: int
    parent_id: int | None
    author: Author
    body_html: str = Field(description="Rendered Markdown subset, sanitised server-side.")
    created_at: str


class CommentList(BaseModel):
    comments: list[PublicComment]
    next: str | None = Field(description="Cursor for `after`, or null on the last page.")
    total: int


class SubmitAccepted(BaseModel):
    id: int
    status: Literal["pending"]
    token: str = Field(description="Lets the submitter see and remove their own comment.")


class OwnStatus(BaseModel):
    id: int
    status: Status
    reason: str | None = Field(description="Stable reason code when held or refused.")
    comment: PublicComment
    article: str
    site: str


class FeedComment(PublicComment):
    article: str


class ChangeEventBody(BaseModel):
    seq: int
    type: Literal["comment.approved", "comment.removed", "comment.updated"]
    comment: FeedComment


class ChangeList(BaseModel):
    events: list[ChangeEventBody]
    next_since: int


class Counts(BaseModel):
    counts: dict[str, int]


class ModerationList(BaseModel):
    comments: list[dict[str, Any]] = Field(description="Comments with email, IP, user agent, "
                                                       "check results and author history.")
    next: str | None


class Health(BaseModel):
    status: str
