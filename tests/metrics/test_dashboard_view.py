from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metrics.engine.periods import Period
from metrics.runs import evaluate_period
from orders.models import Order, Seller
from tests.factories import OrderFactory, SellerFactory, UserFactory, aware
from tests.metrics.test_runs import given_policy

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
        with django_assert_max_num_queries(19):  # + 3: what leaves the window
            response = client.get("/")
    assert response.status_code == 200
    assert response.context["history"][0]["period"] == "2026-10"
    assert len(response.context["history"]) == months


def test_what_leaves_the_window_is_counted_once_per_preview_age(settings):
    # The block counts a closed slice of the evaluated window (3 queries): kept for
    # PREVIEW_MAX_AGE_SECONDS like the month-to-date preview, then counted again.
    settings.PREVIEW_MAX_AGE_SECONDS = 600
    with time_machine.travel(aware("2026-11-15 12:00"), tick=True) as traveller:
        client = given_history(3)
        first = client.get("/")
        with CaptureQueriesContext(connection) as counted:
            again = client.get("/")
        assert again.context["leaving"] == first.context["leaving"]
        assert not any("orders_message" in q["sql"] for q in counted.captured_queries)
        traveller.shift(timedelta(seconds=601))
        with CaptureQueriesContext(connection) as later:
            client.get("/")
        assert any("orders_message" in q["sql"] for q in later.captured_queries)
        # the block's 3 queries (the MTD row is older than the preview age too: recomputed)
        assert len(later) >= len(counted) + 3


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


def given_logged_in_seller_with_late_deliveries(count: int):
    """A logged-in seller with ``count`` late deliveries in 2026-10, one hour apart.

    Returns the client and the order ids in the order the evidence lists them (all late: by
    delivery time).
    """
    seller = SellerFactory(username="pages", user=UserFactory(username="pages", password="pw-p"))
    first = aware("2026-10-01 00:00")
    Order.objects.bulk_create(
        OrderFactory.build(
            seller=seller,
            external_id=f"late-{i:03d}",
            created_at=aware("2026-09-01 00:00"),
            due_at=aware("2026-09-30 00:00"),
            delivered_at=first + timedelta(hours=i),
        )
        for i in range(count)
    )
    client = Client()
    client.login(username="pages", password="pw-p")
    return client, [f"late-{i:03d}" for i in range(count)]


def shown_orders(response) -> list[str]:
    return [item["external_id"] for item in response.context["items"]]


def test_evidence_page_shows_100_items_a_page_with_links_between_pages():
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        client, expected = given_logged_in_seller_with_late_deliveries(250)
        first = client.get("/evidence/on_time_rate/?period=2026-10")
        second = client.get("/evidence/on_time_rate/?period=2026-10&page=2")
        last = client.get("/evidence/on_time_rate/?period=2026-10&page=3")

    assert shown_orders(first) == expected[:100]
    assert shown_orders(second) == expected[100:200]
    assert shown_orders(last) == expected[200:]
    assert b'href="?period=2026-10&amp;page=2"' in first.content
    assert b'rel="prev"' not in first.content
    assert b'href="?period=2026-10&amp;page=1"' in second.content
    assert b'href="?period=2026-10&amp;page=3"' in second.content
    assert b'rel="next"' not in last.content
    assert b"Items 201\xe2\x80\x93250 of 250." in last.content


def test_evidence_page_links_to_the_whole_csv():
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        client, _ = given_logged_in_seller_with_late_deliveries(3)
        page = client.get("/evidence/on_time_rate/?period=2026-10")
        seller = Seller.objects.get(username="pages")
        csv_url = (
            f"/api/v1/sellers/{seller.external_id}/evidence"
            "?period=2026-10&metric=on_time_rate&format=csv"
        )
        download = client.get(csv_url)

    assert csv_url.replace("&", "&amp;").encode() in page.content
    assert download.status_code == 200
    assert len(b"".join(download.streaming_content).decode().splitlines()) == 4


@pytest.mark.parametrize("page", ["4", "0", "two"])
def test_evidence_page_that_does_not_exist_is_404(page):
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        client, _ = given_logged_in_seller_with_late_deliveries(250)
        response = client.get(f"/evidence/on_time_rate/?period=2026-10&page={page}")

    assert response.status_code == 404


@pytest.mark.parametrize("period", ["0001-01", "9998-12", "9999-12", "0000-01", "garbage", ""])
@pytest.mark.parametrize("window_months", [3, 1])
def test_evidence_page_for_a_period_without_a_window_is_404_not_500(period, window_months):
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        given_policy(window_months=window_months)
        client, _ = given_logged_in_seller_with_late_deliveries(1)
        response = client.get(f"/evidence/response_rate/?period={period}")

    assert response.status_code == 404


@pytest.mark.parametrize("orders", [1, 250])
def test_evidence_page_queries_do_not_grow_with_the_items(orders, django_assert_max_num_queries):
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        client, _ = given_logged_in_seller_with_late_deliveries(orders)
        # session, user, seller; the period's run (none: the active policy, its levels, their
        # criteria); the count, the page; the page's appeals and which orders can be appealed
        with django_assert_max_num_queries(11):
            response = client.get("/evidence/on_time_rate/?period=2026-10")

    assert response.status_code == 200
    assert len(response.context["items"]) == min(orders, 100)
