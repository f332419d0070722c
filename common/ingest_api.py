"""The view bases every ingestion endpoint shares (SPEC §7): a list (paginated, scoped by the
entity's selector), one object (GET scoped, PUT create-or-replace) and a bulk upsert, with their
OpenAPI descriptions. Each entity's ``api.py`` declares three small subclasses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

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
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import DocumentedQueryOnly, IsStaffOrReadOnly, Pagination, PayloadTooLarge
from common.api_schema import error_responses
from common.ingest import NON_FIELD, BulkValidationError, UpsertResult, usable_lookup
from common.ingest_schema import EXTERNAL_ID_PATH, BulkErrorSerializer, BulkResultSerializer

SELLER_FILTER = OpenApiParameter(
    "seller",
    OpenApiTypes.STR,
    description="Only this seller's items (the seller's external_id); an unknown seller gives "
    "an empty page.",
)


def request_body(request: Request) -> Any:
    """The parsed JSON body; an over-large one is a JSON 413, not Django's HTML 400 page."""
    try:
        return request.data
    except RequestDataTooBig as exc:
        raise PayloadTooLarge() from exc


class ScopedListView(DocumentedQueryOnly, generics.ListAPIView):
    """GET a paginated list of what the user may see, optionally ``?seller=<external_id>``."""

    permission_classes = [IsStaffOrReadOnly]
    query_params = Pagination.query_params | {"seller"}
    select: ClassVar[Callable[..., QuerySet[Any]]]
    filter_by_seller: ClassVar[bool] = True

    def get_queryset(self) -> QuerySet[Any]:
        if not self.filter_by_seller:
            return type(self).select(user=self.request.user)
        seller = self.request.query_params.get("seller")
        return type(self).select(user=self.request.user, seller=seller)


class ScopedDetailView(DocumentedQueryOnly, APIView):
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


class BulkUpsertView(DocumentedQueryOnly, APIView):
    """POST a JSON list of up to 1,000 items; all or nothing (an empty list is a no-op)."""

    permission_classes = [IsStaffOrReadOnly]
    upsert_many: ClassVar[Callable[..., UpsertResult]]

    def handle_exception(self, exc: Exception) -> Response:
        # SPEC §7: a bulk 400 always carries ``errors``, also when the body is not JSON at all
        # or a query parameter is refused: one entry, index null (no item is at fault).
        response = super().handle_exception(exc)
        if response.status_code == status.HTTP_400_BAD_REQUEST and "errors" not in response.data:
            messages = dict(response.data)
            detail = messages.pop("detail", None)
            if detail is not None:
                messages.setdefault(NON_FIELD, []).insert(0, detail)
            response.data = {"errors": [{"index": None, "external_id": None, **messages}]}
        return response

    def post(self, request: Request) -> Response:
        try:
            result = type(self).upsert_many(items=request_body(request))
        except BulkValidationError as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": result.created, "updated": result.updated})


def detail_schema(
    name: str, output: Any, write: Any, *, rules: str = "", examples: Sequence[Any] = ()
) -> Callable[[type], type]:
    """The schema of ``GET``/``PUT /api/v1/<name>s/{external_id}``; ``rules`` says what the
    body schema cannot (cross-field and database rules), each a 400 with field messages."""
    tags = [f"{name}s"]
    return extend_schema_view(
        get=extend_schema(
            tags=tags,
            summary=f"One {name}",
            parameters=[EXTERNAL_ID_PATH],
            responses={200: output},
        ),
        put=extend_schema(
            tags=tags,
            summary=f"Create or replace one {name}",
            description="Creates (201) or replaces (200) by external id; sending the same "
            "body twice changes nothing. Staff only. The id is the URL's: an `external_id` in "
            "the body is not needed, and if sent must equal the URL's (else 400). Unknown "
            "fields are refused: a field the body does not list is a 400 naming it. " + rules,
            request=write,
            parameters=[EXTERNAL_ID_PATH],
            responses={
                200: output,
                201: output,
                **error_responses(
                    400,
                    descriptions={
                        400: "Field messages `{field: [messages]}` (or `{detail}` for a body "
                        "that is not JSON); nothing was written."
                    },
                ),
            },
            examples=list(examples),
        ),
    )


def bulk_schema(
    name: str, body: Any, *, rules: str = "", examples: Sequence[Any] = ()
) -> Callable[[type], type]:
    return extend_schema_view(
        post=extend_schema(
            tags=[name],
            summary=f"Create or replace up to 1,000 {name}",
            description="All or nothing: if any item is invalid nothing is written and every "
            "invalid item is listed with its index. Staff only. A field an item does not list is "
            "a 400 naming it. " + rules,
            request=body,
            examples=list(examples),
            responses={
                200: BulkResultSerializer,
                400: OpenApiResponse(
                    BulkErrorSerializer,
                    description="Invalid items, each with its index and field messages; or, "
                    "with index null, a body that is not a JSON list of up to 1,000 items (not "
                    "JSON at all: the message is in non_field_errors). Always `errors`.",
                ),
            },
        )
    )
