"""Learning from moderators: spam/ham decisions become labelled examples that move the model,
through the real Celery task and through `vetted spam retrain`; the learned model lives in the
database, so every worker process (on any machine) scores with the same lessons."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import select

from service.cli import cli
from service.db import db
from service.models import Comment, Site, Status
from service.moderation_models import LabelledExample, LearnedSpamModel
from service.sites import create_site
from service.tokens import create_token
from service.transitions import change_status
from tests.conftest import store_without_queueing
from worker.checks import Submission, Verdict
from worker.checks.spam import SpamModel, check_spam, load_default

# A kind of spam the shipped model has not seen: it scores well below the review threshold.
NEW_SPAM = [
    "Double your bitcoin today at coin-doubler dot biz",
    "Double your bitcoin now at coin-doubler dot biz, guaranteed returns",
    "Double your bitcoin this week at coin-doubler dot biz",
    "Want to double your bitcoin? Go to coin-doubler dot biz",
]
NEXT_ONE = Submission(body="Double your bitcoin in a day at coin-doubler dot biz!!",
                      name="Lee Carter", email="lee.carter@example.com")
ORDINARY = [Submission(body=body, name="Sam Ortiz", email="sam@example.com") for body in (
    "I disagree with the author on tariffs.",
    "Great reporting, thanks for covering this.",
    "What about the budget numbers from last year?",
)]


@pytest.fixture()
def learning_app(app: Flask, app_factory) -> Flask:
    """The shared database (emptied by clean_state), asking for a newer model on every score."""
    return app_factory(LEARNED_MODEL_REFRESH_SECONDS=0)


def learned_rows(app: Flask) -> list[LearnedSpamModel]:
    """The stored learned models, newest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(LearnedSpamModel).order_by(LearnedSpamModel.id.desc())).all()
        db.session.remove()
    return list(rows)


@pytest.fixture()
def blog(learning_app: Flask) -> Site:
    # Thresholds written out, so the test does not depend on the defaults of the day.
    with learning_app.app_context():
        return create_site("blog", "Blog", [], spam_threshold=0.9, review_threshold=0.5)


@pytest.fixture()
def moderator(learning_app: Flask, blog: Site) -> dict[str, str]:
    with learning_app.app_context():
        _, token = create_token("moderator", ["blog"])
    return {"Authorization": f"Bearer {token}"}


def in_review(app: Flask, site: Site, body: str, n: int) -> int:
    comment_id = store_without_queueing(app, site, body=body,
                                        name=f"Reader {n}", email=f"reader{n}@example.com")
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), Status.REVIEW,
                      actor="check:pipeline", action="moderate", reason="site.review_all")
        db.session.commit()
    return comment_id


def verdict_now(app: Flask, site: Site, sub: Submission) -> tuple[float, Verdict]:
    """What the spam check says under the deployment's current model and the site's policy."""
    from worker.learning import current_spam_model

    with app.app_context():
        model = current_spam_model()
        score = model.score(sub)
        return score, check_spam(sub, score, db.session.merge(site).policy, model).verdict


def mark_spam(app: Flask, site: Site, headers: dict[str, str]) -> list[int]:
    client = app.test_client()
    ids = [in_review(app, site, body, n) for n, body in enumerate(NEW_SPAM)]
    for comment_id in ids:  # one at a time, as a moderator works through the queue
        response = client.post(f"/api/v1/moderation/comments/{comment_id}/decision",
                               json={"action": "spam"}, headers=headers)
        assert response.status_code == 200, response.get_json()
    return ids


def test_learning_function_catches_the_next_one(learning_app, blog, moderator):
    from worker.learning import KEEP_ROWS, learn_from_comments

    before, verdict_before = verdict_now(learning_app, blog, NEXT_ONE)
    assert verdict_before is Verdict.PASS
    ordinary_before = [verdict_now(learning_app, blog, sub)[0] for sub in ORDINARY]
    ids = mark_spam(learning_app, blog, moderator)
    with learning_app.app_context():
        for comment_id in ids:
            assert learn_from_comments([comment_id]) == 1
        assert learn_from_comments([987654321]) == 0  # unlabelled: nothing learned
    rows = learned_rows(learning_app)
    # One row per lesson, older ones trimmed; the newest counts every decision.
    assert len(rows) == min(len(ids), KEEP_ROWS)
    assert rows[0].decisions_learned == len(ids)
    assert SpamModel.from_bytes(rows[0].blob).info["decisions_learned"] == len(ids)

    after, verdict_after = verdict_now(learning_app, blog, NEXT_ONE)
    assert after > before
    assert verdict_after in (Verdict.HOLD, Verdict.SPAM)
    # Ordinary comments still pass, and barely move.
    for sub, was in zip(ORDINARY, ordinary_before, strict=True):
        score, verdict = verdict_now(learning_app, blog, sub)
        assert verdict is Verdict.PASS and score < was + 0.1
    # The shipped artifact itself is untouched.
    assert load_default().score(NEXT_ONE) == pytest.approx(before)


