"""API shapes of sellers, orders and messages.

Output serializers render stored rows. The ``*Write`` serializers only *document* the request
bodies in the OpenAPI schema: validation runs through ``orders.services`` (plain Python, one
function per entity, shared by PUT and bulk), which is 5-9x faster than a serializer and gives
the same kind of field-level messages.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from orders.ingest import MAX_BATCH
from orders.models import CancelledBy, Message, Order, OrderStatus, Seller, Sender

TIMESTAMP_HELP = (
    "ISO 8601 with a UTC offset, e.g. 2026-10-01T10:00:00+09:00; naive times are refused."
)
PUT_ID_HELP = "Optional in PUT (the URL's external id is used); if given it must match the URL."


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


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Items that did not exist before.")
    updated = serializers.IntegerField(help_text="Items that replaced a stored row.")


class BulkErrorItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        allow_null=True,
        help_text="Position of the item in the request list; null when the whole body is "
        "refused (not a list, or more than 1,000 items: see non_field_errors).",
    )
    external_id = serializers.JSONField(
        allow_null=True,
        help_text="The item's external_id, or the messages about it when it is itself invalid. "
        "Every other key is a field name with its list of messages.",
    )


# A serializer field may not be called ``errors`` (it is a Serializer property): inline it.
BulkErrorSerializer = inline_serializer(
    "BulkError", fields={"errors": BulkErrorItemSerializer(many=True)}
)


# --- request bodies (documentation) ---------------------------------------------------------


class SellerWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, help_text=PUT_ID_HELP)
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Also the seller's dashboard login (a Django user is created and linked).",
    )
    display_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    joined_at = serializers.DateTimeField(help_text=TIMESTAMP_HELP)


class OrderWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, help_text=PUT_ID_HELP)
    seller = serializers.CharField(max_length=100, help_text="The seller's external_id.")
    buyer = serializers.CharField(max_length=100, help_text="The buyer's id on the marketplace.")
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        min_value=0,
        help_text="Order amount, >= 0, at most 2 decimals (a JSON number is accepted too).",
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}\Z", max_length=3, required=False, help_text="ISO 4217; default KRW."
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
        help_text="Staff only: leave the order out of every rate. Left out: the stored value "
        "is kept (false for a new order).",
    )


class MessageWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, help_text=PUT_ID_HELP)
    conversation = serializers.CharField(max_length=100, help_text="Id of the thread.")
    seller = serializers.CharField(max_length=100, help_text="The seller's external_id.")
    buyer = serializers.CharField(max_length=100)
    sender = serializers.ChoiceField(choices=Sender.choices)
    sent_at = serializers.DateTimeField(help_text=TIMESTAMP_HELP)


def bulk_of(write: type[serializers.Serializer], name: str) -> serializers.ListSerializer:
    """The documented body of ``POST .../bulk``: up to 1,000 items, each with its external_id."""
    item = type(
        name,
        (write,),
        {"external_id": serializers.CharField(max_length=100)},
    )
    return serializers.ListSerializer(child=item(), max_length=MAX_BATCH)


SellerBulkSerializer = bulk_of(SellerWriteSerializer, "SellerBulkItemSerializer")
OrderBulkSerializer = bulk_of(OrderWriteSerializer, "OrderBulkItemSerializer")
MessageBulkSerializer = bulk_of(MessageWriteSerializer, "MessageBulkItemSerializer")
