"""POST /api/v1/{sellers|orders|messages}/bulk: up to 1,000 items, all or nothing (SPEC §7).

(The reviews' bulk rules are in tests/reviews/test_review_api.py, the cases', surveys' and
conversations' in their own files.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orders.models import Message, Order, Seller
from tests.api_helpers import INGEST_ENTITIES, message_body, order_body, seller_body
from tests.factories import OrderFactory, SellerFactory

pytestmark = pytest.mark.django_db


def orders_of(seller, count: int, *, start: int = 0) -> list[dict]:
    return [
        order_body(f"o-{n}", seller=seller.external_id, buyer=f"b-{n}")
        for n in range(start, start + count)
    ]


def test_bulk_creates_every_order_and_counts_them(staff_client, seller):
    response = staff_client.post("/api/v1/orders/bulk", orders_of(seller, 10), format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 10, "updated": 0}
    assert Order.objects.filter(seller=seller).count() == 10


def test_bulk_counts_replaced_orders_as_updated(staff_client, seller):
    OrderFactory(external_id="o-0", seller=seller)
    OrderFactory(external_id="o-1", seller=seller)
    response = staff_client.post("/api/v1/orders/bulk", orders_of(seller, 5), format="json")
    assert response.json() == {"created": 3, "updated": 2}
    assert Order.objects.count() == 5


def test_bulk_replay_changes_nothing(staff_client, seller):
    items = orders_of(seller, 10)
    staff_client.post("/api/v1/orders/bulk", items, format="json")
    fields = [f.attname for f in Order._meta.concrete_fields if f.name != "modified"]
    before = list(Order.objects.order_by("external_id").values_list(*fields))
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.json() == {"created": 0, "updated": 10}
    assert list(Order.objects.order_by("external_id").values_list(*fields)) == before


def test_one_bad_item_of_ten_refuses_the_batch_and_names_its_index(staff_client, seller):
    items = orders_of(seller, 10)
    items[7]["amount"] = "-5"
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["index"] == 7
    assert errors[0]["external_id"] == "o-7"
    assert "amount" in errors[0]
    assert not Order.objects.exists()


def test_every_bad_item_is_listed(staff_client, seller):
    items: list[Any] = orders_of(seller, 6)
    items[1]["seller"] = "nobody"
    items[4]["created_at"] = "2026-10-01T10:00:00"
    items[5] = "not an object"
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [1, 4, 5]
    assert "seller" in errors[0]
    assert "created_at" in errors[1]
    assert "non_field_errors" in errors[2]
    assert not Order.objects.exists()


def test_duplicate_external_id_in_one_batch_is_an_error_on_the_later_index(staff_client, seller):
    items = orders_of(seller, 4)
    items[3]["external_id"] = "o-1"
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [3]
    assert "first at index 1" in errors[0]["external_id"][0]


def test_missing_external_id_in_an_item_is_an_error(staff_client, seller):
    items = orders_of(seller, 2)
    del items[1]["external_id"]
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["index"] == 1
    assert errors[0]["external_id"] == ["This field is required."]


def test_more_than_1000_items_is_refused(staff_client, seller):
    response = staff_client.post("/api/v1/orders/bulk", orders_of(seller, 1001), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["index"] is None
    assert "1001" in errors[0]["non_field_errors"][0]
    assert "1000" in errors[0]["non_field_errors"][0]
    assert not Order.objects.exists()


@pytest.mark.parametrize("entity", INGEST_ENTITIES)
def test_bulk_of_zero_items_writes_nothing_and_counts_zero(staff_client, entity):
    # SPEC §7: "a JSON list of up to 1,000 items".
    response = staff_client.post(f"/api/v1/{entity}/bulk", [], format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 0, "updated": 0}


@pytest.mark.parametrize("body", [{"external_id": "o-1"}, "o-1", 3, None])
def test_body_that_is_not_a_list_is_refused(staff_client, body):
    response = staff_client.post("/api/v1/orders/bulk", body, format="json")
    assert response.status_code == 400
    assert "list" in response.json()["errors"][0]["non_field_errors"][0]


# The query bounds are PostgreSQL's: SQLite's limit on variables per statement splits the
# batches into more queries.
@pytest.mark.postgres
def test_bulk_of_1000_orders_takes_a_fixed_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    sellers = SellerFactory.create_batch(20)
    items = [
        order_body(f"o-{n}", seller=sellers[n % 20].external_id, buyer=f"b-{n}")
        for n in range(1000)
    ]
    # token, staff permissions, seller refs, existing rows, savepoint, the upsert, release:
    # not one per item
    with django_assert_max_num_queries(7):
        response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 1000, "updated": 0}
    assert Order.objects.count() == 1000


def test_bulk_sellers_create_their_logins(staff_client):
    items = [seller_body(f"s-{n}") for n in range(3)]
    response = staff_client.post("/api/v1/sellers/bulk", items, format="json")
    assert response.json() == {"created": 3, "updated": 0}
    usernames = set(Seller.objects.values_list("user__username", flat=True))
    assert usernames == {"user-s-0", "user-s-1", "user-s-2"}


@pytest.mark.postgres
def test_bulk_of_1000_sellers_takes_a_fixed_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    items = [seller_body(f"s-{n}") for n in range(1000)]
    # token, staff permissions, sellers, logins, savepoint, create logins, upsert, release
    with django_assert_max_num_queries(8):
        response = staff_client.post("/api/v1/sellers/bulk", items, format="json")
    assert response.json() == {"created": 1000, "updated": 0}
    assert Seller.objects.filter(user__isnull=False).count() == 1000


def test_bulk_sellers_with_one_username_twice_refuses_the_later(staff_client):
    items = [seller_body("s-1", username="same"), seller_body("s-2", username="same")]
    response = staff_client.post("/api/v1/sellers/bulk", items, format="json")
    errors = response.json()["errors"]
    assert [(e["index"], "username" in e) for e in errors] == [(1, True)]
    assert not Seller.objects.exists()


def test_bulk_messages_create_and_validate_the_sender(staff_client, seller):
    items = [message_body(f"m-{n}", seller=seller.external_id) for n in range(3)]
    items[2]["sender"] = "admin"
    response = staff_client.post("/api/v1/messages/bulk", items, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 2
    assert "sender" in response.json()["errors"][0]
    items[2]["sender"] = "seller"
    response = staff_client.post("/api/v1/messages/bulk", items, format="json")
    assert response.json() == {"created": 3, "updated": 0}
    assert Message.objects.count() == 3


@pytest.mark.postgres
def test_bulk_of_1000_messages_takes_a_fixed_number_of_queries(
    staff_client, seller, django_assert_max_num_queries
):
    items = [message_body(f"m-{n}", seller=seller.external_id) for n in range(1000)]
    with django_assert_max_num_queries(7):  # with the staff user's permissions
        response = staff_client.post("/api/v1/messages/bulk", items, format="json")
    assert response.json() == {"created": 1000, "updated": 0}


def test_bulk_with_one_external_id_twice_is_refused_at_the_later_index(staff_client, seller):
    items = [order_body("o-1", seller=seller.external_id)] * 2
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert not Order.objects.exists()


def test_bulk_mixing_creates_and_updates_counts_each(staff_client, seller):
    OrderFactory(external_id="o-1", seller=seller, amount=Decimal("1"))
    OrderFactory(external_id="o-3", seller=seller, amount=Decimal("1"))
    response = staff_client.post("/api/v1/orders/bulk", orders_of(seller, 5), format="json")
    assert response.json() == {"created": 3, "updated": 2}
    assert set(Order.objects.values_list("amount", flat=True)) == {Decimal("15000.00")}


def test_bulk_refused_for_one_bad_item_leaves_stored_rows_untouched(staff_client, seller):
    OrderFactory(external_id="o-0", seller=seller, amount=Decimal("1"))
    items = orders_of(seller, 3)
    items[2]["created_at"] = "2026-10-01T10:00:00"
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 2
    assert response.json()["errors"][0]["external_id"] == "o-2"
    assert list(Order.objects.values_list("external_id", "amount")) == [("o-0", Decimal("1"))]


def test_bulk_item_that_is_not_an_object_is_reported_by_index(staff_client, seller):
    items: list[Any] = [*orders_of(seller, 1), "o-1", None]
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert [e["index"] for e in response.json()["errors"]] == [1, 2]


def test_bulk_messages_with_an_unknown_seller_refuse_the_batch(staff_client, seller):
    items = [
        message_body("m-1", seller=seller.external_id),
        message_body("m-2", seller="ghost"),
    ]
    response = staff_client.post("/api/v1/messages/bulk", items, format="json")
    assert response.status_code == 400
    assert "seller" in response.json()["errors"][0]
    assert not Message.objects.exists()
