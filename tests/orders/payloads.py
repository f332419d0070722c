"""Request bodies for the ingestion API, valid unless a test overrides a field."""

from __future__ import annotations

from typing import Any


def seller_body(external_id: str = "s-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "username": f"user-{external_id}",
        "display_name": f"Seller {external_id}",
        "joined_at": "2025-01-01T00:00:00+09:00",
    }
    return {**body, **overrides}


def order_body(external_id: str = "o-1", *, seller: str, **overrides: Any) -> dict[str, Any]:
    """A completed order: created 10-01 10:00, due 10-04, delivered 10-03, completed 10-05."""
    body = {
        "external_id": external_id,
        "seller": seller,
        "buyer": "b-1",
        "amount": "15000.00",
        "created_at": "2026-10-01T10:00:00+09:00",
        "due_at": "2026-10-04T10:00:00+09:00",
        "delivered_at": "2026-10-03T10:00:00+09:00",
        "completed_at": "2026-10-05T10:00:00+09:00",
        "cancelled_at": None,
        "cancelled_by": None,
    }
    return {**body, **overrides}


def message_body(external_id: str = "m-1", *, seller: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "conversation": "c-1",
        "seller": seller,
        "buyer": "b-1",
        "sender": "buyer",
        "sent_at": "2026-10-10T09:00:00+09:00",
    }
    return {**body, **overrides}


def review_body(external_id: str = "r-1", *, order: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "order": order,
        "rating": 5,
        "comment": "Great work",
        "created_at": "2026-10-06T10:00:00+09:00",
    }
    return {**body, **overrides}
