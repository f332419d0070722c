"""``Authorization: Api-Key <key>`` (SPEC §7), and a clear 401 for any other scheme.

A key authenticates as ``ApiKeyUser``: not a Django user, no model permissions; what it may
call is decided by its scopes (``common.api.ScopedPermission`` and ``common.scopes``), and it
reads every seller as an integration does. ``request.auth`` is the ``ApiKey`` row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.permissions import KeyParser

from access.models import ApiKey

KEYWORD = KeyParser.keyword  # "Api-Key"
ACCEPTED = ("Token", KEYWORD)
ACCEPTED_HINT = (
    "Send `Authorization: Token <key>` (a user's DRF token) or `Authorization: Api-Key <key>` "
    "(an API key)."
)
# A key's last use is written at most this often: not a database write per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class ApiKeyUser:
    """Who a request signed with an API key is: the integration, with the key's scopes."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = True  # an integration reads every seller (the selectors' staff scope)
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.username = f"api-key:{key.prefix}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[ApiKeyUser, ApiKey] | None:
        keyword, _, key = get_authorization_header(request).decode("latin-1").partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        try:
            found = ApiKey.objects.get_from_key(key) if key and len(key) <= 100 else None
        except ApiKey.DoesNotExist:
            found = None
        if found is None or not found.is_usable:
            raise AuthenticationFailed("Invalid, revoked or expired API key.")
        now = timezone.now()
        if found.last_used_at is None or found.last_used_at < now - LAST_USE_RESOLUTION:
            ApiKey.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        return ApiKeyUser(found), found

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD


class RefuseOtherSchemes(BaseAuthentication):
    """After the token and key classes: an Authorization header of any other scheme (``Bearer``
    included) is a 401 that says which schemes work, not "credentials were not provided"."""

    def authenticate(self, request: Any) -> None:
        header = get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme = header.split(" ", 1)[0]
        if scheme.lower() in (name.lower() for name in ACCEPTED):
            return None  # malformed Token/Api-Key headers are answered by their own class
        raise AuthenticationFailed(
            f"Unsupported authorization scheme {scheme[:20]!r}. " + ACCEPTED_HINT
        )


class ApiKeySchemeExtension(OpenApiAuthenticationExtension):
    """The schema's ``apiKeyAuth`` security scheme (each operation's scope: ``common.scopes``)."""

    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API key: `Authorization: Api-Key <key>` (`manage.py "
            "create_api_key` or admin). Each key has scopes: ingest, read, admin; an operation "
            "outside them is a 403 naming the scope it needs (see each operation's "
            "`x-api-key-scope`).",
        }
