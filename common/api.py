"""Cross-cutting API pieces every app uses: pagination, the JSON parser, permissions and the one
exception handler that answers application errors (``common.errors``) in SPEC §7's shape."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, models
from django.db.models import Q
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    NotAuthenticated,
    ParseError,
    PermissionDenied,
    ValidationError,
)
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from common import scopes
from common.errors import AppError
from common.ingest import unknown_field_errors
from common.throttling import record_auth_failure

NON_FIELD = "non_field_errors"

AnyUser = AbstractBaseUser | AnonymousUser


class Pagination(PageNumberPagination):
    """SPEC §7 pages: ``?page_size=`` (default 100, at most 1,000) and ``?page=``.

    Stricter than DRF's PageNumberPagination, which silently falls back to the default for a
    page_size it cannot read and clamps one above the maximum (an integration asking for 5,000
    would read 1,000 items and believe it had them all): here a page_size or page that is not
    a positive integer, or a page_size above 1,000, is a 400 with a field message. A page past
    the last one is a 404 (the page does not exist), except page 1, which exists, empty, when
    there are no items. An empty value is a 400 too (the schema says: an integer).
    """

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    invalid_page_message = "Invalid page {page_number}: {message}. Pages start at 1."
    query_params = frozenset({"page", "page_size"})

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param or "page_size")
        size = _positive_int(raw, field="page_size", default=self.page_size)
        if size > self.max_page_size:
            raise ValidationError({"page_size": [f"At most {self.max_page_size} items a page."]})
        return size

    def get_page_number(self, request: Any, paginator: Any) -> int:
        raw = request.query_params.get(self.page_query_param)
        return _positive_int(raw, field="page", default=1)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the last one is a 404 (page 1 "
                "always exists, empty when there are no items); not a whole number ≥ 1 is a 400.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Items a page: 1 to {self.max_page_size} (more is a 400, not a "
                "silent cap).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                },
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        # DRF's schema shows example URLs with ?page=4 etc.; say what they are instead.
        described = {
            "count": "Items in all pages.",
            "next": "The next page (absolute URL); null on the last page.",
            "previous": "The previous page (absolute URL); null on the first page.",
        }
        examples = {
            "count": 123,
            "next": "https://grades.example.com/api/v1/orders?page=3",
            "previous": "https://grades.example.com/api/v1/orders?page=1",
        }
        for name, description in described.items():
            paginated["properties"][name]["description"] = description
            paginated["properties"][name]["example"] = examples[name]
        return paginated


CURSOR_PATTERN = r"^[ab][0-9]{1,18}$"
CURSOR_RE = re.compile(CURSOR_PATTERN.strip("^$"))


class KeysetCursor:
    """SPEC §7 cursor pages (``{"next", "previous", "results"}``) over a unique, stable integer
    key, e.g. a period's grades by seller id.

    A page is ``WHERE key > after ORDER BY key LIMIT size + 1`` (or ``key < before`` backwards):
    one indexed query whatever the page, and the pages stay the same while other rows are
    written or rewritten (a re-run replaces a period's rows, a correction one seller's), which
    an offset would shift. ``?cursor=`` is the direction and the key (``a123``: after 123,
    ``b123``: before it); clients take it from the links, and one that is not of that form
    (``CURSOR_PATTERN``) is a 400. ``page_size`` is as strict as ``Pagination``'s.
    """

    cursor_param = "cursor"
    query_params = frozenset({"cursor", "page_size"})

    def __init__(self, *, key: str, page_size: int = 100, max_page_size: int = 1000) -> None:
        self.key = key
        self.default_size = page_size
        self.max_page_size = max_page_size

    def page_size(self, request: Any) -> int:
        size = _positive_int(
            request.query_params.get("page_size"), field="page_size", default=self.default_size
        )
        if size > self.max_page_size:
            raise ValidationError({"page_size": [f"At most {self.max_page_size} items a page."]})
        return size

    def position(self, request: Any) -> tuple[str, int] | None:
        raw = request.query_params.get(self.cursor_param)
        if raw is None:
            return None
        if not CURSOR_RE.fullmatch(raw):
            raise ValidationError(
                {self.cursor_param: ["Invalid cursor: use the next or previous URL as given."]}
            )
        return raw[0], int(raw[1:])

    def page(self, rows: Any, request: Any, *, extra: Mapping[str, str]) -> dict[str, Any]:
        """One page of ``rows`` (a queryset of dicts or objects carrying ``key``) and the
        absolute URLs of its neighbours, which repeat ``extra`` query parameters (e.g. the
        period the request defaulted to, so a later publication cannot switch it mid-sync)."""
        size = self.page_size(request)
        position = self.position(request)
        if position is not None and position[0] == "b":
            found = list(
                rows.filter(**{f"{self.key}__lt": position[1]}).order_by(f"-{self.key}")[: size + 1]
            )
            more_before = len(found) > size
            items = list(reversed(found[:size]))
            has_previous, has_next = more_before, True
        else:
            if position is not None:
                rows = rows.filter(**{f"{self.key}__gt": position[1]})
            found = list(rows.order_by(self.key)[: size + 1])
            items = found[:size]
            has_previous, has_next = position is not None, len(found) > size
        keys = [self._key_of(item) for item in items]
        return {
            "next": self._link(request, "a", keys[-1], extra) if has_next and keys else None,
            "previous": self._link(request, "b", keys[0], extra) if has_previous and keys else None,
            "items": items,
        }

    def _key_of(self, item: Any) -> int:
        return int(item[self.key] if isinstance(item, Mapping) else getattr(item, self.key))

    def _link(self, request: Any, direction: str, key: int, extra: Mapping[str, str]) -> str:
        params = request.query_params.copy()
        for name, value in extra.items():
            params[name] = value
        params[self.cursor_param] = f"{direction}{key}"
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def _positive_int(raw: str | None, *, field: str, default: int) -> int:
    if raw is None:
        return default
    try:
        # isascii: int() would also read other scripts' digits, signs and surrounding spaces.
        number = int(raw) if raw.isascii() and raw.isdigit() else 0
    except ValueError:  # past Python's 4,300-digit limit for int(str)
        number = 0
    if number < 1:
        raise ValidationError({field: [f"{field} must be a whole number of at least 1."]})
    return number


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        super().__init__(
            f"The request body is larger than {limit // (1024 * 1024)} MB; nothing was written. "
            "Send fewer items per request."
        )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus application errors (their status and JSON shape) and Django model
    validation errors as 400 with field messages."""
    if isinstance(exc, AppError):
        return Response(error_body(exc.payload()), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        # Django would answer its HTML 400 page; an API answers JSON, with the real status.
        exc = PayloadTooLarge()
    if isinstance(exc, OperationalError) and "database is locked" in str(exc):
        # SQLite (the embedded default) still busy after its timeout: nothing was written.
        return Response(
            {"detail": "The database is busy; nothing was written. Retry shortly."},
            status=503,
            headers={"Retry-After": "2"},
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (restarted, connection cut): its transaction died
        # with the connection, so a write is all or nothing as ever. The next request reconnects.
        return Response(
            {"detail": "The database is unavailable; nothing was written. Retry shortly."},
            status=503,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, NotAuthenticated | AuthenticationFailed) and "request" in context:
        record_auth_failure(context["request"])
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        exc = ValidationError(detail=detail)
    # Imported here: rest_framework.views reads the API settings, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code >= 400:
        response.data = error_body(response.data)
    return response


def error_body(data: Any) -> dict[str, Any]:
    """Any DRF error payload in the one declared shape (``common.api_schema.ERROR_SCHEMA``):
    ``detail`` a string, every other key a field with a list of strings. Messages nested below
    a field (a list's items, a nested serializer's fields) stay under that field, each prefixed
    with its place, e.g. ``{"events": ["[1]: \"x\" is not a valid choice."]}``."""
    if not isinstance(data, Mapping):
        return {NON_FIELD: _messages(data)}
    body: dict[str, Any] = {}
    for key, value in data.items():
        if key == "detail" and not isinstance(value, list | Mapping):
            body["detail"] = str(value)
            continue
        name = NON_FIELD if key == "detail" else str(key)
        body.setdefault(name, []).extend(_nested(value, ""))
    return body


def _nested(value: Any, place: str) -> list[str]:
    if isinstance(value, Mapping):
        return [
            message
            for key, inner in value.items()
            for message in _nested(
                inner, f"{place}[{key}]" if str(key).isdigit() else f"{place}.{key}"
            )
        ]
    if isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        return [
            message
            for index, inner in enumerate(value)
            if inner
            for message in _nested(inner, f"{place}[{index}]")
        ]
    prefix = f"{place.lstrip('.')}: " if place else ""
    return [prefix + message for message in _messages(value)]


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


STRICT_BOOLEAN_MESSAGE = "Must be a JSON boolean: true or false."


class StrictSerializer(serializers.Serializer):
    """A request body's serializer that accepts only what its schema declares (SPEC §2, §7).

    - A key that is not one of its fields is a 400 naming it (``common.ingest`` has the one
      check, shared with the ingestion items); a read-only field is refused as such.
    - A ``BooleanField`` takes a JSON ``true``/``false`` only: DRF's would read ``0``, ``1``,
      ``"true"`` or ``"off"`` as booleans, which the schema (``type: boolean``) does not allow.
    Every write body that DRF validates (webhooks, notification settings, evaluations) uses it;
    the schema says ``additionalProperties: false`` for each (``common.api_schema``).
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {str(f.field_name) for f in self._writable_fields}
            read_only = {name for name, f in self.fields.items() if f.read_only}
            errors: dict[str, list[str]] = dict(
                unknown_field_errors(data, writable, read_only=read_only)
            )
            for field in self._writable_fields:
                value = data.get(field.field_name)
                if (
                    isinstance(field, serializers.BooleanField)
                    and field.field_name in data
                    and not isinstance(value, bool)
                    and not (value is None and field.allow_null)
                ):
                    errors[str(field.field_name)] = [STRICT_BOOLEAN_MESSAGE]
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


class ScopedPermission(permissions.BasePermission):
    """The API's one access check (SPEC §7), the base of every view's permission class.

    - An API key (``request.auth`` carries ``scopes``: ``access.authentication``) may call an
      operation when its scopes hold the one ``common.scopes`` asks for; else 403 naming it.
      An operation with no row in that table takes no key (403).
    - A user (DRF token or session) must be signed in (401), then pass ``allows_user`` (the
      subclass's rule: staff only, or staff for writes); a staff user who is not a superuser
      also needs the operation's Django model permissions, as in admin (403 naming them).
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        match = getattr(request, "resolver_match", None)
        rule = scopes.rule_for(route=match.route if match else "", method=request.method)
        key_scopes = getattr(request.auth, "scopes", None)
        if key_scopes is not None:
            if rule is None:
                raise PermissionDenied("This operation takes no API key: sign in as staff.")
            if rule.scope not in key_scopes:
                held = ", ".join(key_scopes) or "none"
                raise PermissionDenied(
                    f"This API key lacks the '{rule.scope}' scope, which this operation needs "
                    f"(the key's scopes: {held})."
                )
            return True
        if not self.allows_user(request):
            return False
        user = request.user
        if user.is_staff and not user.is_superuser and rule is not None and rule.permissions:
            missing = sorted(set(rule.permissions) - granted_permissions(user, rule.permissions))
            if missing:
                raise PermissionDenied(
                    "Your account lacks the permission this operation needs, as in admin: "
                    + ", ".join(missing)
                    + "."
                )
        return True

    def allows_user(self, request: Any) -> bool:
        return True


def acting_user(request: Any) -> AbstractBaseUser | None:
    """The Django user behind a request, for a write's ``created_by``; None for an API key
    (``access.authentication.ApiKeyUser`` is no row of the user table)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) else None


def granted_permissions(user: Any, wanted: tuple[str, ...]) -> set[str]:
    """Which of ``wanted`` (``app_label.codename``) the active user holds, directly or through
    a group: what ``user.has_perm`` says with Django's ModelBackend (the only permission
    backend here), in one query instead of its two (user and group permissions)."""
    if not user.is_active:
        return set()
    from django.contrib.auth.models import Permission

    pairs = [perm.split(".", 1) for perm in wanted]
    rows = (
        Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .filter(codename__in=[codename for _, codename in pairs])
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    return {f"{app_label}.{codename}" for app_label, codename in rows}


class IsAuthenticated(ScopedPermission):
    """Any signed-in user (what each sees is scoped by the selectors), or a key with the scope."""


class IsStaffOrReadOnly(ScopedPermission):
    """Reads for any authenticated user (object scoping is done by the queryset), writes staff."""

    def allows_user(self, request: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user.is_staff)


class IsStaff(ScopedPermission):
    def allows_user(self, request: Any) -> bool:
        return bool(request.user.is_staff)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, except that a body nested too deeply is a 400, not a 500.

    Python's ``json`` raises RecursionError (not ValueError, which DRF turns into a 400) past
    about a thousand nested arrays or objects: a 200 KB body of brackets was a 500.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc


class DocumentedQueryOnly:
    """Refuses (400) a query parameter the operation does not document.

    The API's one policy for query strings: a typo such as ``?sellr=s-1`` or ``?pagesize=50``
    is an error with a message, never silently ignored (an integration would otherwise read
    every seller's orders believing they were one seller's). Each view lists what it reads.
    """

    query_params: ClassVar[frozenset[str]] = frozenset()

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        params = request.query_params
        known = ", ".join(sorted(self.query_params)) or "none"
        problems = {
            name: [f"Unknown query parameter; this operation takes: {known}."]
            for name in sorted(set(params) - self.query_params)
        }
        for name in sorted(set(params) & self.query_params):
            if len(params.getlist(name)) > 1:
                problems[name] = ["Give this query parameter once."]
        if problems:
            raise ValidationError(problems)


_SECONDS_OFFSET = re.compile(r"[+-]\d\d:\d\d:\d\d(\.\d+)?$")


def rfc3339(value: datetime) -> str:
    """``value.isoformat()``, except for an offset with seconds (a zone's local mean time, e.g.
    Asia/Seoul before 1908 is +08:27:52), which RFC 3339 and the schema's ``date-time`` cannot
    say: such a moment is given in UTC instead."""
    text = value.isoformat()
    if _SECONDS_OFFSET.search(text):
        text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text


class ApiDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField (ISO 8601 in TIME_ZONE), always a valid RFC 3339 ``date-time``."""

    def to_representation(self, value: Any) -> Any:
        text = super().to_representation(value)
        if isinstance(text, str) and _SECONDS_OFFSET.search(text):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return text


class ApiModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose timestamps are ``ApiDateTimeField``."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: ApiDateTimeField,
    }
