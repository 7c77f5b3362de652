"""The database side of moderation: load a comment, gather its history, record the decision."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass

import redis
from flask import current_app
from sqlalchemy import func, insert, select, tuple_

from service.db import db
from service.metrics import CHECK_SECONDS, SUBMIT_TO_DECISION
from service.models import CheckRecord, Comment, Status, utcnow
from service.moderation_gate import hold_gate, open_gate, release_gate
from service.redis_clients import redis_client
from service.requeue import claim_stale
from service.transitions import DecisionBatch, change_statuses
from worker import scoring
from worker.checks import Submission
from worker.checks.history import History
from worker.checks.similarity import simhash
from worker.neardup import Entry, Posting, RecentTexts, RedisRecentTexts
from worker.pipeline import Decision, evaluate
from worker.windows import RedisWindows, WindowCounter

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


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """Where the flood and near-duplicate checks remember recent comments."""

    windows: WindowCounter | None
    texts: RecentTexts


def production_activity() -> RecentActivity | None:
    """Redis-backed state; floods are not counted when rate limits are lifted (benchmarks)."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    client = redis_client(url)
    windows = RedisWindows(client) if current_app.config["RATELIMIT_ENABLED"] else None
    return RecentActivity(windows, RedisRecentTexts(client))


def author_key(email: str) -> str:
    """An opaque per-author key for Redis, so no email is stored there in clear."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, email.encode(), hashlib.sha256).hexdigest()[:16]


def count_near_copies(comments: list[Comment], texts: RecentTexts) -> dict[int, int]:
    """comment id -> near copies posted recently elsewhere; one round trip for the batch.
    Texts too short to fingerprint are left out (they count as none)."""
    entries: list[Entry] = []
    for comment in comments:
        if (fingerprint := simhash(comment.body)) is not None:
            posting = Posting(str(comment.id), author_key(comment.email), str(comment.article_id),
                              fingerprint)
            entries.append(Entry(str(comment.site_id), posting, comment.created_at.timestamp(),
                                 comment.site.policy.near_duplicate_window_seconds))
    counts = texts.record_all(entries) if entries else []
    return {int(entry.posting.comment): count
            for entry, count in zip(entries, counts, strict=True)}


def earlier_duplicates(comments: list[Comment]) -> dict[int, int]:
    """comment id -> id of an earlier comment by the same email with the same body on the same
    thread; one query for the whole batch.

    It looks rows up by email (an index) and matches the thread here: a filter on the thread
    made PostgreSQL read every comment of a busy thread, 38 ms per batch at 20,000 comments.
    """
    rows = db.session.execute(
        select(Comment.id, Comment.article_id, Comment.email, Comment.body_hash).where(
            Comment.email.in_({c.email for c in comments}),
            Comment.body_hash.in_({c.body_hash for c in comments}),
        )
    ).all()
    first: dict[tuple[int, str, str], int] = {}
    for row in rows:
        key = (row.article_id, row.email, row.body_hash)
        first[key] = min(first.get(key, row.id), row.id)
    found = {}
    for comment in comments:
        earliest = first.get((comment.article_id, comment.email, comment.body_hash))
        if earliest is not None and earliest < comment.id:
            found[comment.id] = earliest
    return found


def statuses_by_author(comments: list[Comment]) -> dict[tuple[int, str], dict[str, int]]:
    """(site id, email) -> {status: count} of that author's comments; one query per batch."""
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for site_id, email, status, count in db.session.execute(
        select(Comment.site_id, Comment.email, Comment.status, func.count())
        .where(tuple_(Comment.site_id, Comment.email).in_(
            {(c.site_id, c.email) for c in comments}))
        .group_by(Comment.site_id, Comment.email, Comment.status)
    ):
        counts.setdefault((site_id, email), {})[status] = count
    return counts


def gather_histories(comments: list[Comment], activity: RecentActivity | None) -> list[History]:
    duplicates = earlier_duplicates(comments)
    by_author = statuses_by_author(comments)
    near_copies = count_near_copies(comments, activity.texts) if activity is not None else {}
    histories = []
    for comment in comments:
        # The author's other comments: this one does not count towards its own history.
        by_status = dict(by_author.get((comment.site_id, comment.email), {}))
        by_status[comment.status] = by_status.get(comment.status, 1) - 1
        histories.append(gather_history(comment, activity, duplicates.get(comment.id), by_status,
                                        near_copies.get(comment.id, 0)))
    return histories


