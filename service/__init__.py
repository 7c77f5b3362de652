"""The Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service import config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then the environment, then the caller's overrides; then bind the extensions."""
    app = Flask(__name__, instance_path=os.path.abspath("instance"))
    app.config.from_mapping(config.defaults())
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "vetted.db"
    )
    config.from_environment(app.config)
    app.config.from_prefixed_env("VETTED")
    if test_config:
        app.config.from_mapping(test_config)
    config.finalise(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if proxies := int(app.config["TRUSTED_PROXIES"]):
        # Trust X-Forwarded-For only from the configured number of proxies in front.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    from service import errors, logs, pool_ping, security
    from service.db import db, migrate
    from service.extensions import init_limiter
    from service.no_sessions import NoSessions
    from worker import celery_init_app

    if not app.testing:
        logs.configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    app.session_interface = NoSessions()
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            pool_ping.install(engine, float(app.config["DB_PING_AFTER_IDLE_SECONDS"]))
    migrate.init_app(app, db)
    init_limiter(app)
    errors.init_app(app)
    logs.init_app(app)
    security.init_app(app)
    celery_init_app(app)

    from service import ops, public

    app.register_blueprint(public.bp)
    from service import widget

    app.register_blueprint(widget.bp)
    from service import counts, feed, webhooks_api

    app.register_blueprint(feed.bp)
    app.register_blueprint(counts.bp)
    app.register_blueprint(webhooks_api.bp)
    from service import moderate_page, moderation

    app.register_blueprint(moderation.bp)
    app.register_blueprint(moderate_page.bp)
    app.register_blueprint(ops.bp)
    from service import metrics, openapi

    app.register_blueprint(metrics.bp)
    app.register_blueprint(openapi.bp)
    from service import revalidation

    revalidation.install(app)
    return app
