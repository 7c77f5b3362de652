"""Query-string parsing that answers bad input with the JSON 422 shape."""

from __future__ import annotations

from flask import request

from service.errors import ApiError


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole number in [low, high], or `default` when the argument is absent or empty."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(422, "invalid", f"{name} is out of range",
                       {name: f"must be a whole number from {low} to {high}"})
    return value


def required_arg(name: str) -> str:
    value = (request.args.get(name) or "").strip()
    if not value:
        raise ApiError(422, "invalid", f"{name} is required", {name: "required"})
    return value
