"""The dashboard's month-to-date preview says how fresh its figures are (SPEC §7 ``as_of``)."""

import pytest
import time_machine
from django.test import Client

from metrics.models import GradePolicy
from metrics.runs import preview
from tests.factories import OrderFactory, SellerFactory, UserFactory, aware

pytestmark = pytest.mark.django_db


def given_signed_in_seller():
    seller = SellerFactory(username="mtd", user=UserFactory(username="mtd", password="pw-mtd"))
    OrderFactory(
        seller=seller,
        created_at=aware("2026-11-02 10:00"),
        delivered_at=aware("2026-11-03 10:00"),
        completed_at=aware("2026-11-04 10:00"),
    )
    client = Client()
    client.login(username="mtd", password="pw-mtd")
    return seller, client


def test_the_preview_says_as_of_when_its_figures_were_computed(django_assert_max_num_queries):
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        _, client = given_signed_in_seller()
        preview.refresh_month_to_date()
    # session, user, seller, evaluations, policy (3), month-to-date row, held level
    with (
        time_machine.travel(aware("2026-11-15 12:07"), tick=False),
        django_assert_max_num_queries(10),
    ):
        response = client.get("/")

    assert response.status_code == 200
    assert b'Figures as of <time datetime="2026-11-15T12:00:00+09:00">' in response.content
    assert b"Nov. 15, 2026 12:00 KST</time>" in response.content


def test_without_a_refresh_the_figures_are_as_of_now():
    with time_machine.travel(aware("2026-11-15 12:07"), tick=False):
        _, client = given_signed_in_seller()
        response = client.get("/")

    assert b'<time datetime="2026-11-15T12:07:00+09:00">Nov. 15, 2026 12:07 KST</time>' in (
        response.content
    )


def test_with_no_active_policy_the_dashboard_explains_instead_of_failing():
    with time_machine.travel(aware("2026-11-15 12:07"), tick=False):
        _, client = given_signed_in_seller()
        GradePolicy.objects.update(is_active=False)
        response = client.get("/")

    assert response.status_code == 503
    assert b"No active grade policy" in response.content
    assert b'id="app-error"' in response.content
