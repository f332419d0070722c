"""Reads of sellers, orders, cases, messages and conversations, scoped to what the user may
see (SPEC §7).

Staff see everything; a seller's login sees only its own seller and that seller's data; any
other login sees nothing. Scoping lives here, in the queryset, so another seller's object is
simply not found (404: ids are not confirmed).
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet

from common.api import AnyUser
from common.ingest import usable_lookup
from orders.models import Case, Conversation, Message, Order, Seller

QS = TypeVar("QS", bound=QuerySet)


def sellers_for(*, user: AnyUser) -> QuerySet[Seller]:
    sellers = Seller.objects.all()
    if getattr(user, "is_staff", False):
        return sellers
    return sellers.filter(user_id=user.pk) if user.is_authenticated else sellers.none()


def orders_for(*, user: AnyUser, seller: str | None = None) -> QuerySet[Order]:
    """Orders the user may see, newest first, optionally of one seller (by external id)."""
    orders = Order.objects.select_related("seller")
    if not getattr(user, "is_staff", False):
        orders = orders.filter(seller__user_id=user.pk) if user.is_authenticated else orders.none()
    return _of_seller(orders, "seller__external_id", seller)


def messages_for(*, user: AnyUser, seller: str | None = None) -> QuerySet[Message]:
    """Messages the user may see, in conversation order, optionally of one seller."""
    messages = Message.objects.select_related("seller")
    if not getattr(user, "is_staff", False):
        messages = (
            messages.filter(seller__user_id=user.pk) if user.is_authenticated else messages.none()
        )
    return _of_seller(messages, "seller__external_id", seller)


def cases_for(*, user: AnyUser, seller: str | None = None) -> QuerySet[Case]:
    """Cases the user may see (a case is its order's seller's), newest opened first."""
    cases = Case.objects.select_related("order", "order__seller")
    if not getattr(user, "is_staff", False):
        cases = (
            cases.filter(order__seller__user_id=user.pk) if user.is_authenticated else cases.none()
        )
    return _of_seller(cases, "order__seller__external_id", seller)


def conversations_for(*, user: AnyUser, seller: str | None = None) -> QuerySet[Conversation]:
    """Conversations the user may see, by resolved_at, newest first, optionally of one seller."""
    conversations = Conversation.objects.select_related("seller")
    if not getattr(user, "is_staff", False):
        conversations = (
            conversations.filter(seller__user_id=user.pk)
            if user.is_authenticated
            else conversations.none()
        )
    return _of_seller(conversations, "seller__external_id", seller)


def _of_seller(queryset: QS, lookup: str, seller: str | None) -> QS:
    if seller is None:
        return queryset
    if not usable_lookup(seller):
        return queryset.none()
    return queryset.filter(**{lookup: seller})


def seller_currency(*, seller_id: int, default: str = "KRW") -> str:
    """The currency of the seller's latest order (its money is shown in it); ``default`` when
    it has none. One indexed query (seller, created_at)."""
    currency = (
        Order.objects.filter(seller_id=seller_id)
        .order_by("-created_at", "-id")
        .values_list("currency", flat=True)
        .first()
    )
    return currency or default
