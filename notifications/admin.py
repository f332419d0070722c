"""Admin: the delivery log and the email log (read-only), subscriptions, seller preferences."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import (
    EmailNotification,
    SellerPreference,
    WebhookDelivery,
    WebhookEndpoint,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "event_id",
        "event_type",
        "endpoint",
        "attempts",
        "last_status",
        "last_error_excerpt",
        "delivered_at",
        "next_attempt_at",
        "gave_up_at",
    )
    list_filter = ("event__type", "delivered_at", "gave_up_at")
    list_select_related = ("event", "endpoint")
    search_fields = ("event__event_id", "endpoint__url")
    readonly_fields = (
        "event_id",
        "event_type",
        "endpoint",
        "attempts",
        "last_status",
        "last_error",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "gave_up_at",
        "created_at",
        "payload",
    )
    exclude = ("event", "claimed_until")

    @admin.display(description="event", ordering="event__event_id")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_id

    @admin.display(description="type", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="last error")
    def last_error_excerpt(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:80]

    @admin.display(description="data")
    def payload(self, delivery: WebhookDelivery) -> Any:
        return delivery.event.data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """Subscriptions are made through the API (the URL rules and the write-only secret)."""

    list_display = ("id", "url", "events", "created_at", "deleted_at")
    exclude = ("secret",)
    readonly_fields = ("url", "events", "created_at", "deleted_at")


@admin.register(EmailNotification)
class EmailNotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "seller",
        "period",
        "recipient",
        "language",
        "attempts",
        "sent_at",
        "last_error",
    )
    list_filter = ("kind", "period", "sent_at")
    list_select_related = ("seller",)
    search_fields = ("seller__external_id", "recipient")
    exclude = ("claimed_until",)


@admin.register(SellerPreference)
class SellerPreferenceAdmin(admin.ModelAdmin):
    list_display = ("seller", "language", "email", "at_risk_emails")
    list_filter = ("language", "at_risk_emails")
    list_select_related = ("seller",)
    search_fields = ("seller__external_id", "seller__username", "email")
    autocomplete_fields = ("seller",)
