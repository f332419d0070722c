"""The view bases every ingestion endpoint shares (SPEC §7): a list (paginated, scoped by the
entity's selector), one object (GET scoped, PUT create-or-replace) and a bulk upsert, with their
OpenAPI descriptions. Each entity's ``api.py`` declares three small subclasses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import IsStaffOrReadOnly
from common.ingest import BulkValidationError, UpsertResult, usable_lookup
from common.ingest_schema import BulkErrorSerializer, BulkResultSerializer

SELLER_FILTER = OpenApiParameter(
    "seller", OpenApiTypes.STR, description="Only this seller's items (the seller's external_id)."
)
VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Field-level messages: {field: [messages]}; nothing written."
)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        super().__init__(
            f"The request body is larger than {limit // (1024 * 1024)} MB; nothing was written. "
            "Send fewer items per request."
        )


def request_body(request: Request) -> Any:
    """The parsed JSON body; an over-large one is a JSON 413, not Django's HTML 400 page."""
    try:
        return request.data
    except RequestDataTooBig as exc:
        raise PayloadTooLarge() from exc


class ScopedListView(generics.ListAPIView):
    """GET a paginated list of what the user may see, optionally ``?seller=<external_id>``."""

    permission_classes = [IsStaffOrReadOnly]
    select: ClassVar[Callable[..., QuerySet[Any]]]
    filter_by_seller: ClassVar[bool] = True

    def get_queryset(self) -> QuerySet[Any]:
        if not self.filter_by_seller:
            return type(self).select(user=self.request.user)
        seller = self.request.query_params.get("seller")
        return type(self).select(user=self.request.user, seller=seller)


class ScopedDetailView(APIView):
    """GET one object the user may see (404 otherwise); PUT creates (201) or replaces (200)."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class: ClassVar[type[serializers.Serializer]]
    select: ClassVar[Callable[..., QuerySet[Any]]]
    upsert: ClassVar[Callable[..., tuple[Model, bool]]]

    def get(self, request: Request, external_id: str) -> Response:
        if not usable_lookup(external_id):
            raise NotFound()
        found = type(self).select(user=request.user).filter(external_id=external_id).first()
        if found is None:
            raise NotFound()
        return Response(self.serializer_class(found).data)

    def put(self, request: Request, external_id: str) -> Response:
        stored, created = type(self).upsert(external_id=external_id, data=request_body(request))
        return Response(
            self.serializer_class(stored).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BulkUpsertView(APIView):
    """POST a JSON list of up to 1,000 items; all or nothing (an empty list is a no-op)."""

    permission_classes = [IsStaffOrReadOnly]
    upsert_many: ClassVar[Callable[..., UpsertResult]]

    def post(self, request: Request) -> Response:
        try:
            result = type(self).upsert_many(items=request_body(request))
        except BulkValidationError as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": result.created, "updated": result.updated})


def detail_schema(name: str, output: Any, write: Any) -> Callable[[type], type]:
    tags = [f"{name}s"]
    return extend_schema_view(
        get=extend_schema(
            tags=tags,
            summary=f"One {name}",
            responses={200: output, 404: OpenApiResponse(description="Not found or not yours.")},
        ),
        put=extend_schema(
            tags=tags,
            summary=f"Create or replace one {name}",
            description="Creates (201) or replaces (200) by external id; sending the same "
            "body twice changes nothing. Staff only.",
            request=write,
            responses={200: output, 201: output, 400: VALIDATION_ERROR},
        ),
    )


def bulk_schema(name: str, body: Any) -> Callable[[type], type]:
    return extend_schema_view(
        post=extend_schema(
            tags=[name],
            summary=f"Create or replace up to 1,000 {name}",
            description="All or nothing: if any item is invalid nothing is written and every "
            "invalid item is listed with its index. Staff only.",
            request=body,
            responses={
                200: BulkResultSerializer,
                400: OpenApiResponse(
                    BulkErrorSerializer,
                    description="Invalid items (or, with index null, a body that is not a list of "
                    "up to 1,000 items).",
                ),
            },
        )
    )
