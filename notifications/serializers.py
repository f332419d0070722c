"""The shape of ``/api/v1/webhooks`` (SPEC §7): the API renders with it, the schema says it."""

from __future__ import annotations

from rest_framework import serializers

from common.api import ApiDateTimeField, StrictSerializer
from common.api_schema import example
from notifications.models import WebhookEvent
from notifications.webhooks import MAX_URL_LENGTH, SECRET_MAX_LENGTH, SECRET_MIN_LENGTH

# The scheme rule of notifications.webhooks.check_url, said in the schema (an ECMA 262 regex).
WEBHOOK_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00]+$"


class WebhookEndpointSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.RegexField(
        WEBHOOK_URL_PATTERN,
        max_length=MAX_URL_LENGTH,
        trim_whitespace=False,
        error_messages={"invalid": "The URL must start with http:// or https://."},
        help_text="http(s) URL receiving the POSTs; its host must resolve, and loopback and "
        "private addresses are refused unless WEBHOOKS_ALLOW_PRIVATE (400 with a message).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WebhookEvent.TYPES)),
        allow_empty=False,
        max_length=len(WebhookEvent.TYPES),
        help_text="The event types to receive.",
    )
    secret = serializers.CharField(
        write_only=True,
        min_length=SECRET_MIN_LENGTH,
        max_length=SECRET_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Signs every delivery (GradeCraft-Signature); write-only, never shown again.",
    )
    created_at = ApiDateTimeField(read_only=True)


@example({"language": "ko", "email": "seller@example.com", "at_risk_emails": False})
class NotificationSettingsSerializer(StrictSerializer):
    language = serializers.ChoiceField(
        choices=["", "ko", "en"],
        allow_blank=True,
        help_text='Language of the emails; "" = NOTIFICATIONS_DEFAULT_LANGUAGE.',
    )
    email = serializers.EmailField(
        allow_blank=True, max_length=254, help_text='Where emails go; "" = the login\'s address.'
    )
    at_risk_emails = serializers.BooleanField(
        help_text='The mid-month "at risk" warning (at most one a month); false opts out.'
    )
