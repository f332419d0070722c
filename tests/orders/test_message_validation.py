"""SPEC §2 validation of messages: 400 with a field-level message, nothing written."""

from __future__ import annotations

import pytest

from orders.models import Message
from tests.api_helpers import message_body, put_message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("sender", "admin", "one of"),
        ("sender", None, "required"),
        ("sent_at", "2026-10-10T09:00:00", "timezone required"),
        ("conversation", "c" * 101, "100 characters"),
        ("conversation", "", "required"),
        ("buyer", ["b-1"], "string"),
        ("buyer", None, "required"),
        ("seller", "nobody", "unknown"),
    ],
)
def test_invalid_message_field_is_refused(staff_client, seller, field, value, fragment):
    body = {**message_body(seller=seller.external_id), field: value}
    response = put_message(staff_client, body)
    assert response.status_code == 400
    assert any(fragment.lower() in m.lower() for m in response.json()[field])
    assert not Message.objects.exists()


def test_no_message_body_is_stored(staff_client, seller):
    # A message body is a field the resource does not have (SPEC §2 privacy): refused, named.
    body = message_body(seller=seller.external_id, text="private words")
    response = put_message(staff_client, body)
    assert response.status_code == 400
    assert "Unknown field 'text'" in response.json()["text"][0]
    assert "text" not in {f.name for f in Message._meta.get_fields()}
    assert not Message.objects.exists()


def test_message_body_text_is_not_stored_or_returned(staff_client, seller):
    body = message_body(seller=seller.external_id, body="secret", text="secret")
    response = put_message(staff_client, body)
    assert response.status_code == 400
    assert set(response.json()) == {"body", "text"}  # both named, neither stored
    assert not Message.objects.exists()
    assert "secret" not in response.content.decode()
