"""PUT creates (201) or replaces (200); the same event twice changes nothing (SPEC §7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model

from orders.models import Message, Order, Seller
from tests.api_helpers import (
    INGEST_ENTITIES,
    case_body,
    conversation_body,
    message_body,
    open_order_body,
    order_body,
    put_order,
    put_seller,
    review_body,
    seller_body,
    survey_body,
)
from tests.factories import OrderFactory, UserFactory, aware

pytestmark = pytest.mark.django_db

DOMAIN_FIELDS = [
    "external_id",
    "seller_id",
    "buyer",
    "amount",
    "currency",
    "created_at",
    "due_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
    "cancelled_by",
    "excluded_from_metrics",
]


def stored_order(external_id: str) -> dict:
    return Order.objects.filter(external_id=external_id).values(*DOMAIN_FIELDS, "id").get()


def test_put_creates_an_order_with_the_sent_values(staff_client, seller):
    response = staff_client.put(
        "/api/v1/orders/o-1", order_body(seller=seller.external_id), format="json"
    )
    assert response.status_code == 201
    order = Order.objects.get(external_id="o-1")
    assert order.seller_id == seller.id
    assert order.amount == Decimal("15000.00")
    assert order.currency == "KRW"
    assert order.created_at == aware("2026-10-01 10:00")
    assert order.completed_at == aware("2026-10-05 10:00")
    assert (order.cancelled_at, order.cancelled_by, order.excluded_from_metrics) == (
        None,
        "",
        False,
    )


def test_put_response_shows_spec_fields_and_derived_status(staff_client, seller):
    body = order_body(seller=seller.external_id)
    data = staff_client.put("/api/v1/orders/o-1", body, format="json").json()
    assert data["external_id"] == "o-1"
    assert data["seller"] == seller.external_id
    assert data["status"] == "completed"
    assert data["amount"] == "15000.00"
    assert data["cancelled_by"] is None


def test_replaying_the_same_put_returns_200_and_leaves_the_row_unchanged(staff_client, seller):
    body = order_body(seller=seller.external_id)
    staff_client.put("/api/v1/orders/o-1", body, format="json")
    before = stored_order("o-1")
    response = staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert response.status_code == 200
    assert stored_order("o-1") == before
    assert Order.objects.count() == 1


def test_put_replaces_every_field(staff_client, seller):
    staff_client.put("/api/v1/orders/o-1", order_body(seller=seller.external_id), format="json")
    cancelled = order_body(
        seller=seller.external_id,
        delivered_at=None,
        completed_at=None,
        cancelled_at="2026-10-02T10:00:00+09:00",
        cancelled_by="seller",
        amount=0,
    )
    response = staff_client.put("/api/v1/orders/o-1", cancelled, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    order = Order.objects.get(external_id="o-1")
    assert (order.delivered_at, order.completed_at) == (None, None)
    assert (order.cancelled_at, order.cancelled_by) == (aware("2026-10-02 10:00"), "seller")
    assert order.amount == Decimal("0")


def test_put_without_excluded_from_metrics_keeps_the_stored_flag(staff_client, seller):
    OrderFactory(external_id="o-1", seller=seller, excluded_from_metrics=True)
    body = order_body(seller=seller.external_id)
    assert "excluded_from_metrics" not in body
    staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert Order.objects.get(external_id="o-1").excluded_from_metrics is True


def test_put_with_excluded_from_metrics_sets_it(staff_client, seller):
    OrderFactory(external_id="o-1", seller=seller, excluded_from_metrics=True)
    body = order_body(seller=seller.external_id, excluded_from_metrics=False)
    staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert Order.objects.get(external_id="o-1").excluded_from_metrics is False


def test_amount_as_json_number_is_accepted(staff_client, seller):
    body = order_body(seller=seller.external_id, amount=12500.5)
    assert staff_client.put("/api/v1/orders/o-1", body, format="json").status_code == 201
    assert Order.objects.get().amount == Decimal("12500.50")


def test_trailing_slash_is_accepted(staff_client, seller):
    body = order_body(seller=seller.external_id)
    assert staff_client.put("/api/v1/orders/o-1/", body, format="json").status_code == 201
    assert staff_client.get("/api/v1/orders/o-1/").json()["external_id"] == "o-1"


def test_timestamps_are_returned_with_an_offset(staff_client, seller):
    body = order_body(seller=seller.external_id, created_at="2026-10-01T01:00:00Z")
    data = staff_client.put("/api/v1/orders/o-1", body, format="json").json()
    assert data["created_at"] == "2026-10-01T10:00:00+09:00"


@pytest.mark.parametrize("entity", INGEST_ENTITIES)
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
        "cases": case_body("k-9", order="o-reviewed"),
        "surveys": survey_body("v-9", order="o-reviewed"),
        "conversations": conversation_body("c-9", seller=seller.external_id),
    }
    external_id = bodies[entity]["external_id"]
    url = f"/api/v1/{entity}/{external_id}"
    first = staff_client.put(url, bodies[entity], format="json")
    second = staff_client.put(url, bodies[entity], format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert staff_client.get(url).json() == first.json()


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
    response = put_order(staff_client, open_order_body(seller=seller.external_id, **extra))
    assert response.json()["status"] == status


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
        # SQLite keeps decimals as REAL: 16 significant digits do not come back exactly there.
        pytest.param("99999999999999.99", Decimal("99999999999999.99"), marks=pytest.mark.postgres),
    ],
)
def test_amount_as_string_or_number_is_stored_exactly(staff_client, seller, sent, stored):
    response = put_order(staff_client, open_order_body(seller=seller.external_id, amount=sent))
    assert response.status_code == 201, response.json()
    assert Order.objects.get().amount == stored


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
    response = put_order(staff_client, open_order_body(seller=seller.external_id, created_at=sent))
    assert response.status_code == 201
    instant = datetime.fromisoformat("2026-10-01T01:00:00+00:00")
    assert Order.objects.get().created_at == instant
    assert datetime.fromisoformat(response.json()["created_at"]) == instant


def test_unicode_external_id_round_trips(staff_client, seller):
    external_id = "주문-①-ñ"
    body = open_order_body(external_id, seller=seller.external_id)
    response = put_order(staff_client, body)
    assert response.status_code == 201
    fetched = staff_client.get(f"/api/v1/orders/{quote(external_id)}")
    assert fetched.json()["external_id"] == external_id


def test_excluded_from_metrics_defaults_to_false(staff_client, seller):
    response = put_order(staff_client, order_body(seller=seller.external_id))
    assert response.json()["excluded_from_metrics"] is False


def test_excluded_from_metrics_can_be_set_and_cleared(staff_client, seller):
    body = order_body(seller=seller.external_id, excluded_from_metrics=True)
    assert put_order(staff_client, body).json()["excluded_from_metrics"] is True
    body["excluded_from_metrics"] = False
    assert put_order(staff_client, body).json()["excluded_from_metrics"] is False


def test_message_put_creates_then_replays_unchanged(staff_client, seller):
    body = message_body(seller=seller.external_id)
    first = staff_client.put("/api/v1/messages/m-1", body, format="json")
    second = staff_client.put("/api/v1/messages/m-1", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    message = Message.objects.get()
    assert (message.sender, message.sent_at) == ("buyer", aware("2026-10-10 09:00"))
    assert second.json() == first.json()


# --- sellers -------------------------------------------------------------------------------


def test_seller_put_creates_a_linked_login_with_an_unusable_password(staff_client):
    response = staff_client.put("/api/v1/sellers/s-1", seller_body(), format="json")
    assert response.status_code == 201
    seller = Seller.objects.select_related("user").get(external_id="s-1")
    assert seller.user is not None
    assert seller.user.username == "user-s-1"
    assert not seller.user.has_usable_password()
    assert not seller.user.is_staff


def test_seller_replay_keeps_the_same_login(staff_client):
    staff_client.put("/api/v1/sellers/s-1", seller_body(), format="json")
    user_id = Seller.objects.get().user_id
    response = staff_client.put("/api/v1/sellers/s-1", seller_body(), format="json")
    assert response.status_code == 200
    assert Seller.objects.get().user_id == user_id
    assert get_user_model().objects.filter(username="user-s-1").count() == 1


def test_renaming_a_seller_renames_its_login(staff_client):
    staff_client.put("/api/v1/sellers/s-1", seller_body(), format="json")
    user_id = Seller.objects.get().user_id
    assert user_id is not None
    staff_client.put("/api/v1/sellers/s-1", seller_body(username="renamed"), format="json")
    assert get_user_model().objects.get(id=user_id).username == "renamed"


def test_seller_username_taken_by_a_non_seller_login_is_refused(staff_client):
    UserFactory(username="taken")
    response = staff_client.put("/api/v1/sellers/s-1", seller_body(username="taken"), format="json")
    assert response.status_code == 400
    assert "username" in response.json()
    assert not Seller.objects.exists()


def test_seller_username_of_another_seller_is_refused(staff_client, seller):
    response = staff_client.put(
        "/api/v1/sellers/s-new", seller_body("s-new", username=seller.username), format="json"
    )
    assert response.status_code == 400
    assert "another seller" in response.json()["username"][0]


def test_seller_with_naive_joined_at_is_refused(staff_client):
    body = seller_body(joined_at="2025-01-01T00:00:00")
    response = staff_client.put("/api/v1/sellers/s-1", body, format="json")
    assert response.status_code == 400
    assert "Timezone required" in response.json()["joined_at"][0]


def test_seller_username_with_spaces_is_refused(staff_client):
    response = staff_client.put(
        "/api/v1/sellers/s-1", seller_body(username="two words"), format="json"
    )
    assert response.status_code == 400
    assert "username" in response.json()


@pytest.mark.parametrize("field", ["username", "joined_at"])
def test_seller_without_a_required_field_is_refused(staff_client, field):
    body = seller_body("s-1")
    del body[field]
    response = put_seller(staff_client, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Seller.objects.exists()


def test_seller_with_a_korean_username_is_accepted(staff_client):
    response = put_seller(staff_client, seller_body("s-1", username="김철수"))
    assert response.status_code == 201
    assert response.json()["username"] == "김철수"
