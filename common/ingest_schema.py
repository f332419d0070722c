"""OpenAPI shapes every ingestion endpoint shares: the bulk answer and error, the help texts, and
the documented bulk body of an entity (validation itself runs in ``common.ingest``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from common import api_schema
from common.ingest import EXTERNAL_ID_PATTERN, MAX_BATCH

TIMESTAMP_HELP = (
    "ISO 8601 with a UTC offset, e.g. 2026-10-01T10:00:00+09:00; naive times are refused."
)
EXTERNAL_ID_HELP = (
    "The marketplace's id, at most 100 characters, addressable by the item URL "
    "/api/v1/<entity>/<external_id>: no '/', and not 'bulk', '.' or '..'."
)
EXTERNAL_ID_PATH = OpenApiParameter(
    "external_id",
    {"type": "string", "pattern": EXTERNAL_ID_PATTERN, "maxLength": 100},
    OpenApiParameter.PATH,
    description=EXTERNAL_ID_HELP,
)
# What ``common.ingest`` accepts of an amount: up to 14 digits before the point (leading zeros
# aside) and 2 after (trailing zeros aside).
AMOUNT_STRING_PATTERN = r"^0*[0-9]{1,14}(\.[0-9]{1,2}0*)?$"


def external_id_field(*, required: bool, help_text: str) -> serializers.RegexField:
    """The documented external_id of a write body (the rule is ``common.ingest.addressable``)."""
    return serializers.RegexField(
        EXTERNAL_ID_PATTERN, max_length=100, required=required, help_text=help_text
    )


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMaximum": True,
                "maximum": 100_000_000_000_000,
                "multipleOf": 0.01,
            },
            {"type": "string", "pattern": AMOUNT_STRING_PATTERN},
        ]
    }
)
class AmountField(serializers.DecimalField):
    """A documented amount: a JSON number, or a string of plain ASCII digits with an optional
    fraction (no '+', exponent, spaces, '_' or non-ASCII digits): ``common.ingest`` checks it."""


@api_schema.example({"created": 1, "updated": 0}, response=True)
class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Items that did not exist before.")
    updated = serializers.IntegerField(help_text="Items that replaced a stored row.")


BULK_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A bulk request refused, nothing written (SPEC §7): one entry per invalid "
    "item. Always present in a bulk 400, whatever the cause.",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "One invalid item: its `index`, its `external_id` as sent, and "
                "every other key a field name (or `non_field_errors`) with its messages.",
                "properties": {
                    "index": {
                        "type": "integer",
                        "nullable": True,
                        "description": "Position of the item in the request list; null when "
                        "the whole body is refused (not JSON, not a list, more than 1,000 "
                        "items: see non_field_errors).",
                    },
                    "external_id": {
                        "nullable": True,
                        "description": "The item's external_id as sent (a string, or another "
                        "JSON value when that is what was sent); a list of messages when it "
                        "is itself invalid.",
                    },
                },
                "required": ["index", "external_id"],
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
    "required": ["errors"],
}


@api_schema.example(
    {
        "errors": [
            {"index": 0, "external_id": "o-1", "seller": ["Unknown seller 's-404'."]},
            {
                "index": 3,
                "external_id": "o-4",
                "completed_at": ["Requires delivered_at: an order is delivered first."],
            },
        ]
    },
    name="Invalid items",
    response=True,
    status_codes=["400"],
)
class BulkErrorSerializer(serializers.Serializer):
    """Documents the ``BulkError`` component (its schema: ``BULK_ERROR_SCHEMA``)."""


class BulkErrorSerializerExtension(OpenApiSerializerExtension):
    target_class = BulkErrorSerializer

    def get_name(self, auto_schema: Any, direction: Any) -> str:
        return "BulkError"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return dict(BULK_ERROR_SCHEMA)


def bulk_of(
    write: type[serializers.Serializer], name: str, *, example: dict[str, Any]
) -> serializers.ListSerializer:
    """The documented body of ``POST .../bulk``: up to 1,000 items, each with its external_id;
    ``example`` is one item (the schema shows it in a list)."""
    item = api_schema.example(example, request=True)(
        type(
            name,
            (write,),
            {"external_id": external_id_field(required=True, help_text=EXTERNAL_ID_HELP)},
        )
    )
    return serializers.ListSerializer(child=item(), max_length=MAX_BATCH)
