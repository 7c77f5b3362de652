"""A worker decides pending comments in batches, still exactly once each."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from service.db import db
from service.models import AuditEvent, ChangeEvent, CheckRecord, Comment
from tests.conftest import store_without_queueing
from worker.moderation import moderate_and_drain


def stored(app, site, count: int) -> list[int]:
    return [store_without_queueing(app, site, body=f"remark number {i} on the tariffs",
                                   email=f"batch{i}@example.org") for i in range(count)]


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        pending = db.session.scalar(select(func.count()).where(Comment.status == "pending"))
        audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
        changes = db.session.scalar(select(func.count()).select_from(ChangeEvent))
        checks = db.session.scalar(select(func.count(func.distinct(CheckRecord.comment_id))))
        return pending, audits, changes, checks


def test_one_task_decides_its_comment_and_a_batch_of_others(app, site):
    ids = stored(app, site, 8)
    with app.app_context():
        decision = moderate_and_drain(ids[5])
    assert decision is not None and decision.status == "approved"
    assert counts(app) == (0, 8, 8, 8)
    with app.app_context():
        # The other comments' own tasks now find nothing to do.
        assert all(moderate_and_drain(i) is None for i in ids)
    assert counts(app) == (0, 8, 8, 8)


def test_batch_size_is_a_setting(app_factory, site):
    small = app_factory(MODERATION_BATCH_SIZE=3)
    ids = stored(small, site, 7)
    with small.app_context():
        moderate_and_drain(ids[-1])
    pending, audits, _, _ = counts(small)
    assert (pending, audits) == (4, 3)


def test_concurrent_batches_decide_each_comment_once(app_factory, site):
    apps = [app_factory(MODERATION_BATCH_SIZE=5) for _ in range(3)]
    ids = stored(apps[0], site, 30)
    errors: list[BaseException] = []

    def work(worker_app, my_ids) -> None:
        try:
            with worker_app.app_context():
                for comment_id in my_ids:
                    moderate_and_drain(comment_id)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(a, ids[n::3])) for n, a in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    pending, audits, changes, checks = counts(apps[0])
    assert (pending, audits, changes, checks) == (0, 30, 30, 30)


def test_a_batch_publishes_its_approvals_with_contiguous_seqs_in_id_order(app, site, client):
    from service.models import Article, FeedCounter

    ids = stored(app, site, 6)
    ids += [store_without_queueing(app, site, article="/2023/12/other-thread",
                                   body=f"other thread remark {i} on rail fares",
                                   email=f"other{i}@example.org") for i in range(2)]
    with app.app_context():
        before = db.session.get(FeedCounter, 1).last_seq
        moderate_and_drain(ids[3])
        events = db.session.execute(select(ChangeEvent.seq, ChangeEvent.comment_id)
                                    .order_by(ChangeEvent.seq)).all()
        threads = {a.key: (a.version, a.approved_count)
                   for a in db.session.scalars(select(Article))}
        last = db.session.get(FeedCounter, 1).last_seq
    assert [comment_id for _, comment_id in events] == sorted(ids)
    assert [seq for seq, _ in events] == list(range(before + 1, before + 9)) and last == before + 8
    seq_of = {comment_id: seq for seq, comment_id in events}
    # Each thread's version is the seq of its latest event, and counts add up per thread.
    assert threads["/2023/12/other-thread"] == (seq_of[ids[-1]], 2)
    assert threads["/2023/12/india-russia-talks"] == (seq_of[ids[5]], 6)
    listed = client.get("/api/v1/comments?site=news&article=/2023/12/india-russia-talks").get_json()
    assert [c["id"] for c in listed["comments"]] == ids[:6] and listed["total"] == 6
