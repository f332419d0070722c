"""factory_boy factories for the domain. Timestamps are aware, in the project's TIME_ZONE."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.conf import settings
from django.contrib.auth import get_user_model

from orders.models import Case, Conversation, Message, Order, Seller
from reviews.models import Review, Survey


def aware(text: str, tz: str | None = None) -> datetime:
    """'2026-10-10 09:00[:ss]' in TIME_ZONE (or ``tz``) as an aware datetime."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(tz or settings.TIME_ZONE))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-only")


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    external_id = factory.Sequence(lambda n: f"s-{n}")
    username = factory.Sequence(lambda n: f"seller{n}")
    display_name = factory.LazyAttribute(lambda o: o.username.title())
    joined_at = factory.LazyFunction(lambda: aware("2025-01-01 00:00"))
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..username"))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"o-{n}")
    seller = factory.SubFactory(SellerFactory)
    buyer = factory.Sequence(lambda n: f"b-{n}")
    amount = Decimal("10000")
    created_at = factory.LazyFunction(lambda: aware("2026-10-01 10:00"))
    due_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(days=3))


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    external_id = factory.Sequence(lambda n: f"m-{n}")
    conversation = factory.Sequence(lambda n: f"c-{n}")
    seller = factory.SubFactory(SellerFactory)
    buyer = factory.Sequence(lambda n: f"b-{n}")
    sender = "buyer"
    sent_at = factory.LazyFunction(lambda: aware("2026-10-10 09:00"))


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    external_id = factory.Sequence(lambda n: f"r-{n}")
    order = factory.SubFactory(
        OrderFactory,
        delivered_at=factory.LazyAttribute(lambda o: o.created_at + timedelta(days=1)),
        completed_at=factory.LazyAttribute(lambda o: o.created_at + timedelta(days=2)),
    )
    rating = 5
    created_at = factory.LazyAttribute(lambda o: o.order.completed_at + timedelta(hours=1))


class CaseFactory(factory.django.DjangoModelFactory):
    """An open claim on a fresh order, opened a day after the order (outcome "" while open)."""

    class Meta:
        model = Case

    external_id = factory.Sequence(lambda n: f"case-{n}")
    order = factory.SubFactory(OrderFactory)
    kind = "claim"
    opened_at = factory.LazyAttribute(lambda o: o.order.created_at + timedelta(days=1))
    closed_at = None
    outcome = ""


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    external_id = factory.Sequence(lambda n: f"v-{n}")
    order = factory.SubFactory(OrderFactory)
    csat = 5
    nps = 10
    answered_at = factory.LazyAttribute(lambda o: o.order.created_at + timedelta(days=3))


class ConversationFactory(factory.django.DjangoModelFactory):
    """A conversation row; its messages are MessageFactory rows with ``conversation`` set to
    its ``external_id`` and the same seller."""

    class Meta:
        model = Conversation

    external_id = factory.Sequence(lambda n: f"c-{n}")
    seller = factory.SubFactory(SellerFactory)
    buyer = factory.Sequence(lambda n: f"b-{n}")
    resolved_at = None
