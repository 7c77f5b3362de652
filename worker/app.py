"""Worker entry point: `celery -A worker.app worker` (and `beat`)."""

from celery.signals import worker_init

from service import create_app
from worker import broker_patch

broker_patch.install()
flask_app = create_app()
celery_app = flask_app.extensions["celery"]


@worker_init.connect(weak=False)
def preload_checks(**_: object) -> None:
    """In the worker's parent, before it forks its pool: otherwise each child spends seconds of
    CPU on its first task importing scikit-learn, while the web shares the cores. Beat never
    runs this."""
    from worker import scoring

    scoring.preload()