def gather_history(comment: Comment, activity: RecentActivity | None, duplicate: int | None,
                   by_status: dict[str, int], near_copies: int) -> History:
    from_ip = from_email = 0
    windows = activity.windows if activity else None
    policy = comment.site.policy
    if windows is not None:
        at, window, member = comment.created_at.timestamp(), policy.flood_window_seconds, \
            str(comment.id)
        if comment.ip:
            from_ip = windows.record(f"{comment.site_id}:ip:{comment.ip}", member, at, window)
        from_email = windows.record(f"{comment.site_id}:email:{author_key(comment.email)}",
                                    member, at, window)
    return History(
        exact_duplicate_of=duplicate,
        recent_from_ip=from_ip,
        recent_from_email=from_email,
        near_duplicates=near_copies,
        author_approved=by_status.get(Status.APPROVED, 0),
        author_spam=by_status.get(Status.SPAM, 0),
    )


def moderate_and_drain(comment_id: int) -> Decision | None:
    """The moderation task: decide a batch with this comment, then keep the queue draining.

    Batching shares one commit, one model call and one set of round trips among up to
    MODERATION_BATCH_SIZE comments; exactly once still holds, as each status change is a
    conditional UPDATE from pending. A full batch means more may be waiting, so the next task
    is queued. A short batch means the queue looked empty: the gate is released and the queue
    claimed once more, which takes any comment whose submitter saw the gate held
    (service/moderation_gate.py).
    """
    size = batch_size()
    claimed = claim_batch(comment_id)
    full = len(claimed) >= size
    # With SKIP LOCKED the next task cannot claim this batch, so it may start at once.
    if full and skips_locked():
        keep_draining(claimed[-1].id)
    decisions = moderate_batch(claimed)
    if full and not skips_locked():
        keep_draining(claimed[-1].id)
    url = current_app.config["REDIS_URL"]
    if full or not url:
        return decisions.get(comment_id)
    try:
        release_gate(url)
    except redis.RedisError:
        return decisions.get(comment_id)  # the gate expires; the re-queue task is the backstop
    rest = claim_batch(None)
    decisions.update(moderate_batch(rest))
    if len(rest) >= size:
        with contextlib.suppress(redis.RedisError):  # then the gate is free for the next submitter
            if open_gate(url, gate_seconds()):
                keep_draining(rest[-1].id, hold=False)
    return decisions.get(comment_id)


def keep_draining(after_id: int, hold: bool = True) -> None:
    """Queue the drain's next task; its comment is one this batch holds, so it claims others."""
    from service.queue import enqueue_moderation

    if hold and (url := current_app.config["REDIS_URL"]):
        try:
            hold_gate(url, gate_seconds())
        except redis.RedisError:
            pass  # the gate expires and the next submission opens a drain of its own
    enqueue_moderation(after_id, coalesce=False)


def batch_size() -> int:
    return max(1, int(current_app.config["MODERATION_BATCH_SIZE"]))


def gate_seconds() -> float:
    return float(current_app.config["MODERATION_GATE_SECONDS"])


def claim_batch(comment_id: int | None) -> list[Comment]:
    """This comment if still pending, then the oldest other pending ones; on PostgreSQL rows
    another worker is deciding are skipped (SKIP LOCKED), so concurrent batches do not overlap.

    The others are read in id order from the partial index of pending comments, so a claim
    never sorts the whole queue.
    """
    claimed = []
    if comment_id is not None and (own := db.session.scalar(_claiming(select(Comment).where(
            Comment.id == comment_id, Comment.status == Status.PENDING)))) is not None:
        claimed.append(own)
    room = batch_size() - len(claimed)
    if room > 0:
        claimed += db.session.scalars(_claiming(
            select(Comment)
            .where(Comment.status == Status.PENDING, Comment.id != (comment_id or 0))
            .order_by(Comment.id)
            .limit(room)
        )).unique()
    return claimed


def skips_locked() -> bool:
    return db.engine.dialect.name == "postgresql"


