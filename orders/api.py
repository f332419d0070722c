"""REST endpoints for sellers, orders and messages (SPEC §7). Thin: parse, call, shape.

The three view bases are shared with ``reviews.api``: a list (paginated, scoped by the
selector), one object (GET scoped, PUT create-or-replace) and a bulk upsert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Model, QuerySet
from django.urls import reverse
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

from gradecraft.api import IsStaff, IsStaffOrReadOnly
from orders import login_links, selectors, services
from orders.ingest import BulkValidationError, UpsertResult, usable_lookup
from orders.serializers import (
    BulkErrorSerializer,
    BulkResultSerializer,
    MessageBulkSerializer,
    MessageSerializer,
    MessageWriteSerializer,
    OrderBulkSerializer,
    OrderSerializer,
    OrderWriteSerializer,
    SellerBulkSerializer,
    SellerSerializer,
    SellerWriteSerializer,
)

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


@extend_schema_view(
    get=extend_schema(tags=["sellers"], summary="Sellers (a seller login sees only itself)")
)
class SellerListView(ScopedListView):
    serializer_class = SellerSerializer
    select = selectors.sellers_for
    filter_by_seller = False


@detail_schema("seller", SellerSerializer, SellerWriteSerializer)
class SellerDetailView(ScopedDetailView):
    serializer_class = SellerSerializer
    select = selectors.sellers_for
    upsert = services.upsert_seller


@bulk_schema("sellers", SellerBulkSerializer)
class SellerBulkView(BulkUpsertView):
    upsert_many = services.upsert_sellers


@extend_schema_view(
    get=extend_schema(tags=["orders"], summary="Orders, newest first", parameters=[SELLER_FILTER])
)
class OrderListView(ScopedListView):
    serializer_class = OrderSerializer
    select = selectors.orders_for


@detail_schema("order", OrderSerializer, OrderWriteSerializer)
class OrderDetailView(ScopedDetailView):
    serializer_class = OrderSerializer
    select = selectors.orders_for
    upsert = services.upsert_order


@bulk_schema("orders", OrderBulkSerializer)
class OrderBulkView(BulkUpsertView):
    upsert_many = services.upsert_orders


@extend_schema_view(
    get=extend_schema(tags=["messages"], summary="Messages, by sent_at", parameters=[SELLER_FILTER])
)
class MessageListView(ScopedListView):
    serializer_class = MessageSerializer
    select = selectors.messages_for


@detail_schema("message", MessageSerializer, MessageWriteSerializer)
class MessageDetailView(ScopedDetailView):
    serializer_class = MessageSerializer
    select = selectors.messages_for
    upsert = services.upsert_message


@bulk_schema("messages", MessageBulkSerializer)
class MessageBulkView(BulkUpsertView):
    upsert_many = services.upsert_messages


class LoginLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Single-use sign-in URL for the seller's dashboard.")
    expires_at = serializers.DateTimeField()


class SellerLoginLinkView(APIView):
    """Staff: a single-use sign-in URL, valid a few minutes, for the seller's dashboard."""

    permission_classes = [IsStaff]

    @extend_schema(
        tags=["sellers"],
        request=None,
        responses={201: LoginLinkSerializer},
        summary="Create a single-use dashboard sign-in link for a seller (staff)",
    )
    def post(self, request: Request, external_id: str) -> Response:
        seller = None
        if usable_lookup(external_id):
            seller = (
                selectors.sellers_for(user=request.user).filter(external_id=external_id).first()
            )
        if seller is None:
            raise NotFound()
        link = login_links.issue_login_link(seller=seller, actor=request.user)
        url = request.build_absolute_uri(reverse("login-link", args=[link.token]))
        return Response(
            LoginLinkSerializer({"url": url, "expires_at": link.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )
