import pytest
import time_machine
from django.test import Client

from metrics.periods import Period
from metrics.runs import evaluate_period
from tests.factories import OrderFactory, SellerFactory, UserFactory, aware

pytestmark = pytest.mark.django_db


def given_history(months: int):
    seller = SellerFactory(username="hist", user=UserFactory(username="hist", password="pw-x"))
    period = Period.parse("2026-10")
    periods = []
    for _ in range(months):
        OrderFactory(
            seller=seller,
            created_at=period.start,
            delivered_at=period.start.replace(day=2),
            completed_at=period.start.replace(day=3),
        )
        periods.append(period)
        period = period.previous()
    for p in reversed(periods):
        evaluate_period(period=p)
    client = Client()
    client.login(username="hist", password="pw-x")
    return client


@pytest.mark.parametrize("months", [1, 12])
def test_dashboard_queries_do_not_grow_with_history(months, django_assert_max_num_queries):
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        client = given_history(months)
        with django_assert_max_num_queries(16):
            response = client.get("/")
    assert response.status_code == 200
    assert response.context["history"][0]["period"] == "2026-10"
    assert len(response.context["history"]) == months


def test_a_login_without_seller_sees_no_dashboard():
    UserFactory(username="plain", password="pw-y")
    client = Client()
    client.login(username="plain", password="pw-y")
    assert client.get("/").status_code == 403


def test_evidence_page_lists_the_late_order(settings):
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        seller = SellerFactory(username="ev", user=UserFactory(username="ev", password="pw-z"))
        OrderFactory(
            seller=seller,
            external_id="late-order",
            created_at=aware("2026-10-01 10:00"),
            due_at=aware("2026-10-02 10:00"),
            delivered_at=aware("2026-10-04 10:00"),
        )
        client = Client()
        client.login(username="ev", password="pw-z")
        response = client.get("/evidence/on_time_rate/?period=2026-10")
        unknown_metric = client.get("/evidence/revenue/?period=2026-10")
    assert response.status_code == 200
    assert b"late-order" in response.content
    assert unknown_metric.status_code == 404
