"""Django admin for the SPEC §2 additions: cases, surveys, conversations and the order's dispatch
fields: listed with their filters, found by external id, and a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orders.models import Case
from tests.factories import (
    CaseFactory,
    ConversationFactory,
    OrderFactory,
    SurveyFactory,
    UserFactory,
    aware,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def programs_world():
    for n in range(6):
        order = OrderFactory(external_id=f"o-{n}")
        CaseFactory(external_id=f"k-{n}", order=order, kind="dispute" if n % 2 else "claim")
        SurveyFactory(external_id=f"v-{n}", order=order, csat=1 + n % 5)
        ConversationFactory(external_id=f"c-{n}", seller=order.seller)


CHANGELISTS = {
    "/admin/orders/case/": "k-3",
    "/admin/reviews/survey/": "v-3",
    "/admin/orders/conversation/": "c-3",
}


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelist_lists_every_row_in_a_fixed_number_of_queries(
    admin_client, programs_world, url, django_assert_max_num_queries
):
    # session, user, count, total count, the page's rows (with their order and seller),
    # the date hierarchy, savepoints
    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert all(f"-{n}<" in response.content.decode() for n in range(6))


@pytest.mark.parametrize(("url", "external_id"), CHANGELISTS.items())
def test_changelist_finds_a_row_by_its_external_id(admin_client, programs_world, url, external_id):
    response = admin_client.get(url, {"q": external_id})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{external_id}<" in page
    assert f"{external_id[0]}-4<" not in page


def test_cases_filter_by_kind_and_open_or_closed(admin_client, programs_world):
    CaseFactory(
        external_id="k-closed",
        kind="chargeback",
        closed_at=aware("2026-10-20 10:00"),
        outcome="buyer_favour",
    )
    page = admin_client.get("/admin/orders/case/", {"kind": "chargeback"}).content.decode()
    assert "k-closed<" in page and "k-1<" not in page
    page = admin_client.get("/admin/orders/case/", {"outcome": "buyer_favour"}).content.decode()
    assert "k-closed<" in page and "k-1<" not in page
    assert Case.objects.count() == 7


def test_order_admin_shows_and_filters_the_dispatch_fields(admin_client):
    shipped: Any = OrderFactory(
        external_id="o-shipped",
        ship_by=aware("2026-10-02 18:00"),
        shipped_at=aware("2026-10-02 15:00"),
        tracking="invalid",
    )
    OrderFactory(external_id="o-digital")
    page = admin_client.get("/admin/orders/order/", {"tracking": "invalid"}).content.decode()
    assert "o-shipped<" in page and "o-digital<" not in page
    form = admin_client.get(f"/admin/orders/order/{shipped.pk}/change/").content.decode()
    assert 'name="ship_by_0"' in form and 'name="shipped_at_0"' in form
    assert 'name="tracking"' in form and "Dispatch" in form
