"""Vetted keeps no cookie sessions: tokens travel in headers and the widget is stateless."""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSessionInterface, SessionMixin


class NoSessions(SecureCookieSessionInterface):
    """Skips what Flask's default does on every request (building a signer, reading a cookie)."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None
