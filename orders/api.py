"""REST endpoints for sellers, orders, cases, messages and conversations (SPEC §7). Thin:
parse, call, shape.

On the shared view bases of ``common.ingest_api``; plus the seller sign-in link.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ApiDateTimeField, DocumentedQueryOnly, IsStaff
from common.api_schema import example
from common.ingest import usable_lookup
from common.ingest_api import (
    SELLER_FILTER,
    BulkUpsertView,
    ScopedDetailView,
    ScopedListView,
    bulk_schema,
    detail_schema,
)
from orders import login_links, selectors, services
from orders.serializers import (
    CaseBulkSerializer,
    CaseSerializer,
    CaseWriteSerializer,
    ConversationBulkSerializer,
    ConversationSerializer,
    ConversationWriteSerializer,
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

# The rules of the contracts' one declarations (``common.contracts``).
SELLER_RULES = services.SELLER.documented_rules
ORDER_RULES = services.ORDER.documented_rules
CASE_RULES = services.CASE.documented_rules
CONVERSATION_RULES = services.CONVERSATION.documented_rules
MESSAGE_RULES = services.MESSAGE.documented_rules


@detail_schema("seller", SellerSerializer, SellerWriteSerializer, rules=SELLER_RULES)
class SellerDetailView(ScopedDetailView):
    serializer_class = SellerSerializer
    select = selectors.sellers_for
    upsert = services.upsert_seller


@bulk_schema(
    "sellers",
    SellerBulkSerializer,
    rules=SELLER_RULES + " Each external_id and username appears once in a batch.",
)
class SellerBulkView(BulkUpsertView):
    upsert_many = services.upsert_sellers


@extend_schema_view(
    get=extend_schema(tags=["orders"], summary="Orders, newest first", parameters=[SELLER_FILTER])
)
class OrderListView(ScopedListView):
    serializer_class = OrderSerializer
    select = selectors.orders_for


@detail_schema("order", OrderSerializer, OrderWriteSerializer, rules=ORDER_RULES)
class OrderDetailView(ScopedDetailView):
    serializer_class = OrderSerializer
    select = selectors.orders_for
    upsert = services.upsert_order


@bulk_schema(
    "orders", OrderBulkSerializer, rules=ORDER_RULES + " Each external_id appears once a batch."
)
class OrderBulkView(BulkUpsertView):
    upsert_many = services.upsert_orders


@extend_schema_view(
    get=extend_schema(
        tags=["cases"], summary="Cases, newest opened first", parameters=[SELLER_FILTER]
    )
)
class CaseListView(ScopedListView):
    serializer_class = CaseSerializer
    select = selectors.cases_for


@detail_schema("case", CaseSerializer, CaseWriteSerializer, rules=CASE_RULES)
class CaseDetailView(ScopedDetailView):
    serializer_class = CaseSerializer
    select = selectors.cases_for
    upsert = services.upsert_case


@bulk_schema(
    "cases", CaseBulkSerializer, rules=CASE_RULES + " Each external_id appears once a batch."
)
class CaseBulkView(BulkUpsertView):
    upsert_many = services.upsert_cases


@extend_schema_view(
    get=extend_schema(
        tags=["conversations"],
        summary="Conversations, newest resolved first",
        parameters=[SELLER_FILTER],
    )
)
class ConversationListView(ScopedListView):
    serializer_class = ConversationSerializer
    select = selectors.conversations_for


@detail_schema(
    "conversation", ConversationSerializer, ConversationWriteSerializer, rules=CONVERSATION_RULES
)
class ConversationDetailView(ScopedDetailView):
    serializer_class = ConversationSerializer
    select = selectors.conversations_for
    upsert = services.upsert_conversation


@bulk_schema(
    "conversations",
    ConversationBulkSerializer,
    rules=CONVERSATION_RULES + " Each external_id appears once a batch.",
)
class ConversationBulkView(BulkUpsertView):
    upsert_many = services.upsert_conversations


@extend_schema_view(
    get=extend_schema(tags=["messages"], summary="Messages, by sent_at", parameters=[SELLER_FILTER])
)
class MessageListView(ScopedListView):
    serializer_class = MessageSerializer
    select = selectors.messages_for


@detail_schema("message", MessageSerializer, MessageWriteSerializer, rules=MESSAGE_RULES)
class MessageDetailView(ScopedDetailView):
    serializer_class = MessageSerializer
    select = selectors.messages_for
    upsert = services.upsert_message


@bulk_schema(
    "messages",
    MessageBulkSerializer,
    rules=MESSAGE_RULES + " Each external_id appears once a batch.",
)
class MessageBulkView(BulkUpsertView):
    upsert_many = services.upsert_messages


@example(
    {
        "url": "https://grades.example.com/login/link/Xq3v9TzK1bW2nR7sL0pY4d/",
        "expires_at": "2026-10-10T09:15:00+09:00",
    },
    response=True,
)
class LoginLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Single-use sign-in URL for the seller's dashboard.")
    expires_at = ApiDateTimeField()


class SellerLoginLinkView(DocumentedQueryOnly, APIView):
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
        url = login_links.link_url(token=link.token, request=request)
        return Response(
            LoginLinkSerializer({"url": url, "expires_at": link.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )
