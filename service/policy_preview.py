"""Dry run of a policy change: re-run the checks on recent decided comments, store nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db import db
from service.models import Comment, Site, Status
from service.policy import SitePolicy

PREVIEW_DEFAULT, PREVIEW_MAX = 100, 500
DECIDED = (Status.APPROVED, Status.REVIEW, Status.REJECTED, Status.SPAM)


def proposed_policy(site: Site, changes: dict[str, Any]) -> SitePolicy:
    """The site's policy with `changes` applied; raises ValidationError on bad values."""
    return SitePolicy.model_validate(site.policy.model_dump() | changes)


def preview(site: Site, proposed: SitePolicy, limit: int) -> dict[str, Any]:
    """Compare the pipeline's answer under the current and the proposed policy for the last
    `limit` decided comments; only the policy differs, so every change is the policy's doing."""
    from worker import scoring
    from worker.moderation import gather_histories, submission_of
    from worker.pipeline import evaluate

    current = site.policy
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.site_id == site.id, Comment.status.in_(DECIDED))
        .order_by(Comment.decided_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()
    subs = [submission_of(c) for c in comments]
    # Model scores do not depend on the policy: one batch, used for both evaluations.
    scores, model = scoring.score_batch(subs), scoring.spam_model()
    changed = []
    histories = gather_histories(list(comments), None)
    for comment, sub, score, history in zip(comments, subs, scores, histories, strict=True):
        before = evaluate(sub, current, history, score, flood=False, spam_model=model)
        after = evaluate(sub, proposed, history, score, flood=False, spam_model=model)
        if before.status != after.status:
            changed.append({
                "id": comment.id,
                "status": comment.status,
                "current": before.status.value,
                "new_status": after.status.value,
                "reason": after.reason,
            })
    return {"evaluated": len(comments), "changed": changed,
            "policy": proposed.model_dump()}
