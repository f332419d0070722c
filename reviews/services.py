"""Writes of reviews and surveys (SPEC §2, §7): create or replace by external id, one review
and one survey per order.

Same shape as ``orders.services``: one ``upsert_*`` for a batch of up to 1,000 items, all
or nothing, in a fixed number of queries; PUT is a batch of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.contracts import Contract, Field
from common.ingest import (
    NON_FIELD,
    Batch,
    ItemReader,
    UpsertResult,
    WriteConflict,
    known,
    put_item,
    upsert_one,
    write_rows,
)
from orders.services import lock_orders, resolve_orders
from reviews.models import Review, Survey

COMMENT_MAX_LENGTH = 5000


@dataclass(slots=True)
class ReviewIn:
    external_id: str
    order: str
    rating: int | None
    comment: str
    created_at: datetime | None


# One review item (no database): an integer rating 1–5 and an aware created_at.
REVIEW = Contract(
    name="review",
    fields=(
        Field("order", "string", help="The order's external_id; the order must be completed."),
        Field(
            "rating",
            "integer",
            minimum=1,
            maximum=5,
            help="A JSON integer from 1 to 5 (a string is refused).",
        ),
        Field("comment", "string", required=False, max_length=COMMENT_MAX_LENGTH),
        Field("created_at", "moment"),
    ),
    build=ReviewIn,
    rules="the order must exist and be completed, and have no other review (one review per "
    "order); created_at lies in the years 1900 to 2999 (UTC).",
)


def upsert_reviews(*, items: Any) -> UpsertResult:
    """Create or replace reviews by external id, all or nothing (3 queries for any size).

    A review needs a completed order that no other review covers.
    """
    batch = Batch(items, REVIEW.parse)
    orders = resolve_orders(
        batch, order_of=lambda review: review.order, one_per_order="review", require_completed=True
    )
    batch.raise_if_invalid()

    rows = [
        Review(
            external_id=r.external_id,
            order_id=orders[r.order].pk,
            rating=known(r.rating),
            comment=r.comment,
            created_at=known(r.created_at),
        )
        for r in batch.values()
    ]

    def orders_still_completed() -> None:
        # Validation read the orders before the transaction; re-read them under lock.
        locked = lock_orders(order_ids=[row.order_id for row in rows])
        if any(completed_at is None for completed_at in locked.values()):
            raise WriteConflict()

    created = write_rows(
        model=Review,
        rows=rows,
        update_fields=["order", "rating", "comment", "created_at", "modified"],
        before=orders_still_completed,
    )
    return UpsertResult(created=created, updated=len(rows) - created)


def upsert_review(*, external_id: str, data: Any) -> tuple[Review, bool]:
    """PUT one review: (the stored review, whether it was created)."""
    created = upsert_one(upsert=upsert_reviews, item=put_item(external_id=external_id, data=data))
    return Review.objects.select_related("order").get(external_id=external_id), created


# --- surveys -------------------------------------------------------------------------------


@dataclass(slots=True)
class SurveyIn:
    external_id: str
    order: str
    csat: int | None
    nps: int | None
    answered_at: datetime | None


def _survey_rules(r: ItemReader, survey: SurveyIn) -> None:
    if survey.csat is None and survey.nps is None and r.ok("csat", "nps"):
        r.error(NON_FIELD, "A survey answers csat, nps or both: send at least one of them.")


# One survey item (no database): CSAT 1–5 and/or NPS 0–10 as JSON integers, at least one.
SURVEY = Contract(
    name="survey",
    fields=(
        Field("order", "string", help="The order's external_id; one survey per order."),
        Field(
            "csat",
            "integer",
            required=False,
            minimum=1,
            maximum=5,
            help="Customer satisfaction, a JSON integer from 1 to 5; null or left out: not "
            "asked. At least one of csat and nps.",
        ),
        Field(
            "nps",
            "integer",
            required=False,
            minimum=0,
            maximum=10,
            help="Likelihood to recommend, a JSON integer from 0 to 10; null or left out: not "
            "asked. At least one of csat and nps.",
        ),
        Field("answered_at", "moment"),
    ),
    build=SurveyIn,
    check=_survey_rules,
    rules="the order must exist and have no other survey (one survey per order); csat, nps or "
    "both are set; answered_at lies in the years 1900 to 2999 (UTC).",
)


def upsert_surveys(*, items: Any) -> UpsertResult:
    """Create or replace surveys by external id, all or nothing (2 queries for any size).

    One survey per order, of any status: SPEC §2 asks a completed order of a review only, and
    a marketplace may survey a buyer whose order was cancelled.
    """
    batch = Batch(items, SURVEY.parse)
    orders = resolve_orders(batch, order_of=lambda survey: survey.order, one_per_order="survey")
    batch.raise_if_invalid()

    rows = [
        Survey(
            external_id=s.external_id,
            order_id=orders[s.order].pk,
            csat=s.csat,
            nps=s.nps,
            answered_at=known(s.answered_at),
        )
        for s in batch.values()
    ]
    created = write_rows(
        model=Survey,
        rows=rows,
        update_fields=["order", "csat", "nps", "answered_at", "modified"],
        before=None,
    )
    return UpsertResult(created=created, updated=len(rows) - created)


def upsert_survey(*, external_id: str, data: Any) -> tuple[Survey, bool]:
    """PUT one survey: (the stored survey, whether it was created)."""
    created = upsert_one(upsert=upsert_surveys, item=put_item(external_id=external_id, data=data))
    return Survey.objects.select_related("order__seller").get(external_id=external_id), created
