"""The Celery side: one Celery app bound to the Flask app's settings and context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask, has_app_context

from service.logs import task_request_id


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            # The submitting request's id travels in a message header into the worker's logs.
            token = task_request_id.set(getattr(self.request, "request_id", None))
            try:
                # Push a context only when none is active, so nested or eager calls share a session.
                if has_app_context():
                    return self.run(*args, **kwargs)
                with app.app_context():
                    return self.run(*args, **kwargs)
            finally:
                task_request_id.reset(token)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    # Importing registers the shared tasks with this app.
    import worker.learning_tasks  # noqa: F401
    import worker.privacy_tasks  # noqa: F401
    import worker.tasks  # noqa: F401

    app.extensions["celery"] = celery_app
    _serve_worker_metrics(app)
    return celery_app


def _serve_worker_metrics(app: Flask) -> None:
    """Workers on their own machines expose /metrics on WORKER_METRICS_PORT."""
    from celery.signals import worker_ready

    @worker_ready.connect(weak=False)
    def _start(**_: object) -> None:
        if port := int(app.config.get("WORKER_METRICS_PORT") or 0):
            from prometheus_client import start_http_server

            from service.metrics import process_registry

            start_http_server(port, registry=process_registry())
