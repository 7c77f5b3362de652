"""Request bodies of the moderation API (validated into 422 field errors by schemas.parse)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.decisions import MAX_BULK
from service.models import MAX_ID
from service.policy_preview import PREVIEW_DEFAULT, PREVIEW_MAX

Action = Literal["approve", "reject", "spam", "ham", "remove"]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    # Becomes the comment's reason code, which its author can see.
    reason: str | None = Field(default=None, max_length=64)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        return (value or "").strip() or None


class BulkDecisionRequest(DecisionRequest):
    ids: list[int] = Field(min_length=1, max_length=MAX_BULK)

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(i < 1 or i > MAX_ID for i in value):
            raise ValueError("ids must be positive comment ids")
        return list(dict.fromkeys(value))


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any] = Field(default_factory=dict)
    limit: int = Field(default=PREVIEW_DEFAULT, ge=1, le=PREVIEW_MAX)
