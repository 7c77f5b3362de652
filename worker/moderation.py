"""The database side of moderation: load a comment, gather its history, record the decision."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from service.db import db
from service.models import CheckRecord, Comment, Status, utcnow
from service.transitions import Conflict, change_status
from worker.checks import Submission
from worker.checks.history import History
from worker.pipeline import Decision, Scores, evaluate
from worker.windows import RedisWindows, WindowCounter, redis_client

log = logging.getLogger(__name__)


def submission_of(comment: Comment) -> Submission:
    return Submission(
        body=comment.body,
        name=comment.author_name,
        email=comment.email,
        url=comment.author_url or "",
        article=comment.article.key,
        ip=comment.ip or "",
        honeypot=comment.honeypot,
    )


def flood_windows() -> WindowCounter | None:
    """Flood state lives in Redis; without Redis or with limits lifted there is no flood check."""
    url = current_app.config["REDIS_URL"]
    if not url or not current_app.config["RATELIMIT_ENABLED"]:
        return None
    return RedisWindows(redis_client(url))


def gather_history(comment: Comment, windows: WindowCounter | None) -> History:
    duplicate = db.session.scalar(
        select(Comment.id).where(
            Comment.article_id == comment.article_id,
            Comment.email == comment.email,
            Comment.body_hash == comment.body_hash,
            Comment.id < comment.id,
        ).limit(1)
    )
    by_status = dict(
        db.session.execute(
            select(Comment.status, func.count())
            .where(Comment.site_id == comment.site_id, Comment.email == comment.email,
                   Comment.id != comment.id)
            .group_by(Comment.status)
        ).all()
    )
    from_ip = from_email = 0
    if windows is not None:
        policy = comment.site.policy
        at, window, member = comment.created_at.timestamp(), policy.flood_window_seconds, \
            str(comment.id)
        if comment.ip:
            from_ip = windows.record(f"{comment.site_id}:ip:{comment.ip}", member, at, window)
        from_email = windows.record(f"{comment.site_id}:email:{comment.email}", member, at,
                                    window)
    return History(
        exact_duplicate_of=duplicate,
        recent_from_ip=from_ip,
        recent_from_email=from_email,
        author_approved=by_status.get(Status.APPROVED, 0),
        author_spam=by_status.get(Status.SPAM, 0),
    )


def moderate_comment(comment_id: int) -> Decision | None:
    """Decide a pending comment exactly once; a comment already decided is left alone."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != Status.PENDING:
        return None
    windows = flood_windows()
    history = gather_history(comment, windows)
    decision = evaluate(submission_of(comment), comment.site.policy, history, Scores(),
                        flood=windows is not None)
    try:
        change_status(comment, decision.status, actor="check:pipeline", action="moderate",
                      reason=decision.reason, expected=Status.PENDING)
    except Conflict:
        db.session.rollback()
        return None
    db.session.add_all(
        CheckRecord(comment_id=comment.id, check=r.check, verdict=r.verdict.label, reason=r.reason,
                    detail=r.detail[:500], score=r.score, duration_ms=round(r.duration_ms, 3))
        for r in decision.results
    )
    db.session.commit()
    if decision.status is Status.REVIEW:
        # After commit, so the email task always finds the comment in review.
        from worker.notifications import notify_moderators_later

        notify_moderators_later(comment)
    log.info("comment decided", extra={"comment_id": comment.id, "status": decision.status,
                                       "reason": decision.reason})
    return decision


def stranded_comment_ids(older_than_seconds: float, limit: int = 1000) -> list[int]:
    """Pending comments whose moderation was queued too long ago; marks them queued again."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = list(db.session.scalars(
        select(Comment.id)
        .where(Comment.status == Status.PENDING, Comment.queued_at < cutoff)
        .order_by(Comment.queued_at)
        .limit(limit)
    ))
    if ids:
        db.session.execute(
            update(Comment).where(Comment.id.in_(ids)).values(queued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids
