"""A failed seller email is retried by the one outbox's sweep, like a webhook delivery, also
with eager tasks (issue 20, finding 8): a mail server that fails twice, then accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from metrics import runs
from metrics.engine.periods import Period
from notifications.models import EmailNotification
from notifications.tasks import retry_due_notifications
from tests.api_helpers import JAN_15_2027
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy
from tests.notifications.flaky_email import FailingTwiceBackend

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def clock():
    with time_machine.travel(JAN_15_2027, tick=False) as traveller:
        yield traveller


@pytest.fixture
def failing_twice(settings):
    settings.EMAIL_BACKEND = "tests.notifications.flaky_email.FailingTwiceBackend"
    settings.NOTIFICATIONS_EMAIL_RETRY_BASE_SECONDS = 60
    settings.NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS = 3600
    FailingTwiceBackend.calls = 0


def publish(period: str, capture) -> None:
    with capture(execute=True):
        runs.evaluate_period(period=Period.parse(period))


def test_an_email_failing_twice_is_sent_by_the_sweep_after_its_backoff(
    clock, failing_twice, django_capture_on_commit_callbacks, settings
):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # no broker: Celery's own retry cannot wait
    given_policy()
    seller = a_seller(user__email="kim@example.com")
    publish("2026-10", django_capture_on_commit_callbacks)
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")

    publish("2026-11", django_capture_on_commit_callbacks)  # a promotion: one email, refused

    email = EmailNotification.objects.get()
    assert (email.attempts, email.sent_at) == (1, None)
    assert email.next_attempt_at == timezone.now() + timedelta(seconds=60)
    assert email.last_error.startswith("SMTPServerDisconnected")

    def sweep_after(seconds: int) -> tuple[int, int]:
        clock.shift(timedelta(seconds=seconds))
        retry_due_notifications.delay().get()
        email.refresh_from_db()
        return email.attempts, len(mail.outbox)

    assert sweep_after(59) == (1, 0)  # the backoff: 60 s
    assert sweep_after(1) == (2, 0)  # refused again; the wait doubles
    assert sweep_after(119) == (2, 0)
    assert sweep_after(1) == (3, 1)  # accepted
    assert mail.outbox[0].to == ["kim@example.com"]
    assert email.sent_at is not None and email.last_error == "" and email.next_attempt_at is None

    assert sweep_after(86_400) == (3, 1)  # never sent twice


def test_an_email_failing_every_time_is_given_up(
    clock, failing_twice, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = 2
    given_policy()
    seller = a_seller(user__email="kim@example.com")
    publish("2026-10", django_capture_on_commit_callbacks)
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")
    publish("2026-11", django_capture_on_commit_callbacks)

    for _ in range(3):
        clock.shift(timedelta(hours=2))
        retry_due_notifications.delay().get()

    email = EmailNotification.objects.get()
    assert (email.attempts, len(mail.outbox)) == (2, 0)
    assert email.gave_up_at is not None and email.sent_at is None
