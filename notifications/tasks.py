"""Thin Celery tasks of the notifications: ids and strings in, the services do the work.

Every task is idempotent (the outbox keys and the sent/delivered marks), so a redelivered
message only repeats a check.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from django.db import OperationalError

from notifications import appeals, emails, outbox, sending, webhooks

logger = logging.getLogger(__name__)

_RECORD = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


def _dispatch(recorded: outbox.Outbox) -> None:
    for notification_id in recorded.emails:
        send_email.apply_async(args=[notification_id])
    for delivery_id in recorded.deliveries:
        deliver_webhook.apply_async(args=[delivery_id])


@shared_task(**_RECORD)
def notify_run_published(run_id: int) -> int:
    """Record the emails and webhook events of a published run, then send them."""
    recorded = outbox.record_run_published(run_id=run_id)
    _dispatch(recorded)
    return len(recorded.emails) + len(recorded.deliveries)


@shared_task(**_RECORD)
def notify_appeal_decided(appeal_id: int) -> int:
    """Record the ``appeal.decided`` event and the seller's email, then send them."""
    recorded = appeals.record_appeal_decided(appeal_id=appeal_id)
    _dispatch(recorded)
    return len(recorded.emails) + len(recorded.deliveries)


@shared_task(**_RECORD)
def notify_grade_corrected(correction_id: int) -> int:
    """Record the ``grade.corrected`` event and the seller's email (a level that changed)."""
    recorded = appeals.record_grade_corrected(correction_id=correction_id)
    _dispatch(recorded)
    return len(recorded.emails) + len(recorded.deliveries)


@shared_task(**_RECORD)
def notify_at_risk(as_of: str) -> int:
    """Record the month's "at risk" emails after a month-to-date refresh, then send them."""
    recorded = outbox.record_at_risk(as_of=datetime.fromisoformat(as_of))
    _dispatch(recorded)
    return len(recorded.emails)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def send_email(self, notification_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Send one recorded email; a failed attempt is retried after its backoff (see
    ``_retry_later``)."""
    sent = emails.send_notification(notification_id=notification_id)
    _retry_later(self, sent.retry_in)
    return sent.sent


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> bool:  # type: ignore[no-untyped-def]
    """One attempt; a failed one is retried after the exponential backoff
    (``sending.Channel.backoff_seconds``) until a 2xx or ``WEBHOOK_MAX_ATTEMPTS``."""
    attempt = webhooks.deliver(delivery_id=delivery_id)
    _retry_later(self, attempt.retry_in)
    return attempt.delivered


def _retry_later(task: Any, retry_in: int | None) -> None:
    """With a broker, Celery brings the task back when the backoff is over. Eager tasks (no
    broker) cannot wait: the row's ``next_attempt_at`` is recorded and the minute sweep
    (``retry_due_notifications``) sends it when due; it is also the net for a lost retry."""
    if retry_in is not None and not task.request.is_eager:
        raise task.retry(countdown=retry_in)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retry_due_notifications() -> int:
    """The beat, every minute: each email and webhook delivery whose backoff is over and that
    no attempt holds, sent again (one sweep for the one outbox: ``notifications.sending``)."""
    due_emails = sending.EMAILS.due()
    due_deliveries = sending.WEBHOOKS.due()
    for notification_id in due_emails:
        send_email.apply_async(args=[notification_id])
    for delivery_id in due_deliveries:
        deliver_webhook.apply_async(args=[delivery_id])
    return len(due_emails) + len(due_deliveries)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retry_due_webhooks() -> int:
    """The name of the sweep before issue 20 (a message queued under it still runs)."""
    return int(retry_due_notifications())
