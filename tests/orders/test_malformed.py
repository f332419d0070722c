"""No input gives a 500: malformed bodies are a 400 (or 415 for a non-JSON media type, 413 past
the upload limit), an unsupported method a 405."""

from __future__ import annotations

from typing import Any

import pytest

from orders.models import Order
from tests.api_helpers import order_body
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

WRITES = [
    ("put", "/api/v1/sellers/s-x"),
    ("put", "/api/v1/orders/o-x"),
    ("put", "/api/v1/messages/m-x"),
    ("put", "/api/v1/reviews/r-x"),
    ("put", "/api/v1/cases/k-x"),
    ("put", "/api/v1/surveys/v-x"),
    ("put", "/api/v1/conversations/c-x"),
    ("post", "/api/v1/sellers/bulk"),
    ("post", "/api/v1/orders/bulk"),
    ("post", "/api/v1/messages/bulk"),
    ("post", "/api/v1/reviews/bulk"),
    ("post", "/api/v1/cases/bulk"),
    ("post", "/api/v1/surveys/bulk"),
    ("post", "/api/v1/conversations/bulk"),
]
BODIES = [
    b"{not json",
    b"null",
    b"[]",
    b'[{"external_id": "x"}]',
    b'{"external_id": "x"}',
    b"42",
    b'"text"',
    b'{"amount": 1e999999, "rating": 1' + b"0" * 4000 + b"}",
    b'{"external_id": {"a": [1, 2]}, "seller": [], "joined_at": false, "sent_at": 3.5}',
    b'[null, 1, "a", [], {"external_id": null}]',
    b'{"external_id": "\\u0000", "username": "\\ud800"}',
    b"",
]


@pytest.mark.parametrize(("method", "url"), WRITES)
@pytest.mark.parametrize("raw", BODIES)
def test_malformed_body_is_a_client_error_not_a_500(staff_client, method, url, raw):
    response = getattr(staff_client, method)(url, raw, content_type="application/json")
    if raw == b"[]" and url.endswith("/bulk"):
        # "a JSON list of up to 1,000 items" (SPEC §7): the empty list is a valid no-op.
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 400, response.content


def test_non_json_media_type_is_415(staff_client):
    response = staff_client.put("/api/v1/orders/o-x", b"a=b", content_type="text/plain")
    assert response.status_code == 415


def test_null_character_in_the_url_or_filter_is_not_a_500(staff_client, db):
    assert staff_client.get("/api/v1/orders/o%00x").status_code == 404
    assert staff_client.get("/api/v1/orders", {"seller": "a\x00b"}).json()["count"] == 0
    response = staff_client.put("/api/v1/orders/o%00x", {}, format="json")
    assert response.status_code == 400


def test_huge_numbers_in_an_order_are_400(staff_client, seller):
    body = order_body(seller=seller.external_id, amount=10**40)
    assert staff_client.put("/api/v1/orders/o-1", body, format="json").status_code == 400
    assert not Order.objects.exists()


def test_database_refusal_is_a_409_not_a_500(db, seller):
    # The check constraints are the last line of defence: a row that slipped past validation.
    from decimal import Decimal

    from common.ingest import WriteConflict, write_rows
    from tests.factories import aware

    row = Order(
        external_id="o-bad",
        seller=seller,
        buyer="b",
        amount=Decimal("-1"),
        created_at=aware("2026-10-01 10:00"),
    )
    with pytest.raises(WriteConflict):
        write_rows(model=Order, rows=[row], update_fields=["amount"], before=None)
    assert not Order.objects.exists()


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
    body = response.json()
    if url.endswith("/bulk"):  # a bulk 400 always has the declared ``errors`` shape
        [entry] = body["errors"]
        assert entry["index"] is None
        assert "nested too deeply" in entry["non_field_errors"][0]
    else:
        assert "nested too deeply" in body["detail"]
