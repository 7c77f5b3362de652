"""Keep the worker alive when Redis goes away while it holds unacknowledged messages.

kombu 5.7's Redis channel, once its connection is gone, fails with AttributeError (no
connection, or no client) whenever it needs a new Redis client: pushing the messages it holds
back to the queue as it closes, or acknowledging a task that finished during the outage.
Celery treats that as unrecoverable and the worker exits. Here it becomes the connection error
it really is, which kombu and Celery already handle (log, reconnect). Nothing is lost: Redis
keeps each unacknowledged message and gives it back after the visibility timeout, a redelivered
comment is already decided (the status change is conditional), and the re-queue task queues any
comment still pending. Drop this once kombu fixes it (tests/test_broker_patch.py and
tests/test_faults.py::test_the_worker_survives_redis_going_away_while_it_holds_a_message).
"""

from __future__ import annotations

import logging

import redis
from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)
_connparams = kombu_redis.Channel._connparams
_restore_unacked = kombu_redis.QoS.restore_unacked


def _connparams_or_connection_error(self, asynchronous=False):
    if self.connection is None or self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker channel is closed")
    return _connparams(self, asynchronous=asynchronous)


def _restore_unacked_or_leave_to_redis(self, client=None):
    try:
        return _restore_unacked(self, client)
    except redis.exceptions.ConnectionError as error:
        log.warning("broker connection gone; %d unacknowledged messages return after the "
                    "visibility timeout: %s", len(self._delivered), error)
        # Forget them here, as a successful restore would: Redis still holds them.
        self._delivered.clear()
        return None


def install() -> None:
    kombu_redis.Channel._connparams = _connparams_or_connection_error
    kombu_redis.QoS.restore_unacked = _restore_unacked_or_leave_to_redis
