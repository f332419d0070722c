"""API shapes of sellers, orders and messages.

Output serializers render stored rows. The ``*Write`` serializers only *document* the request
bodies in the OpenAPI schema: validation runs through ``orders.services`` (plain Python, one
function per entity, shared by PUT and bulk), which is 5-9x faster than a serializer and gives
the same kind of field-level messages.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from common.ingest_schema import (
    TIMESTAMP_HELP,
    AmountField,
    bulk_of,
)
from orders.models import CancelledBy, Message, Order, OrderStatus, Seller, Sender

# --- output --------------------------------------------------------------------------------


class SellerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Seller
        fields = ["external_id", "username", "display_name", "joined_at"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    seller = serializers.CharField(source="seller.external_id", read_only=True)
    cancelled_by = serializers.ChoiceField(
        choices=CancelledBy.choices, allow_null=True, read_only=True
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
            "excluded_from_metrics",
            "status",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Order) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["cancelled_by"] = instance.cancelled_by or None
        return data


class MessageSerializer(serializers.ModelSerializer):
    seller = serializers.CharField(source="seller.external_id", read_only=True)

    class Meta:
        model = Message
        fields = ["external_id", "conversation", "seller", "buyer", "sender", "sent_at"]
        read_only_fields = fields


# --- request bodies (documentation) ---------------------------------------------------------


class SellerWriteSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+$",
        max_length=150,
        help_text="Also the seller's dashboard login (a Django user is created and linked).",
    )
    display_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Shown on the dashboard; null or left out: empty.",
    )
    joined_at = serializers.DateTimeField(help_text=TIMESTAMP_HELP)


class OrderWriteSerializer(serializers.Serializer):
    seller = serializers.CharField(max_length=100, help_text="The seller's external_id.")
    buyer = serializers.CharField(max_length=100, help_text="The buyer's id on the marketplace.")
    amount = AmountField(
        max_digits=16,
        decimal_places=2,
        min_value=0,
        help_text="Order amount, >= 0, at most 14 digits before the point and 2 after: a JSON "
        "number, or a string of ASCII digits such as \"15000.50\" (no '+', exponent, spaces, "
        "'_' or other digits).",
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        max_length=3,
        required=False,
        allow_null=True,
        help_text="ISO 4217; null or left out: KRW.",
    )
    created_at = serializers.DateTimeField(help_text=TIMESTAMP_HELP)
    due_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Agreed deadline; not before created_at."
    )
    delivered_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Not before created_at."
    )
    completed_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Requires delivered_at and is not before it; not with cancelled_at.",
    )
    cancelled_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Not before created_at; needs cancelled_by."
    )
    cancelled_by = serializers.ChoiceField(
        choices=CancelledBy.choices,
        required=False,
        allow_null=True,
        help_text="Who cancelled; required with cancelled_at and only with it.",
    )
    excluded_from_metrics = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Staff only: leave the order out of every rate. Null or left out: the stored "
        "value is kept (false for a new order).",
    )


class MessageWriteSerializer(serializers.Serializer):
    conversation = serializers.CharField(max_length=100, help_text="Id of the thread.")
    seller = serializers.CharField(max_length=100, help_text="The seller's external_id.")
    buyer = serializers.CharField(max_length=100)
    sender = serializers.ChoiceField(choices=Sender.choices)
    sent_at = serializers.DateTimeField(help_text=TIMESTAMP_HELP)


SellerBulkSerializer = bulk_of(SellerWriteSerializer, "SellerBulkItemSerializer")
OrderBulkSerializer = bulk_of(OrderWriteSerializer, "OrderBulkItemSerializer")
MessageBulkSerializer = bulk_of(MessageWriteSerializer, "MessageBulkItemSerializer")
