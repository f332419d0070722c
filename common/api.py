"""Cross-cutting API pieces every app uses: pagination, the JSON parser, permissions and the one
exception handler that answers application errors (``common.errors``) in SPEC §7's shape."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import permissions
from rest_framework.exceptions import (
    AuthenticationFailed,
    NotAuthenticated,
    ParseError,
    ValidationError,
)
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import AppError
from common.throttling import record_auth_failure

AnyUser = AbstractBaseUser | AnonymousUser


class Pagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus application errors (their status and JSON shape) and Django model
    validation errors as 400 with field messages."""
    if isinstance(exc, AppError):
        return Response(exc.payload(), status=exc.status)
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
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class IsStaffOrReadOnly(permissions.BasePermission):
    """Reads for any authenticated user (object scoping is done by the queryset), writes staff."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or bool(request.user.is_staff)


class IsStaff(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


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
