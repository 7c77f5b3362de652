"""Thin Celery tasks for moderation follow-ups: learning from labels, notifying moderators."""

from __future__ import annotations

from celery import Task, shared_task


@shared_task(name="vetted.learn_from_decision", bind=True, acks_late=True, ignore_result=True,
             soft_time_limit=120, time_limit=180, max_retries=5)
def learn_from_decision(self: Task, comment_ids: list[int]) -> int:
    """Teach the deployment's spam model the spam/ham labels just given to these comments."""
    # Imported here so the web process never loads scikit-learn just to register the task.
    from worker.learning import LearningBusy, learn_from_comments

    try:
        return learn_from_comments(comment_ids)
    except LearningBusy as busy:  # another learner is slow: try again later, keep the lesson
        raise self.retry(exc=busy, countdown=30) from busy


@shared_task(name="vetted.notify_review", acks_late=True, ignore_result=True,
             soft_time_limit=30, time_limit=60)
def notify_review(comment_id: int) -> int:
    """Email the site's moderators that a comment waits for review."""
    from worker.notifications import send_review_notification

    return send_review_notification(comment_id)
