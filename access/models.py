"""API keys with scopes (SPEC §7): admin-managed, shown once, stored hashed, optional expiry,
last use recorded, each with its own throttle rate.

The key handling (generation, hashing, prefix lookup, revocation, expiry) is
djangorestframework-api-key's ``AbstractAPIKey``; this model adds the scopes of
``common.scopes``, the last use and the rate.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from common.scopes import SCOPES


def validate_scopes(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(f"Give at least one scope of: {', '.join(SCOPES)}.")
    unknown = [scope for scope in value if scope not in SCOPES]
    if unknown:
        raise ValidationError(f"Unknown scope(s) {unknown}; scopes: {', '.join(SCOPES)}.")


def validate_rate(value: str) -> None:
    if not value:
        return
    try:
        SimpleRateThrottle.parse_rate(SimpleRateThrottle, value)  # type: ignore[arg-type]
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationError("A rate such as 600/minute (second, minute, hour, day).") from exc


class ApiKeyManager(APIKeyManager):
    def get_from_key(self, key: str) -> ApiKey:
        return cast(ApiKey, super().get_from_key(key))

    def create_key(self, **kwargs: Any) -> tuple[ApiKey, str]:
        key, secret = super().create_key(**kwargs)
        return cast(ApiKey, key), secret


class ApiKey(AbstractAPIKey):
    """A marketplace integration's key: ``Authorization: Api-Key <prefix>.<secret>``."""

    objects: ClassVar[ApiKeyManager] = ApiKeyManager()  # type: ignore[assignment]

    scopes = models.JSONField(
        default=list,
        validators=[validate_scopes],
        help_text="ingest, read and/or admin (SPEC §7): what the key may call.",
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Recorded at most once a minute."
    )
    throttle_rate = models.CharField(
        max_length=32,
        blank=True,
        validators=[validate_rate],
        help_text="Requests this key may make, e.g. 600/minute; empty: THROTTLE_API_KEY.",
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.has_expired
