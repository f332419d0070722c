"""OpenAPI shapes every ingestion endpoint shares: the bulk answer and error, the help texts, and
the documented bulk body of an entity (validation itself runs in ``common.ingest``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from common.ingest import DECIMAL_STRING_PATTERN, EXTERNAL_ID_PATTERN, MAX_BATCH

TIMESTAMP_HELP = (
    "ISO 8601 with a UTC offset, e.g. 2026-10-01T10:00:00+09:00; naive times are refused."
)
EXTERNAL_ID_HELP = (
    "Addressable by the item URL /api/v1/<entity>/<external_id>: no '/', and not 'bulk', "
    "'.' or '..'."
)
PUT_ID_HELP = (
    "Optional in PUT (the URL's external id is used); if given it must match the URL. "
    + EXTERNAL_ID_HELP
)


def external_id_field(*, required: bool, help_text: str) -> serializers.RegexField:
    """The documented external_id of a write body (the rule is ``common.ingest.addressable``)."""
    return serializers.RegexField(
        EXTERNAL_ID_PATTERN, max_length=100, required=required, help_text=help_text
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": DECIMAL_STRING_PATTERN},
        ]
    }
)
class AmountField(serializers.DecimalField):
    """A documented amount: a JSON number, or a string of plain ASCII digits with an optional
    fraction (no '+', exponent, spaces, '_' or non-ASCII digits): ``common.ingest`` checks it."""


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


def bulk_of(write: type[serializers.Serializer], name: str) -> serializers.ListSerializer:
    """The documented body of ``POST .../bulk``: up to 1,000 items, each with its external_id."""
    item = type(
        name,
        (write,),
        {"external_id": external_id_field(required=True, help_text=EXTERNAL_ID_HELP)},
    )
    return serializers.ListSerializer(child=item(), max_length=MAX_BATCH)
