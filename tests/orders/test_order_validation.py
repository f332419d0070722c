"""SPEC §2 validation of orders: 400 with a field-level message, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from orders.models import Order
from tests.factories import ReviewFactory
from tests.orders.payloads import order_body

pytestmark = pytest.mark.django_db


def put_order(client, body: dict[str, Any]):
    return client.put(f"/api/v1/orders/{body['external_id']}", body, format="json")


def assert_refused(response, field: str, fragment: str = "") -> None:
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if fragment:
        assert any(fragment.lower() in message.lower() for message in errors[field]), errors
    assert not Order.objects.exists()


def test_naive_created_at_is_refused_with_timezone_required(staff_client, seller):
    response = put_order(
        staff_client, order_body(seller=seller.external_id, created_at="2026-10-01T10:00:00")
    )
    assert_refused(response, "created_at", "timezone required")


def test_naive_optional_timestamp_is_refused_too(staff_client, seller):
    response = put_order(
        staff_client, order_body(seller=seller.external_id, due_at="2026-10-04T10:00:00")
    )
    assert_refused(response, "due_at", "timezone required")


def test_timestamp_that_is_not_a_date_is_refused(staff_client, seller):
    response = put_order(staff_client, order_body(seller=seller.external_id, created_at="soon"))
    assert_refused(response, "created_at", "ISO 8601")


@pytest.mark.parametrize("field", ["due_at", "delivered_at", "completed_at", "cancelled_at"])
def test_lifecycle_timestamp_before_created_at_is_refused(staff_client, seller, field):
    body = order_body(seller=seller.external_id, created_at="2026-10-10T10:00:00+09:00")
    body.update(delivered_at="2026-10-11T10:00:00+09:00", completed_at="2026-10-12T10:00:00+09:00")
    if field == "cancelled_at":
        body.update(completed_at=None, cancelled_by="buyer")
    body[field] = "2026-10-10T09:59:59+09:00"
    if field == "completed_at":
        body["delivered_at"] = "2026-10-10T09:00:00+09:00"
    assert_refused(put_order(staff_client, body), field, "before created_at")


def test_same_instant_in_another_offset_is_not_before(staff_client, seller):
    # 01:00Z is 10:00 in Seoul: due_at equals created_at, which is allowed.
    body = order_body(seller=seller.external_id, due_at="2026-10-01T01:00:00Z")
    assert put_order(staff_client, body).status_code == 201


def test_completed_and_cancelled_is_refused(staff_client, seller):
    body = order_body(
        seller=seller.external_id, cancelled_at="2026-10-06T10:00:00+09:00", cancelled_by="buyer"
    )
    assert_refused(put_order(staff_client, body), "cancelled_at", "both completed and cancelled")


def test_cancelled_at_without_cancelled_by_is_refused(staff_client, seller):
    body = order_body(
        seller=seller.external_id, completed_at=None, cancelled_at="2026-10-06T10:00:00+09:00"
    )
    assert_refused(put_order(staff_client, body), "cancelled_by", "required")


def test_cancelled_by_without_cancelled_at_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, completed_at=None, cancelled_by="seller")
    assert_refused(put_order(staff_client, body), "cancelled_by", "unless cancelled_at")


def test_cancelled_by_outside_the_choices_is_refused(staff_client, seller):
    body = order_body(
        seller=seller.external_id,
        completed_at=None,
        cancelled_at="2026-10-06T10:00:00+09:00",
        cancelled_by="marketplace",
    )
    assert_refused(put_order(staff_client, body), "cancelled_by", "one of")


def test_completed_without_delivered_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, delivered_at=None)
    assert_refused(put_order(staff_client, body), "completed_at", "requires delivered_at")


def test_completed_before_delivered_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, completed_at="2026-10-02T10:00:00+09:00")
    assert_refused(put_order(staff_client, body), "completed_at", "before delivered_at")


def test_unknown_seller_is_refused(staff_client, db):
    assert_refused(put_order(staff_client, order_body(seller="nobody")), "seller", "unknown")


def test_negative_amount_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, amount="-0.01")
    assert_refused(put_order(staff_client, body), "amount", "negative")


def test_amount_with_too_many_whole_digits_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, amount="1" + "0" * 14)  # 15 digits
    assert_refused(put_order(staff_client, body), "amount", "too many digits")


def test_amount_with_too_many_decimals_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, amount="10.001")
    assert_refused(put_order(staff_client, body), "amount", "decimal places")


def test_amount_that_is_not_a_number_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, amount="ten thousand")
    assert_refused(put_order(staff_client, body), "amount", "decimal")


def test_infinite_amount_is_refused(staff_client, seller):
    raw = (
        b'{"seller": "%s", "buyer": "b", "amount": 1e999, "created_at": "2026-10-01T10:00:00Z"}'
        % seller.external_id.encode()
    )
    response = staff_client.put("/api/v1/orders/o-1", raw, content_type="application/json")
    assert_refused(response, "amount")


def test_over_long_buyer_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, buyer="b" * 101)
    assert_refused(put_order(staff_client, body), "buyer", "100 characters")


def test_over_long_external_id_in_the_url_is_refused(staff_client, seller):
    body = order_body("o" * 101, seller=seller.external_id)
    assert_refused(put_order(staff_client, body), "external_id", "100 characters")


def test_body_external_id_that_differs_from_the_url_is_refused(staff_client, seller):
    body = order_body("o-2", seller=seller.external_id)
    response = staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert_refused(response, "external_id", "match the URL")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("buyer", 42),
        ("created_at", 1_700_000_000),
        ("amount", [1]),
        ("amount", True),
        ("excluded_from_metrics", "yes"),
        ("seller", {"id": "s-1"}),
    ],
)
def test_wrong_type_is_refused(staff_client, seller, field, value):
    body = {**order_body(seller=seller.external_id), field: value}
    assert_refused(put_order(staff_client, body), field)


@pytest.mark.parametrize("field", ["seller", "buyer", "amount", "created_at"])
def test_missing_required_field_is_refused(staff_client, seller, field):
    body = order_body(seller=seller.external_id)
    del body[field]
    assert_refused(put_order(staff_client, body), field, "required")


def test_null_character_in_a_string_is_refused(staff_client, seller):
    body = order_body(seller=seller.external_id, buyer="b\x00")
    assert_refused(put_order(staff_client, body), "buyer", "null")


def test_every_invalid_field_is_reported_at_once(staff_client, seller):
    body = order_body(seller="nobody", amount="-1", created_at="2026-10-01T10:00:00")
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert {"seller", "amount", "created_at"} <= set(response.json())


def test_reviewed_order_cannot_be_replaced_by_an_uncompleted_one(staff_client):
    ReviewFactory()
    order = Order.objects.select_related("seller").get()
    body = order_body(order.external_id, seller=order.seller.external_id, completed_at=None)
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert "review" in response.json()["completed_at"][0]
    order.refresh_from_db()
    assert order.completed_at is not None


def test_unknown_fields_are_ignored(staff_client, seller):
    body = order_body(seller=seller.external_id, colour="blue")
    assert put_order(staff_client, body).status_code == 201
