"""Finding work that was queued but never done, for the beat tasks that queue it again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from service.db import db
from service.models import utcnow


def claim_stale(model: Any, status: str, older_than_seconds: float, limit: int = 1000) -> list[int]:
    """Ids of `model` rows still in `status` whose queued_at is older than the grace period;
    their queued_at is bumped, so the next run waits another grace period for them."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = list(db.session.scalars(
        select(model.id)
        .where(model.status == status, model.queued_at < cutoff)
        .order_by(model.queued_at)
        .limit(limit)
    ))
    if ids:
        db.session.execute(
            update(model).where(model.id.in_(ids)).values(queued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids
