"""Webhooks and emails through a real Celery worker on the real Redis broker: the retry of a
failing endpoint waits the exponential backoff (Celery retry with countdown), and nothing is
sent again after the 2xx."""

from __future__ import annotations

import time

import pytest

from metrics.engine.periods import Period
from metrics.runs import evaluate_period
from notifications.models import EmailNotification, WebhookDelivery, WebhookEndpoint
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy
from tests.metrics.test_worker import broker, worker  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_real_worker_retries_with_backoff_and_never_resends_after_a_2xx(
    broker,  # noqa: F811
    hook_server,
    monkeypatch,
    settings,
):
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE", "true")  # the worker's settings
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "1")
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    given_policy()
    seller = a_seller(user__email="kim@example.com")
    evaluate_period(period=Period.parse("2026-10"))  # Bronze, a first grade
    WebhookEndpoint.objects.create(
        url=hook_server.url, events=["level.changed"], secret="whsec-test-0123456789abcdef"
    )
    hook_server.statuses = [500, 502, 200]
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")
    # Published in this process; its signal queues the notifications on the broker.
    evaluate_period(period=Period.parse("2026-11"))

    with worker(broker):
        wait_until(lambda: len(hook_server.received) >= 3)
        wait_until(lambda: WebhookDelivery.objects.filter(delivered_at__isnull=False).exists())
        wait_until(lambda: EmailNotification.objects.filter(sent_at__isnull=False).exists())
        time.sleep(3)  # long enough for a fourth attempt, were there one

    arrivals = [item.at for item in hook_server.received]
    assert len(arrivals) == 3
    assert len({item.json["id"] for item in hook_server.received}) == 1
    first_wait, second_wait = arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]
    assert first_wait >= 0.9  # 1 s, then
    assert second_wait >= 1.9  # 2 s
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status) == (3, 200)
    assert EmailNotification.objects.get().recipient == "kim@example.com"
