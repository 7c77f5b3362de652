"""A closed Redis channel reports a connection error, which Celery handles, not AttributeError,
which stops the worker (worker/broker_patch.py)."""

from __future__ import annotations

import kombu
import pytest
import redis
from kombu.transport import redis as kombu_redis

from worker import broker_patch


@pytest.fixture()
def closed_channel(redis_url, monkeypatch):
    # Undone after the test: other tests in this process keep kombu as it ships.
    monkeypatch.setattr(kombu_redis.Channel, "_connparams", kombu_redis.Channel._connparams)
    monkeypatch.setattr(kombu_redis.QoS, "restore_unacked", kombu_redis.QoS.restore_unacked)
    broker_patch.install()
    connection = kombu.Connection(redis_url)
    channel = connection.channel()
    channel.close()  # what a lost broker connection leaves behind
    yield connection, channel
    connection.release()


def test_acknowledging_on_a_closed_channel_is_a_connection_error(closed_channel):
    connection, channel = closed_channel
    with pytest.raises(redis.exceptions.ConnectionError) as raised:
        channel.qos.ack("a-delivery-tag")
    assert isinstance(raised.value, connection.connection_errors)  # Celery logs and goes on


def test_restoring_on_a_closed_channel_leaves_the_messages_to_redis(closed_channel):
    _, channel = closed_channel
    channel.qos._delivered["a-delivery-tag"] = object()
    assert channel.qos.restore_unacked() is None
    assert not channel.qos._delivered
