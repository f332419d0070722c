"""List and detail reads: filters, pagination, and a query count that does not grow."""

from __future__ import annotations

import pytest

from tests.api_helpers import INGEST_ENTITIES
from tests.factories import (
    CaseFactory,
    ConversationFactory,
    MessageFactory,
    OrderFactory,
    ReviewFactory,
    SellerFactory,
    SurveyFactory,
    aware,
)

pytestmark = pytest.mark.django_db

# token lookup + the staff user's permissions + page count + page rows
LIST_QUERIES = 4


@pytest.fixture
def world():
    sellers = SellerFactory.create_batch(3)
    for s in sellers:
        OrderFactory.create_batch(4, seller=s)
        MessageFactory.create_batch(4, seller=s)
        ReviewFactory.create_batch(4, order__seller=s)
    return sellers


@pytest.mark.parametrize("path", ["sellers", "orders", "messages", "reviews"])
def test_list_endpoints_run_a_fixed_number_of_queries(
    staff_client, world, path, django_assert_max_num_queries
):
    with django_assert_max_num_queries(LIST_QUERIES):
        response = staff_client.get(f"/api/v1/{path}")
    assert response.status_code == 200
    assert response.json()["count"] == {"sellers": 3}.get(path, 24 if path == "orders" else 12)


@pytest.mark.parametrize("path", ["orders", "messages", "reviews"])
def test_list_filtered_by_seller_shows_only_that_sellers_items(staff_client, world, path):
    target = world[1]
    data = staff_client.get(f"/api/v1/{path}", {"seller": target.external_id}).json()
    expected = 8 if path == "orders" else 4  # reviews bring their own completed orders
    assert data["count"] == expected
    assert {item["seller"] for item in data["results"]} == {target.external_id}


def test_unknown_seller_filter_gives_an_empty_list(staff_client, world):
    assert staff_client.get("/api/v1/orders", {"seller": "nobody"}).json()["count"] == 0


def test_orders_are_listed_newest_first(staff_client, seller):
    OrderFactory(external_id="old", seller=seller, created_at=aware("2026-09-01 10:00"))
    OrderFactory(external_id="new", seller=seller, created_at=aware("2026-10-01 10:00"))
    results = staff_client.get("/api/v1/orders").json()["results"]
    assert [o["external_id"] for o in results] == ["new", "old"]


def test_list_is_paginated(staff_client, seller):
    OrderFactory.create_batch(5, seller=seller)
    data = staff_client.get("/api/v1/orders", {"page_size": 2, "page": 2}).json()
    assert (data["count"], len(data["results"])) == (5, 2)


def test_unknown_object_is_404(staff_client, db):
    for path in INGEST_ENTITIES:
        assert staff_client.get(f"/api/v1/{path}/missing").status_code == 404


def test_seller_route_does_not_swallow_deeper_paths(staff_client, seller):
    # /sellers/<id>/grade etc. belong to metrics.web.urls: never matched by the seller route.
    from django.urls import Resolver404, resolve

    try:
        match = resolve(f"/api/v1/sellers/{seller.external_id}/grade")
    except Resolver404:
        return
    assert match.url_name != "sellers-detail"


def test_list_pagination_shape(staff_client, seller):
    OrderFactory.create_batch(3, seller=seller)
    body = staff_client.get("/api/v1/orders", {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page": "0"}, 400),
        ({"page": "abc"}, 400),
        ({"page": "999"}, 404),
        ({"page_size": "-1"}, 400),
        ({"page_size": "abc"}, 400),
        ({"page_size": "100000"}, 400),  # not silently capped at 1,000
        ({"page_size": "1000"}, 200),
        ({"seller": ""}, 200),
        ({"seller": "x" * 5000}, 200),
        ({"sellr": "s-1"}, 400),  # a typo is refused, never ignored
        ({"format": "json"}, 400),
    ],
)
def test_odd_list_parameters_are_answered_as_documented(staff_client, seller, params, expected):
    OrderFactory(seller=seller)
    response = staff_client.get("/api/v1/orders", params)
    assert response.status_code == expected
    if expected == 400:
        assert set(response.json()) == set(params)


@pytest.fixture
def program_world():
    """Three sellers, each with four orders, each order with a case and a survey, and four
    conversations."""
    sellers = SellerFactory.create_batch(3)
    for s in sellers:
        for order in OrderFactory.create_batch(4, seller=s):
            CaseFactory(order=order)
            SurveyFactory(order=order)
        ConversationFactory.create_batch(4, seller=s)
    return sellers


@pytest.mark.parametrize("path", ["cases", "surveys", "conversations"])
def test_program_lists_run_a_fixed_number_of_queries(
    staff_client, program_world, path, django_assert_max_num_queries
):
    with django_assert_max_num_queries(LIST_QUERIES):
        response = staff_client.get(f"/api/v1/{path}")
    assert response.status_code == 200
    assert response.json()["count"] == 12
    target = program_world[1].external_id
    data = staff_client.get(f"/api/v1/{path}", {"seller": target}).json()
    assert data["count"] == 4
    assert {item["seller"] for item in data["results"]} == {target}
