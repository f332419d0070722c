"""Webhooks (SPEC §7): signed JSON POSTs to a real HTTP server on 127.0.0.1, retried with
backoff until a 2xx, never sent again after one; the API's rules."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import EvaluationRun
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.tasks import deliver_webhook, notify_run_published, retry_due_notifications
from notifications.webhooks import backoff_seconds
from tests.api_helpers import JAN_15_2027
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def clock(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    with time_machine.travel(JAN_15_2027, tick=False) as traveller:
        yield traveller


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    def evaluate(period: str) -> EvaluationRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = runs.evaluate_period(period=Period.parse(period)).run
        assert run is not None and run.status == "succeeded"
        return run

    return evaluate


def subscribe(staff_client, url: str, events=("level.changed", "run.completed")) -> dict:
    response = staff_client.post(
        "/api/v1/webhooks", {"url": url, "events": list(events), "secret": SECRET}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def verify(received) -> None:
    """The receiver's check, written from SPEC §7 alone: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<raw body>" with the secret>."""
    header = received.headers["gradecraft-signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        SECRET.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - int(time.time())) < 300


def a_promotion(publish) -> str:
    """A seller at Bronze in 2026-10 who reaches Silver in 2026-11 (not yet published)."""
    given_policy()
    seller = a_seller(external_id="kim-1", user__email="kim@example.com")
    publish("2026-10")
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")
    return seller.external_id


def test_a_level_change_is_posted_signed_with_its_reasons(publish, staff_client, hook_server):
    seller = a_promotion(publish)
    subscribe(staff_client, hook_server.url)
    hook_server.received.clear()  # only what the next run sends

    run = publish("2026-11")

    [change] = hook_server.of_type("level.changed")
    verify(change)
    assert change.headers["content-type"] == "application/json"
    body = change.json
    assert set(body) == {"id", "type", "created", "data"}
    assert body["id"].startswith("evt_")
    assert body["data"] == {
        "seller": seller,
        "period": "2026-11",
        "from": "Bronze",
        "to": "Silver",
        "reasons": [
            {
                "level": "Silver",
                "metric": "window_completed_orders",
                "op": ">=",
                "value": 1,
                "any_of": "",
                "window_days": None,
                "actual": 1,
                "passed": True,
            }
        ],
    }
    [completed] = hook_server.of_type("run.completed")
    verify(completed)
    assert completed.json["data"]["id"] == run.pk
    assert completed.json["data"]["period"] == "2026-11"
    assert completed.json["data"]["sellers"] == 1
    assert completed.json["data"]["level_counts"] == {
        "Bronze": 0,
        "Silver": 1,
        "Gold": 0,
        "none": 0,
    }


def test_only_the_subscribed_events_are_sent(publish, staff_client, hook_server):
    a_promotion(publish)
    subscribe(staff_client, hook_server.url, events=["run.completed"])

    publish("2026-11")

    assert [item.json["type"] for item in hook_server.received] == ["run.completed"]


def test_a_failing_endpoint_is_retried_with_backoff_until_a_2xx_then_never_again(
    publish, staff_client, hook_server, clock, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    a_promotion(publish)
    subscribe(staff_client, hook_server.url, events=["level.changed"])
    hook_server.statuses = [500, 503, 200]

    publish("2026-11")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status) == (1, 500)
    assert delivery.next_attempt_at == timezone.now() + timedelta(seconds=60)

    def sweep_after(seconds: int) -> int:
        clock.shift(timedelta(seconds=seconds))
        retry_due_notifications.delay().get()
        return len(hook_server.of_type("level.changed"))

    assert sweep_after(59) == 1  # the first wait is 60 s
    assert sweep_after(1) == 2  # 503
    assert sweep_after(119) == 2  # then it doubles
    assert sweep_after(1) == 3  # 200

    attempts = hook_server.of_type("level.changed")
    assert len({item.json["id"] for item in attempts}) == 1  # the same event each time
    assert len({item.body for item in attempts}) == 1
    for item in attempts:
        verify(item)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status, delivery.last_error) == (3, 200, "")
    assert delivery.delivered_at is not None

    # After the 2xx: the sweep, a redelivered task, a repeated notification, a re-run.
    assert sweep_after(86_400) == 3
    deliver_webhook.delay(delivery.pk).get()
    notify_run_published.delay(EvaluationRun.objects.get(period="2026-11").pk).get()
    publish("2026-11")
    assert len(hook_server.of_type("level.changed")) == 3


def test_an_early_or_duplicate_retry_does_not_attempt_before_the_backoff(
    publish, staff_client, hook_server
):
    a_promotion(publish)
    subscribe(staff_client, hook_server.url, events=["level.changed"])
    hook_server.statuses = [500]
    publish("2026-11")

    deliver_webhook.delay(WebhookDelivery.objects.get().pk).get()

    assert len(hook_server.received) == 1
    assert WebhookDelivery.objects.get().attempts == 1


def test_a_delivery_failing_every_time_is_given_up_and_logged(
    publish, staff_client, hook_server, clock, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    a_promotion(publish)
    subscribe(staff_client, hook_server.url, events=["level.changed"])
    hook_server.statuses = [500] * 10

    publish("2026-11")
    for _ in range(5):
        clock.shift(timedelta(hours=7))
        retry_due_notifications.delay().get()

    assert len(hook_server.of_type("level.changed")) == 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status) == (3, 500)
    assert delivery.last_error.startswith("HTTP 500")
    assert delivery.delivered_at is None and delivery.gave_up_at is not None


def test_backoff_is_exponential_and_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.WEBHOOK_RETRY_MAX_SECONDS = 1000
    assert [backoff_seconds(n) for n in range(1, 7)] == [60, 120, 240, 480, 960, 1000]


def test_an_unreachable_endpoint_is_an_error_in_the_log(publish, staff_client):
    a_promotion(publish)
    subscribe(staff_client, "http://127.0.0.1:9/closed", events=["run.completed"])

    publish("2026-11")

    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status is None
    assert "refused" in delivery.last_error.lower()


def test_a_deleted_webhook_receives_nothing(publish, staff_client, hook_server):
    a_promotion(publish)
    endpoint = subscribe(staff_client, hook_server.url)

    assert staff_client.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 204
    publish("2026-11")

    assert hook_server.received == []
    assert staff_client.get("/api/v1/webhooks").json()["results"] == []
    assert staff_client.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 404


def test_emails_and_webhooks_go_out_together_once(publish, staff_client, hook_server):
    a_promotion(publish)
    subscribe(staff_client, hook_server.url)

    publish("2026-11")
    publish("2026-11")

    assert len(mail.outbox) == 1
    assert len(hook_server.of_type("level.changed")) == 1
    assert len(hook_server.of_type("run.completed")) == 2  # two runs completed
    assert WebhookEndpoint.objects.count() == 1


def test_an_endpoint_now_on_a_private_address_is_given_up_unsent(
    publish, staff_client, hook_server, settings
):
    a_promotion(publish)
    subscribe(staff_client, hook_server.url, events=["run.completed"])
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # e.g. its name now resolves inside the network

    publish("2026-11")

    assert hook_server.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.gave_up_at is not None and delivery.delivered_at is None
    assert "loopback or private address" in delivery.last_error


def test_a_host_that_does_not_resolve_is_retried_later(publish, settings):
    a_promotion(publish)
    WebhookEndpoint.objects.create(
        url="http://no-such-host.invalid/hooks", events=["run.completed"], secret=SECRET
    )
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    publish("2026-11")

    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.gave_up_at is None
    assert delivery.next_attempt_at is not None
    assert "does not resolve" in delivery.last_error
