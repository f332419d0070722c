"""What the ingestion API accepts as an external id and as a number (SPEC §7).

- An external id must be addressable by the per-item URL ``/api/v1/<entity>/<external_id>``:
  one path segment (no ``/``), not ``.`` or ``..`` (clients resolve those segments away), and
  not ``bulk`` (the path of the bulk endpoint).
- A number is a JSON number or a string of plain ASCII digits: ``-?[0-9]+(\\.[0-9]+)?``. No
  ``+``, exponent, spaces, ``_`` separators or non-ASCII digits (Python's ``Decimal()`` and
  ``int()`` accept all of these).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from orders.models import Case, Conversation, Message, Order, Seller
from reviews.models import Review, Survey
from tests.api_helpers import (
    INGEST_ENTITIES,
    case_body,
    conversation_body,
    message_body,
    open_order_body,
    order_body,
    review_body,
    seller_body,
    survey_body,
)

pytestmark = pytest.mark.django_db

UNADDRESSABLE_IDS = ["a/b", "/", "bulk", ".", ".."]


def body_of(entity: str, external_id: str, *, seller: str, order: str) -> dict[str, Any]:
    return {
        "sellers": lambda: seller_body(external_id, username="u-new"),
        "orders": lambda: open_order_body(external_id, seller=seller),
        "messages": lambda: message_body(external_id, seller=seller),
        "reviews": lambda: review_body(external_id, order=order),
        "cases": lambda: case_body(external_id, order=order),
        "surveys": lambda: survey_body(external_id, order=order),
        "conversations": lambda: conversation_body(external_id, seller=seller),
    }[entity]()


MODELS = {
    "sellers": Seller,
    "orders": Order,
    "messages": Message,
    "reviews": Review,
    "cases": Case,
    "surveys": Survey,
    "conversations": Conversation,
}


@pytest.fixture
def completed_order(staff_client, seller) -> str:
    response = staff_client.put(
        "/api/v1/orders/o-done", order_body("o-done", seller=seller.external_id), format="json"
    )
    assert response.status_code == 201
    return "o-done"


@pytest.mark.parametrize("entity", INGEST_ENTITIES)
@pytest.mark.parametrize("external_id", UNADDRESSABLE_IDS)
def test_bulk_refuses_an_external_id_the_item_url_cannot_address(
    staff_client, seller, completed_order, entity, external_id
):
    before = MODELS[entity]._default_manager.count()
    body = body_of(entity, external_id, seller=seller.external_id, order=completed_order)
    response = staff_client.post(f"/api/v1/{entity}/bulk", [body], format="json")
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["index"] == 0
    assert any("url" in message.lower() for message in error["external_id"]), error
    assert MODELS[entity]._default_manager.count() == before


@pytest.mark.parametrize("external_id", ["Bulk", "bulk-1", "a.b", "...", "주문 #1?"])
def test_bulk_accepts_ids_that_look_close_but_are_addressable(staff_client, seller, external_id):
    body = open_order_body(external_id, seller=seller.external_id)
    response = staff_client.post("/api/v1/orders/bulk", [body], format="json")
    assert response.json() == {"created": 1, "updated": 0}


def test_put_refuses_the_id_dot(staff_client, seller):
    body = open_order_body(".", seller=seller.external_id)
    response = staff_client.put("/api/v1/orders/.", body, format="json")
    assert response.status_code == 400, response.content
    assert any("url" in message.lower() for message in response.json()["external_id"])
    assert not Order.objects.exists()


LENIENT_NUMBERS = ["1_000", "１２", "٣", " 12 ", "12 ", "+12", "1e3", "1E3", "12.", ".5", "0x10"]


@pytest.mark.parametrize("amount", LENIENT_NUMBERS)
def test_amount_that_is_not_plain_ascii_decimal_is_refused(staff_client, seller, amount):
    body = open_order_body(seller=seller.external_id, amount=amount)
    response = staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert response.status_code == 400, response.content
    assert any("digits" in message for message in response.json()["amount"])
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("12", "12"), ("12.5", "12.50"), ("0.05", "0.05"), (12, "12"), (12.5, "12.50"), ("007", "7")],
)
def test_amount_as_json_number_or_plain_decimal_string_is_stored(
    staff_client, seller, amount, stored
):
    body = open_order_body(seller=seller.external_id, amount=amount)
    assert staff_client.put("/api/v1/orders/o-1", body, format="json").status_code == 201
    assert Order.objects.get().amount == Decimal(stored)


def test_negative_amount_string_is_refused_as_negative(staff_client, seller):
    body = open_order_body(seller=seller.external_id, amount="-1")
    response = staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert response.status_code == 400
    assert response.json()["amount"] == ["Must not be negative."]


@pytest.mark.parametrize("amount", ["1_000", "１２", " 12 "])
def test_bulk_refuses_a_lenient_amount_by_index(staff_client, seller, amount):
    items = [open_order_body("o-1", seller=seller.external_id, amount=amount)]
    response = staff_client.post("/api/v1/orders/bulk", items, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 0
    assert not Order.objects.exists()


@pytest.mark.parametrize("rating", ["5", "５", "٥", " 5", "5.0", True, 4.5, [5]])
def test_rating_must_be_a_json_integer(staff_client, completed_order, rating):
    body = review_body("r-1", order=completed_order, rating=rating)
    response = staff_client.put("/api/v1/reviews/r-1", body, format="json")
    assert response.status_code == 400, response.content
    assert "rating" in response.json()
    assert not Review.objects.exists()


BULK_ITEMS = [
    "SellerBulkItemRequest",
    "OrderBulkItemRequest",
    "MessageBulkItemRequest",
    "ReviewBulkItemRequest",
    "CaseBulkItemRequest",
    "SurveyBulkItemRequest",
    "ConversationBulkItemRequest",
]


@pytest.fixture
def write_schemas(api_client) -> dict[str, Any]:
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()["components"]["schemas"]


def external_id_patterns(schema: dict[str, Any]) -> list[str]:
    """The external_id pattern of every bulk item and of every PUT's URL."""
    components = schema["components"]["schemas"]
    patterns = [components[name]["properties"]["external_id"]["pattern"] for name in BULK_ITEMS]
    for entity in INGEST_ENTITIES:
        operation = schema["paths"][f"/api/v1/{entity}/{{external_id}}"]["put"]
        [param] = [p for p in operation["parameters"] if p["name"] == "external_id"]
        patterns.append(param["schema"]["pattern"])
    return patterns


def test_schema_documents_the_external_id_rule(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    patterns = external_id_patterns(schema)
    assert len(patterns) == 2 * len(INGEST_ENTITIES)
    for pattern in patterns:
        for external_id in [*UNADDRESSABLE_IDS, "a\x00b"]:
            assert not re.search(pattern, external_id), external_id
        for external_id in ["o-1", "Bulk", "a.b", "주문 #1?"]:
            assert re.search(pattern, external_id), external_id


@pytest.mark.parametrize("name", ["SellerWriteRequest", "OrderWriteRequest"])
def test_a_put_body_leaves_the_id_to_the_url(write_schemas, name):
    assert "external_id" not in write_schemas[name]["properties"]


@pytest.mark.parametrize("name", ["OrderWriteRequest", "OrderBulkItemRequest"])
def test_schema_documents_the_amount_rule(write_schemas, name):
    amount = write_schemas[name]["properties"]["amount"]
    [as_string] = [form for form in amount["oneOf"] if form["type"] == "string"]
    assert {form["type"] for form in amount["oneOf"]} == {"number", "string"}
    for text in LENIENT_NUMBERS:
        assert not re.search(as_string["pattern"], text), text
    assert re.search(as_string["pattern"], "15000.50")
