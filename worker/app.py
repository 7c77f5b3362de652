"""Worker entry point: `celery -A worker.app worker` (and `beat`)."""

import os

from celery.signals import worker_init

from service import create_app
from worker import broker_patch

broker_patch.install()
flask_app = create_app()
celery_app = flask_app.extensions["celery"]


@worker_init.connect(weak=False)
def prepare_worker(**_: object) -> None:
    """In the worker's parent, before it forks its pool (beat never runs this)."""
    from worker import scoring

    # The pool's children inherit both: a lower CPU priority than the web's, and the checks,
    # which each child would otherwise spend seconds of CPU loading on its first task.
    lower_priority(int(flask_app.config["WORKER_NICE"]))
    scoring.preload()


def lower_priority(increment: int) -> None:
    if increment > 0:
        os.nice(min(increment, 19))
