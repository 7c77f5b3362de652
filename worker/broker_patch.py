"""Keep the worker alive when Redis goes away while it holds unacknowledged messages.

kombu 5.7's Redis channel, closed after its connection was lost, tries to push the messages it
holds back to the queue and fails with AttributeError (the connection's client is already
gone); Celery treats that as unrecoverable and the worker exits. Nothing is lost by skipping
that step: Redis keeps each message in its unacked index and gives it back after the
visibility timeout, and the re-queue beat task queues any comment still pending. So the failed
restore is logged and the close goes on. Drop this once kombu fixes it
(tests/test_faults.py::test_the_worker_survives_redis_going_away_while_it_holds_a_message).
"""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)
_restore_unacked = kombu_redis.QoS.restore_unacked


def _restore_unacked_or_leave_to_redis(self, client=None):
    try:
        return _restore_unacked(self, client)
    except AttributeError as error:
        log.warning("broker connection gone; %d unacknowledged messages return after the "
                    "visibility timeout: %s", len(self._delivered), error)
        # Forget them here, as a successful restore would: Redis still holds them.
        self._delivered.clear()
        return None


def install() -> None:
    kombu_redis.QoS.restore_unacked = _restore_unacked_or_leave_to_redis
