"""The month-to-date preview (SPEC §7 grade/preview, ``as_of``): refreshed figures served as
stored while fresh, recomputed for one seller when missing or stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from metrics import tasks
from metrics.models import MonthToDate
from metrics.runs import preview
from tests.api_helpers import preview_of
from tests.factories import aware
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

REFRESHED = aware("2026-10-20 12:00")


@pytest.fixture
def seller_with_an_order():
    given_policy()
    seller = a_seller()
    given_completed_orders(seller, count=1, at="2026-10-05 10:00")
    return seller


def test_the_refresh_stores_every_sellers_month_so_far(seller_with_an_order):
    other = a_seller(user=None)

    with time_machine.travel(REFRESHED, tick=False):
        assert tasks.refresh_month_to_date.delay().get() == 2

    rows = {row.seller_id: row for row in MonthToDate.objects.all()}
    assert set(rows) == {seller_with_an_order.pk, other.pk}
    assert rows[seller_with_an_order.pk].as_of == REFRESHED
    assert rows[seller_with_an_order.pk].metrics["window_completed_orders"] == 1
    assert rows[other.pk].metrics["window_completed_orders"] == 0


def test_a_fresh_refresh_is_served_as_of_its_time(seller_with_an_order, settings, staff_client):
    settings.PREVIEW_MAX_AGE_SECONDS = 900
    with time_machine.travel(REFRESHED, tick=False):
        preview.refresh_month_to_date()
    given_completed_orders(seller_with_an_order, count=2, at="2026-10-20 12:01")

    with time_machine.travel(REFRESHED + timedelta(minutes=10), tick=False):
        body = preview_of(staff_client, seller_with_an_order)

    assert body["as_of"] == "2026-10-20T12:00:00+09:00"
    assert body["metrics"]["window_completed_orders"] == 1  # as of the refresh
    assert body["level"] == "Silver"


def test_a_stale_refresh_is_recomputed_for_the_seller(seller_with_an_order, settings, staff_client):
    settings.PREVIEW_MAX_AGE_SECONDS = 900
    with time_machine.travel(REFRESHED, tick=False):
        preview.refresh_month_to_date()
    given_completed_orders(seller_with_an_order, count=2, at="2026-10-20 12:01")

    later = REFRESHED + timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        body = preview_of(staff_client, seller_with_an_order)

    assert body["as_of"] == "2026-10-20T12:16:00+09:00"
    assert body["metrics"]["window_completed_orders"] == 3
    assert body["level"] == "Gold"
    assert MonthToDate.objects.get(seller=seller_with_an_order).as_of == later  # stored


def test_last_months_refresh_is_not_this_months_preview(seller_with_an_order, staff_client):
    with time_machine.travel(aware("2026-09-30 23:55"), tick=False):
        preview.refresh_month_to_date()

    with time_machine.travel(aware("2026-10-01 00:05"), tick=False):
        body = preview_of(staff_client, seller_with_an_order)

    assert (body["period"], body["as_of"]) == ("2026-10", "2026-10-01T00:05:00+09:00")


def test_a_new_policy_window_is_not_served_from_the_old_one(seller_with_an_order, staff_client):
    with time_machine.travel(REFRESHED, tick=False):
        preview.refresh_month_to_date()
    given_policy(window_months=2)  # a new active policy with another window

    with time_machine.travel(REFRESHED + timedelta(minutes=1), tick=False):
        body = preview_of(staff_client, seller_with_an_order)

    assert body["as_of"] == "2026-10-20T12:01:00+09:00"


def test_a_stored_preview_takes_no_engine_query(
    seller_with_an_order, staff_client, django_assert_max_num_queries
):
    with time_machine.travel(REFRESHED, tick=False):
        preview.refresh_month_to_date()

        # token, seller, policy (3), month-to-date row, held level
        with django_assert_max_num_queries(8):
            body = preview_of(staff_client, seller_with_an_order)

    assert body["as_of"] == "2026-10-20T12:00:00+09:00"
