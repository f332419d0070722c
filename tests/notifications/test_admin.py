"""The delivery log and the email log in admin: read-only, every attempt's outcome shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import (
    EmailNotification,
    SellerPreference,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.factories import UserFactory
from tests.metrics.test_runs import a_seller

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

ADMIN = "/admin/notifications"


@pytest.fixture
def admin_client() -> Client:
    user: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def failed_delivery() -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in", events=["run.completed"], secret="s" * 20
    )
    event = WebhookEvent.objects.create(
        event_id="evt_0123",
        key="k",
        type="run.completed",
        data={"id": 1},
        created_at=timezone.now(),
    )
    return WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, attempts=4, last_status=503, last_error="HTTP 503: busy"
    )


def test_the_delivery_log_lists_attempts_status_and_error(admin_client, failed_delivery):
    response = admin_client.get(f"{ADMIN}/webhookdelivery/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "evt_0123" in page and "HTTP 503: busy" in page and "503" in page
    assert admin_client.get(f"{ADMIN}/webhookdelivery/add/").status_code == 403


def test_a_delivery_page_is_read_only_and_never_shows_the_secret(admin_client, failed_delivery):
    response = admin_client.get(f"{ADMIN}/webhookdelivery/{failed_delivery.pk}/change/")

    assert response.status_code == 200
    assert "HTTP 503: busy" in response.content.decode()
    endpoint_page = admin_client.get(
        f"{ADMIN}/webhookendpoint/{failed_delivery.endpoint_id}/change/"
    )
    assert endpoint_page.status_code == 200
    assert "s" * 20 not in endpoint_page.content.decode()


def test_the_email_log_and_the_preferences_are_in_admin(admin_client):
    seller = a_seller()
    SellerPreference.objects.create(seller=seller, language="ko", at_risk_emails=False)
    EmailNotification.objects.create(
        key="k1", kind="at_risk", seller=seller, period="2027-01", recipient="a@example.com"
    )

    assert admin_client.get(f"{ADMIN}/emailnotification/").status_code == 200
    preferences = admin_client.get(f"{ADMIN}/sellerpreference/")
    assert preferences.status_code == 200
    assert seller.external_id in preferences.content.decode()
