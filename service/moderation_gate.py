"""One moderation drain at a time: a submission queues a task only when no drain is running.

A worker decides pending comments in batches, so one task per comment mostly bought tasks that
found their comment already decided, each still costing a delivery, a dispatch and an ack. Now
a submission queues a task only when it opens the gate (a Redis key set with NX). The running
drain keeps going while it finds full batches; when a batch comes up short it releases the gate
and then claims once more, so a comment committed while the gate was held, whose submitter
therefore queued nothing, is always taken by that last claim. A gate whose drain died expires
after MODERATION_GATE_SECONDS, and the re-queue beat task, which bypasses the gate, is the
backstop for anything still pending.
"""

from __future__ import annotations

from service.redis_clients import redis_client

KEY = "vetted:moderation:draining"


def open_gate(url: str, seconds: float) -> bool:
    """True when no drain was running and the caller must queue one; raises if Redis is down."""
    return bool(redis_client(url).set(KEY, "1", nx=True, px=int(seconds * 1000)))


def hold_gate(url: str, seconds: float) -> None:
    """A drain that found a full batch keeps the gate for another period."""
    redis_client(url).set(KEY, "1", px=int(seconds * 1000))


def release_gate(url: str) -> None:
    """Before the drain's last claim: submissions from now on queue their own task."""
    redis_client(url).delete(KEY)
