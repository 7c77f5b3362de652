"""Prometheus metrics, structured logs and the request id that follows a comment into its task."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.logs import RequestIdFilter, configure_logging
from tests.conftest import poll_until, wait_for_status


def samples(client) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(metrics, name, **labels) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_submissions_decisions_and_queue_age(app, site, submit, client,
                                                          celery_worker):
    before = samples(client)
    comment_id = submit().get_json()["id"]
    submit(email="broken").get_json()
    assert wait_for_status(app, comment_id) == "approved"
    # Decision metrics are recorded just after the worker's commit, so they can trail the status.
    after = poll_until(lambda: samples(client),
                       lambda m: value(m, "vetted_submit_to_decision_seconds_count")
                       > value(before, "vetted_submit_to_decision_seconds_count"))
    assert value(after, "vetted_submissions_total", outcome="accepted") == \
        value(before, "vetted_submissions_total", outcome="accepted") + 1
    assert value(after, "vetted_submissions_total", outcome="invalid") == \
        value(before, "vetted_submissions_total", outcome="invalid") + 1
    assert value(after, "vetted_decisions_total", verdict="approved", source="check") == \
        value(before, "vetted_decisions_total", verdict="approved", source="check") + 1
    assert value(after, "vetted_submit_to_decision_seconds_count") == \
        value(before, "vetted_submit_to_decision_seconds_count") + 1
    assert value(after, "vetted_check_duration_seconds_count", check="spam") >= 1
    assert ("vetted_queue_oldest_seconds", (("status", "pending"),)) in after
    assert ("vetted_queue_oldest_seconds", (("status", "review"),)) in after


def test_request_id_is_echoed_and_kept_on_log_lines(app, site, client):
    response = client.get("/healthz", headers={"X-Request-Id": "abc123-trace-id"})
    assert response.headers["X-Request-Id"] == "abc123-trace-id"
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 16
    # A forged, oversized id is replaced rather than echoed into logs.
    assert client.get("/healthz", headers={"X-Request-Id": "x" * 500}).headers[
        "X-Request-Id"] != "x" * 500


def test_request_id_follows_the_comment_into_the_worker(app, site, submit, caplog,
                                                        celery_worker):
    caplog.set_level(logging.INFO, logger="worker.moderation")
    caplog.handler.addFilter(RequestIdFilter())
    response = submit()
    request_id = response.headers["X-Request-Id"]
    assert wait_for_status(app, response.get_json()["id"]) == "approved"
    # The worker logs a decision just after committing it, so the line can trail the status.
    decided = poll_until(lambda: [r for r in caplog.records if r.getMessage() == "comment decided"],
                         bool)
    assert decided and decided[-1].request_id == request_id


def test_json_log_lines(capsys):
    configure_logging("INFO", "json")
    try:
        logging.getLogger("vetted.test").info("hello", extra={"comment_id": 7})
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["message"] == "hello" and record["level"] == "INFO"
        assert record["comment_id"] == 7 and "time" in record
    finally:
        logging.getLogger().handlers[:] = []


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_celerys_per_task_lines_are_left_out_at_info(capsys, level, shown):
    root_level = logging.getLogger().level
    configure_logging(level, "json")
    try:
        for name in ("celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(name).info("Task vetted.moderate_comment[x] succeeded")
            logging.getLogger(name).warning("Task vetted.moderate_comment[x] failed")
        lines = capsys.readouterr().err.strip().splitlines()
        messages = [json.loads(line)["message"] for line in lines]
        assert messages.count("Task vetted.moderate_comment[x] failed") == 2
        assert ("Task vetted.moderate_comment[x] succeeded" in messages) is shown
    finally:
        logging.getLogger().handlers[:] = []
        logging.getLogger().setLevel(root_level)
        for name in ("celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(name).setLevel(logging.NOTSET)
