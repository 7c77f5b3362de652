"""Request validation: pydantic models whose errors become field-level 422 answers."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from service.errors import ApiError
from service.models import MAX_ID
from service.rendering import clean_text

Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ArticleKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

# "javascript:..." has a scheme; "example.org:8080" does not (a port follows the colon).
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")
# Quotes, angle brackets, backslashes and whitespace have no business in a website address.
_UNSAFE_URL = re.compile(r"[\s\"'<>`\\]")
MAX_BODY = 10_000
MAX_NAME = 100


class CommentSubmission(BaseModel):
    """POST /api/v1/comments; `hp` is the honeypot a person never fills in."""

    model_config = ConfigDict(extra="ignore", str_max_length=20_000)

    site: Slug
    article: ArticleKey
    name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    body: str = Field(max_length=MAX_BODY * 2)
    url: str | None = Field(default=None, max_length=2000)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    hp: str | None = Field(default=None, max_length=1000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(clean_text(value).split())
        if not value:
            raise ValueError("name is required")
        if len(value) > MAX_NAME:
            raise ValueError(f"name must be at most {MAX_NAME} characters")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value:
            raise ValueError("email is required")
        deliverability = bool((info.context or {}).get("check_deliverability", False))
        try:
            return validate_email(value, check_deliverability=deliverability).normalized
        except EmailNotValidError as error:
            raise ValueError(str(error)) from None

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        value = clean_text(value)
        if not value:
            raise ValueError("comment text is required")
        if len(value) > MAX_BODY:
            raise ValueError(f"comment must be at most {MAX_BODY} characters")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        value = clean_text(value or "")
        if not value:
            return None
        if not _SCHEME.match(value):
            value = "https://" + value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or _UNSAFE_URL.search(value):
            raise ValueError("website must be an http or https address")
        if len(value) > 500:
            raise ValueError("website must be at most 500 characters")
        return value

    @field_validator("hp")
    @classmethod
    def _hp(cls, value: str | None) -> str:
        return (value or "")[:200]


def validation_fields(error: ValidationError) -> dict[str, str]:
    """Map pydantic's errors to {field: message}, first message per field."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "body"
        message = item["msg"].removeprefix("Value error, ")
        fields.setdefault(field, message)
    return fields


def parse(model: type[BaseModel], data: Any, context: dict[str, Any] | None = None) -> Any:
    """Validate or raise the 422 ApiError with per-field messages."""
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the request body must be a JSON object")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as error:
        raise ApiError(
            422, "invalid", "some fields are missing or invalid", validation_fields(error)
        ) from None
