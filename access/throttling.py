"""Per-key throttles (SPEC §7): each API key has its own count and rate."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """One count per API key, at the key's ``throttle_rate`` or ``THROTTLE_API_KEY``; requests
    without a key are left to the user and anonymous throttles."""

    scope = "api_key"

    def allow_request(self, request: Any, view: Any) -> bool:
        key = getattr(request.auth, "scopes", None) is not None and request.auth
        if not key:
            return True
        self.rate = key.throttle_rate or settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(
            self.scope
        )
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

    def get_rate(self) -> str | None:
        return None  # set per key in allow_request


class UserOnlyRateThrottle(UserRateThrottle):
    """DRF's per-user throttle, for users only: keys are counted per key above (a key has no
    user id, and would otherwise share one count with every other key)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if getattr(request.auth, "scopes", None) is not None:
            return None
        return super().get_cache_key(request, view)
