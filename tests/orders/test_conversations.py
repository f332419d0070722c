"""Conversations (SPEC §2, §7): a thread's resolution, sent before or after its messages;
PUT creates or replaces, bulk is all or nothing."""

from __future__ import annotations

import pytest

from orders.models import Conversation, Message
from tests.api_helpers import (
    assert_refused,
    conversation_body,
    message_body,
    put_conversation,
    put_message,
)
from tests.factories import ConversationFactory, SellerFactory

pytestmark = pytest.mark.django_db


def test_put_creates_a_resolved_conversation(staff_client, seller):
    response = put_conversation(staff_client, conversation_body(seller=seller.external_id))
    assert response.status_code == 201, response.content
    assert response.json() == {
        "external_id": "c-1",
        "seller": seller.external_id,
        "buyer": "b-1",
        "resolved_at": "2026-10-11T09:00:00+09:00",
    }
    assert staff_client.get("/api/v1/conversations/c-1").json() == response.json()


def test_put_replay_is_200_and_changes_nothing(staff_client, seller):
    body = conversation_body(seller=seller.external_id)
    first = put_conversation(staff_client, body)
    second = put_conversation(staff_client, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()


def test_an_open_conversation_has_null_resolved_at_and_may_be_resolved_later(staff_client, seller):
    body = conversation_body(seller=seller.external_id, resolved_at=None)
    assert put_conversation(staff_client, body).json()["resolved_at"] is None
    body["resolved_at"] = "2026-10-12T09:00:00+09:00"
    assert put_conversation(staff_client, body).status_code == 200
    assert Conversation.objects.get().resolved_at is not None


def test_a_conversation_may_arrive_before_its_messages(staff_client, seller):
    assert (
        put_conversation(staff_client, conversation_body(seller=seller.external_id)).status_code
        == 201
    )
    assert not Message.objects.exists()
    message = message_body("m-1", seller=seller.external_id, conversation="c-1")
    assert put_message(staff_client, message).status_code == 201


def test_a_conversation_may_arrive_after_its_messages(staff_client, seller):
    message = message_body("m-1", seller=seller.external_id, conversation="c-1")
    assert put_message(staff_client, message).status_code == 201
    assert (
        put_conversation(staff_client, conversation_body(seller=seller.external_id)).status_code
        == 201
    )


def test_unknown_seller_is_refused(staff_client, db):
    response = put_conversation(staff_client, conversation_body(seller="s-404"))
    assert_refused(response, "seller", "unknown seller", model=Conversation)


def test_naive_resolved_at_is_refused(staff_client, seller):
    body = conversation_body(seller=seller.external_id, resolved_at="2026-10-11T09:00:00")
    assert_refused(
        put_conversation(staff_client, body), "resolved_at", "timezone required", model=Conversation
    )


def test_missing_buyer_is_refused(staff_client, seller):
    body = conversation_body(seller=seller.external_id)
    del body["buyer"]
    assert_refused(put_conversation(staff_client, body), "buyer", "required", model=Conversation)


def test_bulk_is_all_or_nothing(staff_client, seller):
    items = [conversation_body(f"c-{n}", seller=seller.external_id) for n in range(4)]
    items[3]["seller"] = "ghost"
    response = staff_client.post("/api/v1/conversations/bulk", items, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["errors"]] == [3]
    assert not Conversation.objects.exists()
    items[3]["seller"] = seller.external_id
    response = staff_client.post("/api/v1/conversations/bulk", items, format="json")
    assert response.json() == {"created": 4, "updated": 0}


@pytest.mark.postgres
def test_bulk_of_1000_conversations_takes_a_fixed_number_of_queries(
    staff_client, seller, django_assert_max_num_queries
):
    items = [conversation_body(f"c-{n}", seller=seller.external_id) for n in range(1000)]
    with django_assert_max_num_queries(6):  # + the staff user's permissions
        response = staff_client.post("/api/v1/conversations/bulk", items, format="json")
    assert response.json() == {"created": 1000, "updated": 0}


def test_a_seller_reads_only_its_own_conversations(seller_client, seller):
    ConversationFactory(external_id="c-mine", seller=seller)
    ConversationFactory(external_id="c-other", seller=SellerFactory())
    assert seller_client.get("/api/v1/conversations/c-other").status_code == 404
    results = seller_client.get("/api/v1/conversations").json()["results"]
    assert [c["external_id"] for c in results] == ["c-mine"]
    body = conversation_body("c-new", seller=seller.external_id)
    assert put_conversation(seller_client, body).status_code == 403
