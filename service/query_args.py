"""Query-string parsing that answers bad input with the JSON 422 shape."""

from __future__ import annotations

from flask import request

from service.errors import ApiError


def parse_int(raw: str | None, default: int, low: int, high: int) -> int | None:
    """A whole number in [low, high], `default` when absent or empty, None when invalid."""
    if raw in (None, ""):
        return default
    try:
        value = int(raw)  # type: ignore[arg-type]
    except ValueError:
        return None
    return value if low <= value <= high else None


def int_arg(name: str, default: int, low: int, high: int) -> int:
    value = parse_int(request.args.get(name), default, low, high)
    if value is None:
        raise ApiError(422, "invalid", f"{name} is out of range",
                       {name: f"must be a whole number from {low} to {high}"})
    return value


def parse_required(raw: str | None) -> str:
    """The argument without surrounding blanks; empty means missing."""
    return (raw or "").strip()


def required_arg(name: str) -> str:
    value = parse_required(request.args.get(name))
    if not value:
        raise ApiError(422, "invalid", f"{name} is required", {name: "required"})
    return value
