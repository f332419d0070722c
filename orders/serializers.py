"""API shapes of sellers, orders, cases, messages and conversations.

Output serializers render stored rows. The ``*Write`` serializers only *document* the request
bodies in the OpenAPI schema: validation runs through ``orders.services`` (plain Python, one
function per entity, shared by PUT and bulk), which is 5-9x faster than a serializer and gives
the same kind of field-level messages.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from common.api import ApiModelSerializer
from common.api_schema import example
from common.ingest_schema import (
    bulk_of,
)
from orders.models import (
    CancelledBy,
    Case,
    CaseOutcome,
    Conversation,
    Message,
    Order,
    OrderStatus,
    Seller,
    Tracking,
)
from orders.services import CASE, CONVERSATION, MESSAGE, ORDER, SELLER

# The examples of the schema (one seller, one completed order, one buyer inquiry): what a
# marketplace sends, and what the API answers for it.
SELLER_BODY = {
    "username": "pixel_lab",
    "display_name": "Pixel Lab",
    "joined_at": "2025-01-01T00:00:00+09:00",
}
ORDER_BODY = {
    "seller": "s-1",
    "buyer": "b-1",
    "amount": "15000.00",
    "currency": "KRW",
    "created_at": "2026-10-01T10:00:00+09:00",
    "due_at": "2026-10-04T10:00:00+09:00",
    "delivered_at": "2026-10-03T10:00:00+09:00",
    "completed_at": "2026-10-05T10:00:00+09:00",
    "cancelled_at": None,
    "cancelled_by": None,
    "ship_by": "2026-10-02T18:00:00+09:00",
    "shipped_at": "2026-10-02T15:30:00+09:00",
    "tracking": "valid",
}
MESSAGE_BODY = {
    "conversation": "c-1",
    "seller": "s-1",
    "buyer": "b-1",
    "sender": "buyer",
    "sent_at": "2026-10-10T09:00:00+09:00",
}

# A chargeback on order o-1, closed for the buyer; a thread resolved a day after it opened.
CASE_BODY = {
    "order": "o-1",
    "kind": "chargeback",
    "opened_at": "2026-10-08T09:00:00+09:00",
    "closed_at": "2026-10-20T17:00:00+09:00",
    "outcome": "buyer_favour",
}
CONVERSATION_BODY = {
    "seller": "s-1",
    "buyer": "b-1",
    "resolved_at": "2026-10-11T09:00:00+09:00",
}

# --- output --------------------------------------------------------------------------------


@example({"external_id": "s-1", **SELLER_BODY}, response=True)
class SellerSerializer(ApiModelSerializer):
    class Meta:
        model = Seller
        fields = ["external_id", "username", "display_name", "joined_at"]
        read_only_fields = fields


@example(
    {
        "external_id": "o-1",
        **ORDER_BODY,
        "excluded_from_metrics": False,
        "status": "completed",
    },
    response=True,
)
class OrderSerializer(ApiModelSerializer):
    seller = serializers.CharField(source="seller.external_id", read_only=True)
    cancelled_by = serializers.ChoiceField(
        choices=CancelledBy.choices, allow_null=True, read_only=True
    )
    tracking = serializers.ChoiceField(
        choices=Tracking.choices,
        allow_null=True,
        read_only=True,
        help_text="Whether the carrier accepted the tracking id; null: not known.",
    )
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)

    class Meta:
        model = Order
        fields = [
            "external_id",
            "seller",
            "buyer",
            "amount",
            "currency",
            "created_at",
            "due_at",
            "delivered_at",
            "completed_at",
            "cancelled_at",
            "cancelled_by",
            "ship_by",
            "shipped_at",
            "tracking",
            "excluded_from_metrics",
            "status",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Order) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["cancelled_by"] = instance.cancelled_by or None
        data["tracking"] = instance.tracking or None
        return data


@example({"external_id": "m-1", **MESSAGE_BODY}, response=True)
class MessageSerializer(ApiModelSerializer):
    seller = serializers.CharField(source="seller.external_id", read_only=True)

    class Meta:
        model = Message
        fields = ["external_id", "conversation", "seller", "buyer", "sender", "sent_at"]
        read_only_fields = fields


@example({"external_id": "k-1", **CASE_BODY, "seller": "s-1"}, response=True)
class CaseSerializer(ApiModelSerializer):
    order = serializers.CharField(source="order.external_id", read_only=True)
    seller = serializers.CharField(
        source="order.seller.external_id",
        read_only=True,
        help_text="The order's seller (a case's seller is its order's seller).",
    )
    outcome = serializers.ChoiceField(
        choices=CaseOutcome.choices,
        allow_null=True,
        read_only=True,
        help_text="Null while the case is open.",
    )

    class Meta:
        model = Case
        fields = ["external_id", "order", "seller", "kind", "opened_at", "closed_at", "outcome"]
        read_only_fields = fields

    def to_representation(self, instance: Case) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["outcome"] = instance.outcome or None
        return data


@example({"external_id": "c-1", **CONVERSATION_BODY}, response=True)
class ConversationSerializer(ApiModelSerializer):
    seller = serializers.CharField(source="seller.external_id", read_only=True)

    class Meta:
        model = Conversation
        fields = ["external_id", "seller", "buyer", "resolved_at"]
        read_only_fields = fields


# --- request bodies (documentation) ---------------------------------------------------------


# The write bodies, generated from the contracts (``common.contracts``): the parser's fields.
SellerWriteSerializer = example(SELLER_BODY, request=True)(
    SELLER.write_serializer("SellerWriteSerializer")
)
OrderWriteSerializer = example(ORDER_BODY, request=True)(
    ORDER.write_serializer("OrderWriteSerializer")
)
MessageWriteSerializer = example(MESSAGE_BODY, request=True)(
    MESSAGE.write_serializer("MessageWriteSerializer")
)
CaseWriteSerializer = example(CASE_BODY, request=True)(CASE.write_serializer("CaseWriteSerializer"))
ConversationWriteSerializer = example(CONVERSATION_BODY, request=True)(
    CONVERSATION.write_serializer("ConversationWriteSerializer")
)


SellerBulkSerializer = bulk_of(
    SellerWriteSerializer, "SellerBulkItemSerializer", example={"external_id": "s-1", **SELLER_BODY}
)
OrderBulkSerializer = bulk_of(
    OrderWriteSerializer, "OrderBulkItemSerializer", example={"external_id": "o-1", **ORDER_BODY}
)
MessageBulkSerializer = bulk_of(
    MessageWriteSerializer,
    "MessageBulkItemSerializer",
    example={"external_id": "m-1", **MESSAGE_BODY},
)
CaseBulkSerializer = bulk_of(
    CaseWriteSerializer, "CaseBulkItemSerializer", example={"external_id": "k-1", **CASE_BODY}
)
ConversationBulkSerializer = bulk_of(
    ConversationWriteSerializer,
    "ConversationBulkItemSerializer",
    example={"external_id": "c-1", **CONVERSATION_BODY},
)
