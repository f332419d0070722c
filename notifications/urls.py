"""``/api/v1/webhooks`` and ``/api/v1/sellers/{external_id}/notification-settings``, with or
without a trailing slash (the slash variants are left out of the schema so each operation is
documented once)."""

from django.urls import re_path

from notifications import api

# At most 18 digits: the id always fits a bigint, so no id is a database error.
ONE = r"^webhooks/(?P<webhook_id>[0-9]{1,18})"

urlpatterns = [
    re_path(r"^webhooks$", api.WebhooksView.as_view(), name="webhooks"),
    re_path(r"^webhooks/$", api.WebhooksView.as_view(schema=None)),
    re_path(rf"{ONE}$", api.WebhookView.as_view(), name="webhook"),
    re_path(rf"{ONE}/$", api.WebhookView.as_view(schema=None)),
    re_path(
        r"^sellers/(?P<external_id>[^/]+)/notification-settings$",
        api.NotificationSettingsView.as_view(),
        name="seller-notification-settings",
    ),
    re_path(
        r"^sellers/(?P<external_id>[^/]+)/notification-settings/$",
        api.NotificationSettingsView.as_view(schema=None),
    ),
]
