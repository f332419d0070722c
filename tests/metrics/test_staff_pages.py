"""Staff find any seller and see why they moved (issue 21): the overview's search, filters and
sort, a staff page per seller with the criteria that flipped, the seller's own view, and what
leaves the window at the next evaluation (counted by hand from the given items)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
import time_machine
from django.test import Client

from metrics.engine.grading import PolicySnapshot
from metrics.engine.periods import Period
from metrics.web import selectors
from orders.models import Message, Seller
from tests.factories import SellerFactory, aware
from tests.metrics.test_dashboard_pages import given_three_periods_of_movers, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_staff_find_a_seller_by_id_or_name_and_filter_by_movement(
    staff, django_assert_max_num_queries
):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        given_three_periods_of_movers()
        by_id = staff.get("/", {"q": "B"})
        with django_assert_max_num_queries(14):
            up = staff.get("/", {"movement": "up", "sort": "-move"})
        down = staff.get("/", {"movement": "down"})
        risky = staff.get("/", {"at_risk": "1"})

    def found(response):
        return [r["seller"].external_id for r in response.context["search"]["rows"]]

    assert found(by_id) == ["B"]
    assert "Seller B B" in text_of(by_id)  # name and id side by side
    assert found(up) == ["B", "D"]  # B rose two levels, D one
    assert found(down) == ["C"]
    assert found(risky) == ["A"]


def test_the_staff_page_of_a_seller_names_the_criteria_that_flipped(staff):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        given_three_periods_of_movers()
        response = staff.get("/staff/sellers/B/")
        seller_view = staff.get("/staff/sellers/B/dashboard/")

    assert response.status_code == 200
    october = response.context["history"][0]
    assert october["period"] == "2026-10" and october["moved"]
    # B went from Bronze to Gold: the Silver (>= 1) and Gold (>= 3) criteria now pass.
    rules = sorted(r["rule"] for r in october["reasons"])
    assert rules == [
        "Completed orders (window) at least 1",
        "Completed orders (window) at least 3",
    ]
    assert all(r["passed"] for r in october["reasons"])
    assert 'href="/staff/sellers/B/dashboard/"' in response.content.decode()
    assert seller_view.status_code == 200 and "Staff view" in text_of(seller_view)


def test_a_seller_cannot_open_a_staff_page(client):
    seller = SellerFactory(external_id="X")
    client.force_login(seller.user)  # a signed-in seller, not staff
    for path in ("/staff/sellers/X/", "/staff/sellers/X/dashboard/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_late_replies_of_the_oldest_month_leave_at_the_next_evaluation():
    # Window of 2026-10: Aug–Oct; the next evaluation (2026-11) covers Sep–Nov, so the August
    # inquiries drop out on Dec 1. Given: 3 August inquiries, 2 of them never answered, 1
    # answered in 1 hour; 1 September inquiry never answered (it stays).
    seller = cast(Seller, SellerFactory())
    policy = PolicySnapshot(levels=())
    moments = ["2026-08-05 10:00", "2026-08-06 10:00", "2026-08-07 10:00", "2026-09-10 10:00"]
    for i, at in enumerate(moments):
        Message.objects.create(
            external_id=f"m{i}",
            conversation=f"c{i}",
            seller=seller,
            buyer="b",
            sender="buyer",
            sent_at=aware(at),
        )
    Message.objects.create(
        external_id="r0",
        conversation="c2",
        seller=seller,
        buyer="b",
        sender="seller",
        sent_at=aware(moments[2]) + timedelta(hours=1),
    )

    leaving = selectors.leaving_window(
        seller_id=seller.pk,
        period=Period.parse("2026-10"),
        next_period=Period.parse("2026-11"),
        policy=policy,
    )

    assert leaving is not None
    assert (leaving.late_replies, leaving.late_deliveries, leaving.negative_reviews) == (2, 0, 0)
    assert leaving.drops_on == aware("2026-12-01 00:00")
