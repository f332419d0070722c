"""Sending the outbox's rows, written once for emails and webhook deliveries: the claim, the
lease, the backoff and the due-row sweep (issue 20, finding 8).

A row (``EmailNotification``, ``WebhookDelivery``) goes through one state machine:

======================  ==============================  =================================  ========
state                   event                           next state                         who
======================  ==============================  =================================  ========
open, unclaimed         ``claim`` (its backoff over)    claimed (lease), attempts + 1      a task
claimed                 the message went out            done (``sent_at``/``delivered_at``) the task
claimed                 it failed, attempts < max       open, ``next_attempt_at`` = backoff the task
claimed                 it failed, attempts = max       given up (``gave_up_at``)          the task
claimed                 it can never go (no address...) given up                           the task
claimed, lease over     ``claim``                       claimed again (a dead worker's)    a task
open, next attempt due  the minute sweep (``due``)      a task is queued per row           the beat
======================  ==============================  =================================  ========

The claim is one UPDATE (never a lock held across the SMTP or HTTP call); a redelivered or
early task finds nothing to claim. The sweep is the only retry with eager tasks (no broker) and
the safety net of a lost Celery retry with one. A lease is longer than an attempt can last:
the webhook attempt is capped at ``WEBHOOK_TIMEOUT_SECONDS`` in all, the SMTP connection at
``EMAIL_TIMEOUT``, so a slow receiver cannot outlive its lease and be sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Model, Q
from django.utils import timezone

from notifications.models import EmailNotification, WebhookDelivery

# A retry may arrive this early (clocks of the worker and of the database).
EARLY = timedelta(seconds=1)
# Rows queued by one sweep: the sweep runs every minute, so a backlog drains a batch a minute.
SWEEP_LIMIT = 1000


@dataclass(frozen=True)
class Outcome:
    """One attempt's result: ``done`` (sent or delivered), or the wait before the next one
    (``retry_in`` seconds; None when there is none: given up, or not this task's turn)."""

    done: bool
    retry_in: int | None = None


@dataclass(frozen=True)
class Channel:
    """One kind of outbox row and its retry policy (settings are read at call time)."""

    model: type[Model]
    done_field: str  # "sent_at" | "delivered_at"
    lease: Callable[[], timedelta]
    max_attempts: Callable[[], int]
    retry_base_seconds: Callable[[], int]
    retry_max_seconds: Callable[[], int]
    # What else makes a row worth sending (a webhook's endpoint not deleted).
    live: Callable[[], Q] = field(default=lambda: Q())

    @property
    def _rows(self) -> Any:
        return self.model._default_manager

    def _open(self) -> Q:
        return Q(**{f"{self.done_field}__isnull": True, "gave_up_at__isnull": True})

    def backoff_seconds(self, attempts: int) -> int:
        """The wait before attempt ``attempts + 1``: base × 2^(attempts−1), capped."""
        wait = self.retry_base_seconds() * 2 ** max(attempts - 1, 0)
        return int(min(wait, self.retry_max_seconds()))

    def claim(self, pk: int, *, now: datetime | None = None) -> bool:
        """Take the row for one attempt (one UPDATE): open, not held by another attempt, and
        its backoff over. Counts the attempt."""
        now = now or timezone.now()
        return bool(
            self._rows.filter(self._open(), pk=pk)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + EARLY))
            .update(
                claimed_until=now + self.lease(),
                attempts=F("attempts") + 1,
                last_attempt_at=now,
            )
        )

    def succeeded(self, pk: int, **fields: Any) -> Outcome:
        self._rows.filter(pk=pk).update(
            **{self.done_field: timezone.now()},
            claimed_until=None,
            next_attempt_at=None,
            last_error="",
            **fields,
        )
        return Outcome(done=True)

    def gave_up(self, pk: int, *, error: str, **fields: Any) -> Outcome:
        """Never to be attempted again (it cannot go, or it failed ``max_attempts`` times)."""
        self._rows.filter(pk=pk).update(
            claimed_until=None,
            next_attempt_at=None,
            gave_up_at=timezone.now(),
            last_error=error[:2000],
            **fields,
        )
        return Outcome(done=False)

    def failed(self, pk: int, *, attempts: int, error: str, **fields: Any) -> Outcome:
        """An attempt that failed: retried after the backoff, or given up after the last."""
        if attempts >= self.max_attempts():
            return self.gave_up(pk, error=error, **fields)
        wait = self.backoff_seconds(attempts)
        self._rows.filter(pk=pk).update(
            claimed_until=None,
            next_attempt_at=timezone.now() + timedelta(seconds=wait),
            last_error=error[:2000],
            **fields,
        )
        return Outcome(done=False, retry_in=wait)

    def due(self, *, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
        """Open rows whose next attempt is due and that no attempt holds, oldest due first."""
        now = now or timezone.now()
        return list(
            self._rows.filter(self._open(), self.live(), next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )


def _webhook_lease() -> timedelta:
    # Four times the capped attempt, at least two minutes: a dead worker's row waits that long.
    return timedelta(seconds=max(120.0, 4 * float(settings.WEBHOOK_TIMEOUT_SECONDS)))


def _email_lease() -> timedelta:
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 60
    return timedelta(seconds=max(300.0, 4 * float(timeout)))


def _webhooks_live() -> Q:
    return Q(endpoint__deleted_at__isnull=True)


def _channels() -> tuple[Channel, Channel]:
    emails = Channel(
        model=EmailNotification,
        done_field="sent_at",
        lease=_email_lease,
        max_attempts=lambda: settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS,
        retry_base_seconds=lambda: settings.NOTIFICATIONS_EMAIL_RETRY_BASE_SECONDS,
        retry_max_seconds=lambda: settings.NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS,
    )
    webhooks = Channel(
        model=WebhookDelivery,
        done_field="delivered_at",
        lease=_webhook_lease,
        max_attempts=lambda: settings.WEBHOOK_MAX_ATTEMPTS,
        retry_base_seconds=lambda: settings.WEBHOOK_RETRY_BASE_SECONDS,
        retry_max_seconds=lambda: settings.WEBHOOK_RETRY_MAX_SECONDS,
        live=_webhooks_live,
    )
    return emails, webhooks


EMAILS, WEBHOOKS = _channels()
