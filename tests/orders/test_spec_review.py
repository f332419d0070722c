"""Outside-in probes of the ingestion API against SPEC §2 and §7, knowing only the SPEC.

Each test sends what a marketplace integration (or a hostile client) could send and checks the
answer SPEC promises: field-level 400s with nothing written, 201/200 for create/replace, the
bulk all-or-nothing contract, 401/403/404 scoping, and never a 500.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from orders.models import Message, Order, Seller
from reviews.models import Review
from tests.factories import MessageFactory, OrderFactory, ReviewFactory, SellerFactory, aware
from tests.orders.payloads import message_body, order_body, review_body, seller_body

pytestmark = pytest.mark.django_db

CREATED = "2026-10-01T10:00:00+09:00"
ONE_SECOND_BEFORE = "2026-10-01T09:59:59+09:00"


def put_order(client: APIClient, body: dict[str, Any], external_id: str = "o-1") -> Any:
    return client.put(f"/api/v1/orders/{quote(external_id)}", body, format="json")


def open_order(seller: Seller, **overrides: Any) -> dict[str, Any]:
    """An order in progress: no delivery, completion or cancellation."""
    body = order_body(seller=seller.external_id, due_at=None, delivered_at=None, completed_at=None)
    return {**body, **overrides}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- §2 order lifecycle boundaries ----------------------------------------------------------


def test_due_at_equal_to_created_at_is_accepted(staff_client, seller):
    response = put_order(staff_client, open_order(seller, due_at=CREATED))
    assert response.status_code == 201
    assert Order.objects.get().due_at == instant(CREATED)


@pytest.mark.parametrize("field", ["due_at", "delivered_at", "cancelled_at"])
def test_timestamp_one_second_before_created_at_is_a_field_error(staff_client, seller, field):
    extra = {"cancelled_by": "buyer"} if field == "cancelled_at" else {}
    response = put_order(staff_client, open_order(seller, **{field: ONE_SECOND_BEFORE}, **extra))
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()


def test_completed_at_one_second_before_created_at_is_a_field_error(staff_client, seller):
    body = open_order(seller, delivered_at=CREATED, completed_at=ONE_SECOND_BEFORE)
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert "completed_at" in response.json()
    assert not Order.objects.exists()


def test_completed_at_equal_to_delivered_at_is_accepted(staff_client, seller):
    at = "2026-10-03T10:00:00+09:00"
    response = put_order(staff_client, open_order(seller, delivered_at=at, completed_at=at))
    assert response.status_code == 201
    assert response.json()["status"] == "completed"


def test_completed_one_second_before_delivered_is_refused(staff_client, seller):
    body = open_order(
        seller, delivered_at="2026-10-03T10:00:00+09:00", completed_at="2026-10-03T09:59:59+09:00"
    )
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert "completed_at" in response.json()


def test_every_timestamp_at_created_at_is_accepted(staff_client, seller):
    body = open_order(seller, due_at=CREATED, delivered_at=CREATED, completed_at=CREATED)
    assert put_order(staff_client, body).status_code == 201


def test_cancelled_by_without_cancelled_at_is_a_cancelled_by_error(staff_client, seller):
    response = put_order(staff_client, open_order(seller, cancelled_by="seller"))
    assert response.status_code == 400
    assert "cancelled_by" in response.json()
    assert not Order.objects.exists()


def test_cancelled_at_with_null_cancelled_by_is_refused(staff_client, seller):
    body = open_order(seller, cancelled_at="2026-10-02T10:00:00+09:00", cancelled_by=None)
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert "cancelled_by" in response.json()


@pytest.mark.parametrize("who", ["buyer", "seller", "admin"])
def test_each_cancelled_by_choice_is_accepted(staff_client, seller, who):
    body = open_order(seller, cancelled_at="2026-10-02T10:00:00+09:00", cancelled_by=who)
    response = put_order(staff_client, body)
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["cancelled_by"]) == ("cancelled", who)


def test_an_order_delivered_and_then_cancelled_is_accepted_as_cancelled(staff_client, seller):
    body = open_order(
        seller,
        delivered_at="2026-10-03T10:00:00+09:00",
        cancelled_at="2026-10-06T10:00:00+09:00",
        cancelled_by="buyer",
    )
    response = put_order(staff_client, body)
    assert response.status_code == 201
    assert response.json()["status"] == "cancelled"
    order = Order.objects.get()
    assert order.delivered_at is not None and order.cancelled_at is not None


def test_completed_and_cancelled_is_refused_and_nothing_written(staff_client, seller):
    body = order_body(
        seller=seller.external_id, cancelled_at="2026-10-06T10:00:00+09:00", cancelled_by="buyer"
    )
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({}, "in_progress"),
        ({"delivered_at": "2026-10-03T10:00:00+09:00"}, "delivered"),
        (
            {
                "delivered_at": "2026-10-03T10:00:00+09:00",
                "completed_at": "2026-10-05T10:00:00+09:00",
            },
            "completed",
        ),
    ],
)
def test_status_is_derived_from_the_timestamps(staff_client, seller, extra, status):
    response = put_order(staff_client, open_order(seller, **extra))
    assert response.json()["status"] == status


# --- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("0", Decimal("0")),
        (0, Decimal("0")),
        ("15000", Decimal("15000")),
        (15000, Decimal("15000")),
        (15000.5, Decimal("15000.50")),
        ("0.1", Decimal("0.10")),
        ("1.500", Decimal("1.50")),
        ("99999999999999.99", Decimal("99999999999999.99")),
    ],
)
def test_amount_as_string_or_number_is_stored_exactly(staff_client, seller, sent, stored):
    response = put_order(staff_client, open_order(seller, amount=sent))
    assert response.status_code == 201, response.json()
    assert Order.objects.get().amount == stored


@pytest.mark.parametrize(
    "sent",
    [
        "-0.01",
        -1,
        "1.005",
        0.001,
        "1e20",
        10**15,
        "100000000000000",
        "NaN",
        "Infinity",
        "abc",
        True,
        [],
        {},
        "1,000",
    ],
)
def test_unstorable_amount_is_an_amount_error(staff_client, seller, sent):
    response = put_order(staff_client, open_order(seller, amount=sent))
    assert response.status_code == 400
    assert "amount" in response.json()
    assert not Order.objects.exists()


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        "2026-10-01T01:00:00Z",
        "2026-10-01T01:00:00+00:00",
        "2026-10-01T10:00:00+09:00",
        "2026-09-30T21:00:00-04:00",
        "2026-10-01T01:00:00.000Z",
    ],
)
def test_one_instant_in_any_offset_is_stored_as_that_instant(staff_client, seller, sent):
    response = put_order(staff_client, open_order(seller, created_at=sent))
    assert response.status_code == 201
    assert Order.objects.get().created_at == instant("2026-10-01T01:00:00+00:00")
    assert instant(response.json()["created_at"]) == instant("2026-10-01T01:00:00+00:00")


@pytest.mark.parametrize("sent", ["2026-10-01T10:00:00", "2026-10-01", "2026-10-01 10:00"])
def test_timestamp_without_offset_is_refused_with_a_timezone_message(staff_client, seller, sent):
    response = put_order(staff_client, open_order(seller, created_at=sent))
    assert response.status_code == 400
    assert "imezone" in response.json()["created_at"][0]


@pytest.mark.parametrize(
    "sent",
    [
        "yesterday",
        "2026-13-01T10:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-10-01T25:00:00Z",
        1759280400,
        "0001-01-01T00:00:00+09:00",
        "9999-12-31T23:59:59-09:00",
        "x" * 100,
    ],
)
def test_unreadable_timestamp_is_a_field_error(staff_client, seller, sent):
    response = put_order(staff_client, open_order(seller, created_at=sent))
    assert response.status_code == 400
    assert "created_at" in response.json()


@pytest.mark.parametrize("sent", ["9999-12-31T23:59:59Z", "1899-12-31T23:59:59Z"])
def test_timestamp_outside_years_1900_to_2999_is_refused_and_lists_keep_working(
    staff_client, seller, sent
):
    # 9999-12-31T23:59:59Z used to be stored, then fail to render in Asia/Seoul: the PUT
    # answered 400 after writing, and every later GET /orders answered 400.
    response = put_order(staff_client, open_order(seller, created_at=sent))
    assert response.status_code == 400
    assert "out of range" in response.json()["created_at"][0]
    assert not Order.objects.exists()
    assert staff_client.get("/api/v1/orders").status_code == 200


@pytest.mark.parametrize("sent", ["1900-01-01T00:00:00Z", "2999-12-31T23:59:59Z"])
def test_timestamps_at_the_ends_of_the_accepted_range_render(staff_client, seller, sent):
    response = put_order(staff_client, open_order(seller, created_at=sent))
    assert response.status_code == 201
    assert instant(response.json()["created_at"]) == instant(sent)
    assert staff_client.get("/api/v1/orders").status_code == 200


# --- required fields, nulls, empties, unknowns ---------------------------------------------


@pytest.mark.parametrize("field", ["seller", "buyer", "amount", "created_at"])
@pytest.mark.parametrize("how", ["missing", "null", "empty"])
def test_required_order_field_missing_null_or_empty_is_a_field_error(
    staff_client, seller, field, how
):
    body = open_order(seller)
    if how == "missing":
        del body[field]
    else:
        body[field] = None if how == "null" else ""
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()


def test_unknown_fields_are_ignored_and_not_echoed(staff_client, seller):
    body = open_order(seller, status="completed", colour="blue", id=99)
    response = put_order(staff_client, body)
    assert response.status_code == 201
    assert "colour" not in response.json()
    assert response.json()["status"] == "in_progress"


def test_order_of_an_unknown_seller_is_a_seller_error(staff_client, db):
    response = put_order(staff_client, order_body(seller="nobody"))
    assert response.status_code == 400
    assert "seller" in response.json()


# --- external ids -----------------------------------------------------------------------------


def test_body_external_id_equal_to_the_url_is_accepted(staff_client, seller):
    body = open_order(seller, external_id="o-1")
    assert put_order(staff_client, body, "o-1").status_code == 201


def test_body_external_id_other_than_the_url_is_refused_and_nothing_written(staff_client, seller):
    response = put_order(staff_client, open_order(seller, external_id="o-2"), "o-1")
    assert response.status_code == 400
    assert "external_id" in response.json()
    assert not Order.objects.exists()


def test_unicode_external_id_round_trips(staff_client, seller):
    external_id = "주문-①-ñ"
    response = put_order(staff_client, open_order(seller, external_id=external_id), external_id)
    assert response.status_code == 201
    fetched = staff_client.get(f"/api/v1/orders/{quote(external_id)}")
    assert fetched.json()["external_id"] == external_id


def test_external_id_of_100_characters_is_accepted_and_101_refused(staff_client, seller):
    body = open_order(seller)
    del body["external_id"]
    assert put_order(staff_client, body, "x" * 100).status_code == 201
    response = put_order(staff_client, body, "y" * 101)
    assert response.status_code == 400
    assert "external_id" in response.json()
    assert staff_client.get("/api/v1/orders/" + "y" * 5000).status_code == 404


# --- PUT replay ------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", ["sellers", "orders", "messages", "reviews"])
def test_put_replay_is_200_with_an_identical_body(staff_client, seller, entity):
    OrderFactory(
        external_id="o-reviewed",
        seller=seller,
        delivered_at=aware("2026-10-02 10:00"),
        completed_at=aware("2026-10-03 10:00"),
    )
    bodies = {
        "sellers": seller_body("s-9"),
        "orders": order_body("o-9", seller=seller.external_id),
        "messages": message_body("m-9", seller=seller.external_id),
        "reviews": review_body("r-9", order="o-reviewed"),
    }
    external_id = bodies[entity]["external_id"]
    url = f"/api/v1/{entity}/{external_id}"
    first = staff_client.put(url, bodies[entity], format="json")
    second = staff_client.put(url, bodies[entity], format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert staff_client.get(url).json() == first.json()


# --- §7 bulk ---------------------------------------------------------------------------------


def orders_of(seller: Seller, count: int) -> list[dict[str, Any]]:
    return [order_body(f"o-{n}", seller=seller.external_id) for n in range(count)]


@pytest.mark.parametrize("entity", ["sellers", "orders", "messages", "reviews"])
def test_bulk_of_zero_items_writes_nothing_and_counts_zero(staff_client, entity):
    response = staff_client.post(f"/api/v1/{entity}/bulk", [], format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 0, "updated": 0}


def test_bulk_of_1000_items_is_accepted(staff_client, seller):
    response = staff_client.post("/api/v1/orders/bulk", orders_of(seller, 1000), format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 1000, "updated": 0}
    assert Order.objects.count() == 1000


def test_bulk_of_1001_items_is_refused_in_the_errors_shape(staff_client, seller):
    response = staff_client.post("/api/v1/orders/bulk", orders_of(seller, 1001), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert "1000" in errors[0]["non_field_errors"][0]
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", [{"external_id": "o-1"}, "o-1", 3, None])
def test_bulk_body_that_is_not_a_list_is_refused_in_the_errors_shape(staff_client, body):
    response = staff_client.post("/api/v1/orders/bulk", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["non_field_errors"]


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


def test_bulk_item_without_external_id_is_an_external_id_error(staff_client, seller):
    item = order_body(seller=seller.external_id)
    del item["external_id"]
    response = staff_client.post("/api/v1/orders/bulk", [item], format="json")
    assert response.status_code == 400
    assert "external_id" in response.json()["errors"][0]


def test_bulk_reviews_of_an_uncompleted_order_refuse_the_batch(staff_client, seller):
    OrderFactory(
        external_id="o-done",
        seller=seller,
        delivered_at=aware("2026-10-02 10:00"),
        completed_at=aware("2026-10-03 10:00"),
    )
    OrderFactory(external_id="o-open", seller=seller)
    items = [review_body("r-1", order="o-done"), review_body("r-2", order="o-open")]
    response = staff_client.post("/api/v1/reviews/bulk", items, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert not Review.objects.exists()


def test_bulk_messages_with_an_unknown_seller_refuse_the_batch(staff_client, seller):
    items = [
        message_body("m-1", seller=seller.external_id),
        message_body("m-2", seller="ghost"),
    ]
    response = staff_client.post("/api/v1/messages/bulk", items, format="json")
    assert response.status_code == 400
    assert "seller" in response.json()["errors"][0]
    assert not Message.objects.exists()


# --- reviews ----------------------------------------------------------------------------------


@pytest.fixture
def completed_order(seller):
    return OrderFactory(
        external_id="o-done",
        seller=seller,
        delivered_at=aware("2026-10-02 10:00"),
        completed_at=aware("2026-10-03 10:00"),
    )


def test_rating_5_0_as_a_json_number_is_stored_as_5(staff_client, completed_order):
    body = review_body(order=completed_order.external_id, rating=5.0)
    response = staff_client.put("/api/v1/reviews/r-1", body, format="json")
    assert response.status_code == 201
    assert Review.objects.get().rating == 5


@pytest.mark.parametrize("rating", [True, False, 0, 6, -1, 4.5, "five", None, [5]])
def test_rating_that_is_not_an_integer_1_to_5_is_a_rating_error(
    staff_client, completed_order, rating
):
    body = review_body(order=completed_order.external_id, rating=rating)
    response = staff_client.put("/api/v1/reviews/r-1", body, format="json")
    assert response.status_code == 400
    assert "rating" in response.json()
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"delivered_at": aware("2026-10-02 10:00")},
        {"cancelled_at": aware("2026-10-02 10:00"), "cancelled_by": "buyer"},
    ],
)
def test_review_of_an_order_that_is_not_completed_is_an_order_error(staff_client, seller, extra):
    OrderFactory(external_id="o-1", seller=seller, **extra)
    response = staff_client.put("/api/v1/reviews/r-1", review_body(order="o-1"), format="json")
    assert response.status_code == 400
    assert "order" in response.json()


def test_rating_as_a_json_string_is_refused_as_not_an_integer(staff_client, completed_order):
    body = review_body(order=completed_order.external_id, rating="5")
    response = staff_client.put("/api/v1/reviews/r-1", body, format="json")
    assert response.status_code == 400
    assert "integer" in response.json()["rating"][0]


def test_review_comment_may_be_left_out_or_null(staff_client, completed_order):
    body = review_body(order=completed_order.external_id, comment=None)
    assert staff_client.put("/api/v1/reviews/r-1", body, format="json").status_code == 201
    del body["comment"]
    assert staff_client.put("/api/v1/reviews/r-1", body, format="json").status_code == 200


def test_reviews_seller_is_its_orders_seller(staff_client, completed_order):
    body = review_body(order=completed_order.external_id, seller="someone-else")
    response = staff_client.put("/api/v1/reviews/r-1", body, format="json")
    assert response.json()["seller"] == completed_order.seller.external_id


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender", "admin"),
        ("sender", None),
        ("sent_at", "2026-10-10T09:00:00"),
        ("conversation", ""),
        ("buyer", None),
        ("seller", "ghost"),
    ],
)
def test_invalid_message_is_a_field_error(staff_client, seller, field, value):
    body = {**message_body(seller=seller.external_id), field: value}
    response = staff_client.put("/api/v1/messages/m-1", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Message.objects.exists()


def test_message_body_text_is_not_stored_or_returned(staff_client, seller):
    body = message_body(seller=seller.external_id, body="secret", text="secret")
    response = staff_client.put("/api/v1/messages/m-1", body, format="json")
    assert response.status_code == 201
    assert "secret" not in response.content.decode()


# --- sellers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["username", "joined_at"])
def test_seller_without_a_required_field_is_refused(staff_client, field):
    body = seller_body("s-1")
    del body[field]
    response = staff_client.put("/api/v1/sellers/s-1", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Seller.objects.exists()


def test_seller_with_a_korean_username_is_accepted(staff_client):
    response = staff_client.put(
        "/api/v1/sellers/s-1", seller_body("s-1", username="김철수"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["username"] == "김철수"


# --- §7 auth and scoping ----------------------------------------------------------------------


@pytest.fixture
def other_sellers_data(db):
    other = SellerFactory(external_id="s-other")
    order = OrderFactory(
        external_id="o-other",
        seller=other,
        delivered_at=aware("2026-10-02 10:00"),
        completed_at=aware("2026-10-03 10:00"),
    )
    ReviewFactory(external_id="r-other", order=order)
    MessageFactory(external_id="m-other", seller=other)
    return other


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sellers/s-other",
        "/api/v1/orders/o-other",
        "/api/v1/messages/m-other",
        "/api/v1/reviews/r-other",
    ],
)
def test_seller_reading_another_sellers_object_gets_404(seller_client, other_sellers_data, url):
    assert seller_client.get(url).status_code == 404


@pytest.mark.parametrize("entity", ["sellers", "orders", "messages", "reviews"])
def test_seller_listing_with_another_sellers_filter_sees_nothing(
    seller_client, other_sellers_data, entity
):
    response = seller_client.get(f"/api/v1/{entity}", {"seller": "s-other"})
    assert response.status_code == 200
    assert "s-other" not in response.content.decode()
    assert "other" not in str(response.json()["results"])


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/sellers/s-x"),
        ("put", "/api/v1/orders/o-x"),
        ("put", "/api/v1/messages/m-x"),
        ("put", "/api/v1/reviews/r-x"),
        ("post", "/api/v1/orders/bulk"),
    ],
)
def test_seller_user_writing_gets_403_and_nothing_is_written(seller_client, seller, method, url):
    body: Any = order_body(seller=seller.external_id)
    if url.endswith("bulk"):
        body = [body]
    response = getattr(seller_client, method)(url, body, format="json")
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_seller_user_putting_its_own_order_gets_403(seller_client, seller):
    OrderFactory(external_id="o-mine", seller=seller)
    body = order_body("o-mine", seller=seller.external_id, excluded_from_metrics=True)
    assert seller_client.put("/api/v1/orders/o-mine", body, format="json").status_code == 403
    assert Order.objects.get().excluded_from_metrics is False


def test_unauthenticated_is_401_on_reads_and_writes(api_client, seller):
    assert api_client.get("/api/v1/orders").status_code == 401
    body = order_body(seller=seller.external_id)
    assert api_client.put("/api/v1/orders/o-1", body, format="json").status_code == 401
    assert api_client.post("/api/v1/orders/bulk", [body], format="json").status_code == 401
    assert not Order.objects.exists()


def test_staff_session_login_can_write(staff_user, seller):
    client = APIClient()
    client.force_login(staff_user)
    body = order_body(seller=seller.external_id)
    assert client.put("/api/v1/orders/o-1", body, format="json").status_code == 201


def test_staff_token_and_session_see_the_same_list(staff_client, staff_user, seller):
    OrderFactory.create_batch(3, seller=seller)
    session = APIClient()
    session.force_login(staff_user)
    assert session.get("/api/v1/orders").json() == staff_client.get("/api/v1/orders").json()


# --- lists ------------------------------------------------------------------------------------


def test_list_pagination_shape(staff_client, seller):
    OrderFactory.create_batch(3, seller=seller)
    body = staff_client.get("/api/v1/orders", {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "abc"},
        {"page": "999"},
        {"page_size": "-1"},
        {"page_size": "abc"},
        {"page_size": "100000"},
        {"seller": ""},
        {"seller": "x" * 5000},
    ],
)
def test_odd_list_parameters_are_never_a_server_error(staff_client, seller, params):
    OrderFactory(seller=seller)
    assert staff_client.get("/api/v1/orders", params).status_code in (200, 404)


# --- excluded_from_metrics ---------------------------------------------------------------------


def test_excluded_from_metrics_defaults_to_false(staff_client, seller):
    response = put_order(staff_client, order_body(seller=seller.external_id))
    assert response.json()["excluded_from_metrics"] is False


def test_excluded_from_metrics_can_be_set_and_cleared(staff_client, seller):
    body = order_body(seller=seller.external_id, excluded_from_metrics=True)
    assert put_order(staff_client, body).json()["excluded_from_metrics"] is True
    body["excluded_from_metrics"] = False
    assert put_order(staff_client, body).json()["excluded_from_metrics"] is False


@pytest.mark.parametrize("sent", ["yes", 1, "true", []])
def test_excluded_from_metrics_that_is_not_a_boolean_is_refused(staff_client, seller, sent):
    body = order_body(seller=seller.external_id, excluded_from_metrics=sent)
    response = put_order(staff_client, body)
    assert response.status_code == 400
    assert "excluded_from_metrics" in response.json()


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/api/v1/orders/o-1"),
        ("patch", "/api/v1/orders/o-1"),
        ("post", "/api/v1/orders/o-1"),
        ("get", "/api/v1/orders/bulk"),
        ("put", "/api/v1/orders"),
    ],
)
def test_unsupported_method_is_405(staff_client, seller, method, url):
    OrderFactory(external_id="o-1", seller=seller)
    assert getattr(staff_client, method)(url, {}, format="json").status_code == 405


# --- request size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"), [("post", "/api/v1/orders/bulk"), ("put", "/api/v1/orders/o-1")]
)
def test_body_over_the_upload_limit_is_a_json_413_and_nothing_written(
    staff_client, seller, settings, method, url
):
    # Was Django's HTML "Bad Request (400)" page; 1,000 reviews with long Korean comments
    # (~15 MB) used to reach the upload limit.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body: Any = order_body(seller=seller.external_id, buyer="b" * 100, comment="x" * 2000)
    if url.endswith("bulk"):
        body = [body]
    response = getattr(staff_client, method)(url, body, format="json")
    assert response.status_code == 413
    assert "fewer items" in response.json()["detail"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/orders/bulk"),
        ("put", "/api/v1/orders/o-1"),
        ("put", "/api/v1/reviews/r-1"),
        ("post", "/api/v1/sellers/bulk"),
    ],
)
@pytest.mark.parametrize(
    "raw", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000]
)
def test_deeply_nested_json_is_a_400_not_a_500(staff_client, method, url, raw):
    # Python's json raises RecursionError past ~1,000 levels, which DRF let through as a 500.
    response = getattr(staff_client, method)(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