def test_ham_teaches_the_other_way(learning_app, blog, moderator):
    from worker.learning import learn_from_comments

    ids = mark_spam(learning_app, blog, moderator)
    with learning_app.app_context():
        learn_from_comments(ids)
    spammy, _ = verdict_now(learning_app, blog, NEXT_ONE)
    client = learning_app.test_client()
    for comment_id in ids:
        response = client.post(f"/api/v1/moderation/comments/{comment_id}/decision",
                               json={"action": "ham"}, headers=moderator)
        assert response.status_code == 200
    with learning_app.app_context():
        assert learn_from_comments(ids) == len(ids)
    relabelled, _ = verdict_now(learning_app, blog, NEXT_ONE)
    assert relabelled < spammy


@pytest.fixture()
def learning_worker(learning_app: Flask) -> Iterator[Any]:
    with start_worker(learning_app.extensions["celery"], pool="solo", perform_ping_check=False,
                      shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


def wait_for_decisions_learned(app: Flask, count: int, timeout: float = 60) -> dict[str, Any]:
    """The newest stored model's info once it has learned `count` decisions (or at the timeout)."""
    deadline = time.monotonic() + timeout
    info: dict[str, Any] = {}
    while time.monotonic() < deadline:
        rows = learned_rows(app)
        if rows:
            info = SpamModel.from_bytes(rows[0].blob).info
            if rows[0].decisions_learned >= count:
                break
        time.sleep(0.1)
    return info


def test_celery_task_learns_from_each_decision(learning_app, blog, moderator, learning_worker):
    before, verdict_before = verdict_now(learning_app, blog, NEXT_ONE)
    assert verdict_before is Verdict.PASS
    mark_spam(learning_app, blog, moderator)
    info = wait_for_decisions_learned(learning_app, len(NEW_SPAM))
    assert info.get("decisions_learned") == len(NEW_SPAM)
    after, verdict_after = verdict_now(learning_app, blog, NEXT_ONE)
    assert after > before and verdict_after in (Verdict.HOLD, Verdict.SPAM)


def test_retrain_command_rebuilds_from_stored_labels(learning_app, blog, moderator):
    runner = learning_app.test_cli_runner()
    result = runner.invoke(cli, ["spam", "retrain"])
    assert result.exit_code == 0, result.output
    assert "no labelled examples" in result.output
    before, _ = verdict_now(learning_app, blog, NEXT_ONE)

    mark_spam(learning_app, blog, moderator)  # no worker: only the labels are stored
    result = runner.invoke(cli, ["spam", "retrain"])
    assert result.exit_code == 0, result.output
    assert f"learned {len(NEW_SPAM)} labelled example(s)" in result.output
    (row,) = learned_rows(learning_app)
    assert row.decisions_learned == row.examples == len(NEW_SPAM)
    after, verdict_after = verdict_now(learning_app, blog, NEXT_ONE)
    assert after > before and verdict_after in (Verdict.HOLD, Verdict.SPAM)


def test_retrain_without_labels_deletes_learned_models(learning_app, blog, moderator):
    from worker.learning import learn_from_comments

    ids = mark_spam(learning_app, blog, moderator)
    with learning_app.app_context():
        learn_from_comments(ids)
        db.session.execute(LabelledExample.__table__.delete())
        db.session.commit()
    assert learned_rows(learning_app)
    result = learning_app.test_cli_runner().invoke(cli, ["spam", "retrain"])
    assert result.exit_code == 0, result.output
    assert "removed the learned model" in result.output
    assert learned_rows(learning_app) == []
    with learning_app.app_context():
        from worker.learning import current_spam_model

        assert current_spam_model() is load_default()


def test_retrain_from_csv_files(learning_app, blog, moderator, tmp_path):
    csv = tmp_path / "labelled.csv"
    rows = ["CONTENT,CLASS"] + [f'"{body}",1' for body in NEW_SPAM[:2]] + [
        f'"An ordinary remark number {n} about the article.",0' for n in range(6)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "elsewhere.joblib"
    result = learning_app.test_cli_runner().invoke(
        cli, ["spam", "retrain", "--csv", str(csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert SpamModel.load(out).info["examples"] == 8
    assert learned_rows(learning_app) == []  # an export leaves the deployment's model alone


def test_unreadable_learned_model_falls_back_to_shipped(learning_app, caplog):
    from worker.learning import current_spam_model

    with learning_app.app_context():
        db.session.add(LearnedSpamModel(decisions_learned=1, examples=1, blob=b"not a model"))
        db.session.commit()
        assert current_spam_model() is load_default()
    assert "learned spam model unreadable" in caplog.text


def test_another_machine_picks_up_the_learned_model(learning_app, app_factory, blog, moderator):
    """Two apps on one database stand for workers on two machines: what one learns, the other
    scores with once its refresh interval has passed (0 here); until then it keeps its copy."""
    from worker.learning import current_spam_model, forget_cached_model, learn_from_comments

    other_machine = app_factory(LEARNED_MODEL_REFRESH_SECONDS=0)
    slow_to_refresh = app_factory(LEARNED_MODEL_REFRESH_SECONDS=3600)
    before, _ = verdict_now(other_machine, blog, NEXT_ONE)
    assert verdict_now(slow_to_refresh, blog, NEXT_ONE)[0] == pytest.approx(before)
    ids = mark_spam(learning_app, blog, moderator)
    with learning_app.app_context():
        learn_from_comments(ids)

    after, verdict_after = verdict_now(other_machine, blog, NEXT_ONE)
    assert after > before and verdict_after in (Verdict.HOLD, Verdict.SPAM)
    with other_machine.app_context():
        assert current_spam_model().info["decisions_learned"] == len(ids)
    # Within its refresh interval a process keeps the model it has, without reading the blob.
    assert verdict_now(slow_to_refresh, blog, NEXT_ONE)[0] == pytest.approx(before)
    forget_cached_model()
    assert verdict_now(slow_to_refresh, blog, NEXT_ONE)[0] == pytest.approx(after)


OTHER_SPAM = Submission(body="Cheap replica watches shipped overnight from watch-outlet dot biz",
                        name="Kim Vale", email="kim.vale@example.com")


def test_concurrent_learners_both_keep_their_lesson(learning_app, app_factory, blog, moderator):
    """Two learners on two machines at once: the lock makes the second build on the first."""
    from worker.learning import learn_from_comments

    other_machine = app_factory(LEARNED_MODEL_REFRESH_SECONDS=0)
    client = learning_app.test_client()
    first = in_review(learning_app, blog, NEW_SPAM[0], 1)
    second = in_review(learning_app, blog, OTHER_SPAM.body, 2)
    for comment_id in (first, second):
        response = client.post(f"/api/v1/moderation/comments/{comment_id}/decision",
                               json={"action": "spam"}, headers=moderator)
        assert response.status_code == 200
    before = [verdict_now(learning_app, blog, sub)[0] for sub in (NEXT_ONE, OTHER_SPAM)]
    start = threading.Barrier(2)

    def learn_on(app: Flask, comment_id: int) -> int:
        with app.app_context():
            start.wait(10)
            try:
                return learn_from_comments([comment_id])
            finally:
                db.session.remove()

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(learn_on, learning_app, first),
                   pool.submit(learn_on, other_machine, second)]
        assert [future.result(60) for future in futures] == [1, 1]

    # Without the lock both would build on the shipped model and the last save would count 1.
    assert learned_rows(learning_app)[0].decisions_learned == 2
    after = [verdict_now(learning_app, blog, sub)[0] for sub in (NEXT_ONE, OTHER_SPAM)]
    assert after[0] > before[0] and after[1] > before[1]


def test_learning_without_redis_saves_to_the_database(app_factory, blog, moderator):
    """No REDIS_URL (one machine): no lock to take, the database still keeps the model."""
    from worker.learning import learn_from_comments

    lone = app_factory(REDIS_URL="", LEARNED_MODEL_REFRESH_SECONDS=0)
    comment_id = in_review(lone, blog, NEW_SPAM[0], 1)
    with lone.app_context():
        from service.decisions import record_example

        record_example(db.session.get(Comment, comment_id), True, "moderator:1")
        db.session.commit()
        assert learn_from_comments([comment_id]) == 1
    assert learned_rows(lone)[0].decisions_learned == 1


def test_labels_of_other_sites_stay_apart_from_site_access(learning_app, blog, moderator):
    """A moderator of one site cannot label another site's comments."""
    with learning_app.app_context():
        other = create_site("elsewhere", "Elsewhere", [])
    comment_id = in_review(learning_app, other, NEW_SPAM[0], 9)
    response = learning_app.test_client().post(
        f"/api/v1/moderation/comments/{comment_id}/decision", json={"action": "spam"},
        headers=moderator)
    assert response.status_code == 403


def test_pipeline_catches_the_next_one_after_moderators_teach_it(learning_app, blog, moderator,
                                                                learning_worker):
    from tests.conftest import comment_payload, wait_for_status

    client = learning_app.test_client()
    # Same policy on a twin site, so the near-duplicate memory (per site) cannot interfere.
    with learning_app.app_context():
        create_site("twin", "Twin", [], spam_threshold=0.9, review_threshold=0.5)
    payload = comment_payload(site="twin", body=NEXT_ONE.body, name=NEXT_ONE.name,
                              email=NEXT_ONE.email)
    before = client.post("/api/v1/comments", json=payload).get_json()["id"]
    assert wait_for_status(learning_app, before) == "approved"
    mark_spam(learning_app, blog, moderator)
    assert wait_for_decisions_learned(learning_app, len(NEW_SPAM)).get("decisions_learned") == 4
    after = client.post("/api/v1/comments", json={**payload, "site": "blog"}).get_json()["id"]
    assert wait_for_status(learning_app, after) in ("spam", "review")
