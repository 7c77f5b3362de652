"""One JSON error shape for every failure: {"error", "message", "fields"?}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client can act on; views raise it, the handler renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields, headers or {}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    body: dict[str, object] = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 503: "unavailable",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        response, status = error_response(error.status, error.code, error.message, error.fields)
        response.headers.update(error.headers)
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        response, status = error_response(
            status, _CODES.get(status, "http_error"), error.description or error.name
        )
        if status == 429 and (retry := getattr(error, "retry_after", None)):
            response.headers["Retry-After"] = str(retry)
        for key, value in (error.get_headers() if hasattr(error, "get_headers") else []):
            if key.lower() not in ("content-type", "content-length"):
                response.headers[key] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # A database or broker outage is the operator's problem, not the client's: 503, not 500.
        from sqlalchemy.exc import InterfaceError, OperationalError

        if isinstance(error, OperationalError | InterfaceError):
            log.warning("database unavailable: %s", type(error).__name__)
            from service.db import db

            db.session.rollback()
            response, status = error_response(503, "unavailable", "database unavailable")
            response.headers["Retry-After"] = "5"
            return response, status
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error")
