"""The client's address, as far as this deployment can know it.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each appends the address it received from to
``X-Forwarded-For``: the client is the entry that many places from the end. With no proxy
configured the header is the client's own claim and is ignored, so nobody escapes a login
lockout or an API throttle by sending a different ``X-Forwarded-For`` with each request.
Login lockouts (django-axes) and the API throttles (DRF's ``NUM_PROXIES``) both count by it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
