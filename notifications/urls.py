"""``/api/v1/webhooks`` routes; a trailing slash is optional."""

from django.urls import re_path

from notifications import api

urlpatterns = [
    re_path(r"^webhooks/?$", api.WebhooksView.as_view(), name="webhooks"),
    # At most 18 digits: the id always fits a bigint, so no id is a database error.
    re_path(r"^webhooks/(?P<webhook_id>[0-9]{1,18})/?$", api.WebhookView.as_view(), name="webhook"),
]