def _claiming(query):
    if skips_locked():
        return query.with_for_update(skip_locked=True, of=Comment)
    return query


def moderate_batch(comments: list[Comment]) -> dict[int, Decision]:
    """Decide the given pending comments in id order and commit once."""
    if not comments:
        db.session.rollback()
        return {}
    comments.sort(key=lambda c: c.id)
    activity = production_activity()
    try:
        histories = gather_histories(comments, activity)
    except redis.RedisError as error:
        # Deciding without the flood and near-copy state would let floods through during an
        # outage; Redis is also the broker, so nothing is lost by waiting: the comments stay
        # pending and the re-queue task decides them once Redis is back.
        log.warning("recent-activity store unavailable, %d comments left pending: %s",
                    len(comments), type(error).__name__)
        db.session.rollback()
        return {}
    subs = [submission_of(comment) for comment in comments]
    model = scoring.spam_model()
    flood = bool(activity and activity.windows)
    decisions = {comment.id: evaluate(sub, comment.site.policy, history, scores, flood=flood,
                                      spam_model=model)
                 for comment, sub, history, scores in zip(comments, subs, histories,
                                                          scoring.score_batch(subs, model),
                                                          strict=True)}
    batch = DecisionBatch()
    decided = record_decisions(comments, decisions, batch)
    # About ten rows per comment: one Core INSERT for the batch, no unit-of-work objects.
    if decided:
        db.session.execute(insert(CheckRecord.__table__), check_rows(decided))
    # Last, so the feed counter's row lock is held only until the commit just below.
    batch.flush()
    db.session.commit()
    for comment in comments:
        if (decision := decided.get(comment.id)) is not None:
            after_decision(comment, decision)
    return decided


def record_decisions(comments: list[Comment], decisions: dict[int, Decision],
                     batch: DecisionBatch) -> dict[int, Decision]:
    """One conditional UPDATE per outcome instead of one per comment; a comment decided
    meanwhile by someone else is left out (its UPDATE matched nothing)."""
    outcomes: dict[tuple[Status, str | None], list[Comment]] = defaultdict(list)
    for comment in comments:
        decision = decisions[comment.id]
        outcomes[(decision.status, decision.reason)].append(comment)
    decided: dict[int, Decision] = {}
    for (status, reason), group in outcomes.items():
        for comment in change_statuses(group, status, actor="check:pipeline", action="moderate",
                                       reason=reason, expected=Status.PENDING, batch=batch):
            decided[comment.id] = decisions[comment.id]
    # Grouping by outcome reordered them: the feed publishes a batch's changes in id order.
    batch.changes.sort(key=lambda change: change.comment.id)
    batch.audits.sort(key=lambda audit: audit["comment_id"])
    return decided


def check_rows(decided: dict[int, Decision]) -> list[dict]:
    now = utcnow()
    return [
        {"comment_id": comment_id, "check": r.check, "verdict": r.verdict.label,
         "reason": r.reason, "detail": r.detail[:500], "score": r.score,
         "duration_ms": round(r.duration_ms, 3), "created_at": now}
        for comment_id, decision in decided.items() for r in decision.results
    ]


def after_decision(comment: Comment, decision: Decision) -> None:
    """Follow-ups once the decision is committed."""
    if decision.status is Status.REVIEW:
        # After commit, so the email task always finds the comment in review.
        from worker.notifications import notify_moderators_later

        notify_moderators_later(comment)
    record_decision_metrics(comment, decision)
    # The comment's own submission's request id: a batch decides comments of many requests.
    log.info("comment decided", extra={"comment_id": comment.id, "status": decision.status,
                                       "reason": decision.reason,
                                       "request_id": comment.request_id})


def record_decision_metrics(comment: Comment, decision: Decision) -> None:
    for result in decision.results:
        CHECK_SECONDS.labels(result.check).observe(result.duration_ms / 1000)
    if comment.decided_at is not None:
        latency = (comment.decided_at - comment.created_at).total_seconds()
        SUBMIT_TO_DECISION.observe(max(latency, 0.0))


def stranded_comment_ids(older_than_seconds: float, limit: int = 1000) -> list[int]:
    """Pending comments whose moderation was queued too long ago; marks them queued again."""
    return claim_stale(Comment, Status.PENDING, older_than_seconds, limit)
