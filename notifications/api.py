"""``/api/v1/webhooks`` (SPEC §7, staff only) and a seller's notification settings. Thin:
parse, call the service, shape."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import DocumentedQueryOnly, IsAuthenticated, IsStaff, Pagination
from common.api_schema import error_responses
from metrics.web.selectors import visible_seller
from notifications import preferences, webhooks
from notifications.serializers import NotificationSettingsSerializer, WebhookEndpointSerializer
from orders.models import Seller

_DESCRIPTION = (
    'Each delivery is a JSON POST {"id", "type", "created", "data"} with the header '
    '`GradeCraft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the '
    "secret>`. A delivery is retried with exponential backoff until a 2xx; an event id is never "
    'sent twice after a 2xx. `level.changed` data: {"seller", "period", "from", "to", '
    '"reasons"}; `run.completed` data: {"id", "period", "status", "sellers", '
    '"level_counts", "finished_at"}.'
)

_CREATE_EXAMPLE = OpenApiExample(
    "Subscribe to both events",
    value={
        "url": "https://marketplace.example.com/hooks/gradecraft",
        "events": ["level.changed", "run.completed"],
        "secret": "whsec-3f9a1c7e5b2d4f60",
    },
    request_only=True,
)
_ENDPOINT_EXAMPLE = OpenApiExample(
    "A subscription",
    value={
        "id": 1,
        "url": "https://marketplace.example.com/hooks/gradecraft",
        "events": ["level.changed", "run.completed"],
        "created_at": "2026-11-29T10:00:00+09:00",
    },
    response_only=True,
)


class WebhooksView(DocumentedQueryOnly, ListAPIView):
    permission_classes = [IsStaff]
    query_params = Pagination.query_params
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return webhooks.live_endpoints()

    @extend_schema(
        summary="The webhook subscriptions (staff)",
        description=_DESCRIPTION,
        examples=[_ENDPOINT_EXAMPLE],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Subscribe a URL to events (staff)",
        description=_DESCRIPTION,
        request=WebhookEndpointSerializer,
        responses={
            201: WebhookEndpointSerializer,
            **error_responses(400, descriptions={400: "Field messages: url, events or secret."}),
        },
        examples=[_CREATE_EXAMPLE, _ENDPOINT_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhooks.create_endpoint(**serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Unsubscribe (staff)",
        request=None,
        responses={204: None, **error_responses(404, descriptions={404: "No such webhook."})},
    )
    def delete(self, request: Request, webhook_id: str) -> HttpResponse:
        webhooks.delete_endpoint(endpoint_id=int(webhook_id))
        # No body, so no Content-Type (the schema declares none for a 204).
        response = HttpResponse(status=status.HTTP_204_NO_CONTENT)
        del response["Content-Type"]
        return response


def _seller_or_404(request: Request, external_id: str) -> Seller:
    seller = visible_seller(user=request.user, external_id=external_id)
    if seller is None:
        raise Http404("No such seller.")
    return seller


class NotificationSettingsView(DocumentedQueryOnly, APIView):
    """Staff for any seller; a seller user for its own (e.g. to opt out of "at risk" emails)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The seller's notification settings",
        responses=NotificationSettingsSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        preference = preferences.preference_of(seller=seller)
        return Response(NotificationSettingsSerializer(preference).data)

    @extend_schema(
        summary="Replace the seller's notification settings",
        request=NotificationSettingsSerializer,
        responses={
            200: NotificationSettingsSerializer,
            **error_responses(400, descriptions={400: "Field messages."}),
        },
        examples=[
            OpenApiExample(
                "Korean emails, no at-risk warnings",
                value={"language": "ko", "email": "seller@example.com", "at_risk_emails": False},
            )
        ],
    )
    def put(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        serializer = NotificationSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = preferences.replace_preference(seller=seller, **serializer.validated_data)
        return Response(NotificationSettingsSerializer(preference).data)
