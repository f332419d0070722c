"""Thin Celery tasks of the notifications: ids and strings in, the services do the work.

Every task is idempotent (the outbox keys and the sent/delivered marks), so a redelivered
message only repeats a check.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.db import OperationalError

from notifications import emails, outbox, webhooks

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
def notify_at_risk(as_of: str) -> int:
    """Record the month's "at risk" emails after a month-to-date refresh, then send them."""
    recorded = outbox.record_at_risk(as_of=datetime.fromisoformat(as_of))
    _dispatch(recorded)
    return len(recorded.emails)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def send_email(self, notification_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Send one recorded email; a backend error is retried with backoff (with a broker)."""
    sent = emails.send_notification(notification_id=notification_id)
    if sent.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=sent.retry_in)
    return sent.sent


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> bool:  # type: ignore[no-untyped-def]
    """One attempt; a failed one is retried by Celery after the exponential backoff
    (``webhooks.backoff_seconds``) until a 2xx or ``WEBHOOK_MAX_ATTEMPTS``."""
    attempt = webhooks.deliver(delivery_id=delivery_id)
    if attempt.retry_in is not None and not self.request.is_eager:
        # Eager tasks (no broker) cannot wait: the delivery's next_attempt_at is recorded and
        # retry_due_webhooks sends it when due.
        raise self.retry(countdown=attempt.retry_in)
    return attempt.delivered


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retry_due_webhooks() -> int:
    """The beat, every minute: each delivery whose backoff is over and that no attempt holds."""
    due = webhooks.due_deliveries()
    for delivery_id in due:
        deliver_webhook.apply_async(args=[delivery_id])
    return len(due)
