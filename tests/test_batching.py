"""A worker decides pending comments in batches, still exactly once each."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from service.db import db
from service.models import AuditEvent, ChangeEvent, CheckRecord, Comment
from tests.conftest import store_without_queueing
from worker.moderation import claim_batch, moderate_and_drain, moderate_batch


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


def test_a_comment_decided_meanwhile_is_left_out_of_its_batch(app, site):
    ids = stored(app, site, 4)
    with app.app_context():
        claimed = claim_batch(None)
        # Someone else decides one between the claim and the batch's conditional UPDATE.
        db.session.execute(update(Comment.__table__).where(Comment.id == ids[1])
                           .values(status="spam"))
        decided = moderate_batch(claimed)
    assert sorted(decided) == [ids[0], ids[2], ids[3]]
    assert counts(app) == (0, 3, 3, 3)


def test_two_approval_reasons_in_one_batch_still_publish_in_id_order(app, site):
    trusted = "regular@example.org"
    earlier = [store_without_queueing(app, site, body=f"earlier remark {n} on the ferry",
                                      email=trusted) for n in range(3)]
    with app.app_context():
        moderate_and_drain(earlier[0])
    ids = []
    for n in range(6):
        # New authors pass the checks; the trusted author's link-heavy ones are let through
        # as "author.trusted": one UPDATE per outcome, so the batch is split in two.
        ids.append(store_without_queueing(
            app, site, email=trusted if n % 2 else f"new{n}@example.org",
            body=f"see https://a{n}.example https://b.example and https://c.example" if n % 2
            else f"remark {n} about the harbour fees"))
    with app.app_context():
        moderate_and_drain(ids[0])
        reasons = {c.id: c.status_reason for c in
                   db.session.scalars(select(Comment).where(Comment.id.in_(ids)))}
        events = db.session.scalars(select(ChangeEvent.comment_id).where(
            ChangeEvent.comment_id.in_(ids)).order_by(ChangeEvent.seq)).all()
    assert set(reasons.values()) == {"checks.passed", "author.trusted"}
    assert events == ids


def test_an_exact_duplicate_is_the_same_author_body_and_thread(app, site):
    from worker.moderation import earlier_duplicates

    body = "the same words about the harbour fees"
    first = store_without_queueing(app, site, body=body, email="same@example.org")
    again = store_without_queueing(app, site, body=body, email="same@example.org")
    elsewhere = store_without_queueing(app, site, body=body, email="same@example.org",
                                       article="/2023/12/other-thread")
    by_other = store_without_queueing(app, site, body=body, email="other@example.org")
    reworded = store_without_queueing(app, site, body=body + "!", email="same@example.org")
    with app.app_context():
        comments = db.session.scalars(select(Comment).where(
            Comment.id.in_([first, again, elsewhere, by_other, reworded]))).all()
        assert earlier_duplicates(list(comments)) == {again: first}
