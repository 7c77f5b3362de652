"""Worker entry point: `celery -A worker.app worker` (and `beat`)."""

from service import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
