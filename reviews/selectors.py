"""Reads of reviews and surveys, scoped like ``orders.selectors``: each belongs to its order's
seller."""

from __future__ import annotations

from django.db.models import QuerySet

from common.api import AnyUser
from common.ingest import usable_lookup
from reviews.models import Review, Survey


def reviews_for(*, user: AnyUser, seller: str | None = None) -> QuerySet[Review]:
    """Reviews the user may see, newest first, optionally of one seller (by external id)."""
    reviews = Review.objects.select_related("order", "order__seller")
    if not getattr(user, "is_staff", False):
        reviews = (
            reviews.filter(order__seller__user_id=user.pk)
            if user.is_authenticated
            else reviews.none()
        )
    if seller is None:
        return reviews
    if not usable_lookup(seller):
        return reviews.none()
    return reviews.filter(order__seller__external_id=seller)


def surveys_for(*, user: AnyUser, seller: str | None = None) -> QuerySet[Survey]:
    """Surveys the user may see, newest answered first, optionally of one seller."""
    surveys = Survey.objects.select_related("order", "order__seller")
    if not getattr(user, "is_staff", False):
        surveys = (
            surveys.filter(order__seller__user_id=user.pk)
            if user.is_authenticated
            else surveys.none()
        )
    if seller is None:
        return surveys
    if not usable_lookup(seller):
        return surveys.none()
    return surveys.filter(order__seller__external_id=seller)
