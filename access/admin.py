"""API keys in admin (SPEC §7): created here or with ``manage.py create_api_key``; the key is
shown once, on creation, and only its hash is stored. Revoke a key (for ever) or let it expire."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from access.models import ApiKey
from common.scopes import SCOPE_HELP, SCOPES


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope}: {SCOPE_HELP[scope]}") for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may call (SPEC §7). Give it the least it needs.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expiry_date", "throttle_rate", "revoked"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    form = ApiKeyForm
    list_display = (  # type: ignore[assignment]  # more columns than the library's
        "prefix",
        "name",
        "scope_list",
        "created",
        "last_used_at",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("created", "revoked")  # type: ignore[assignment]

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), "last_used_at")


# The library's own, scope-less key model is not used: keep it out of admin.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)
