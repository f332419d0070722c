"""Writes of reviews (SPEC §2, §7): create or replace by external id, one review per order.

Same shape as ``orders.services``: one ``upsert_reviews`` for a batch of up to 1,000 items, all
or nothing, in a fixed number of queries; PUT is a batch of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.ingest import (
    Batch,
    ItemReader,
    UpsertResult,
    WriteConflict,
    known,
    put_item,
    upsert_one,
    write_rows,
)
from orders.models import Order
from orders.services import lock_orders
from reviews.models import Review

COMMENT_MAX_LENGTH = 5000


@dataclass(slots=True)
class ReviewIn:
    external_id: str
    order: str
    rating: int | None
    comment: str
    created_at: datetime | None


def parse_review(r: ItemReader, external_id: str) -> ReviewIn:
    """One review item: an integer rating 1–5 and an aware created_at (no database)."""
    return ReviewIn(
        external_id=external_id,
        order=r.string("order", max_length=100),
        rating=r.integer("rating", minimum=1, maximum=5),
        comment=r.string("comment", max_length=COMMENT_MAX_LENGTH, required=False),
        created_at=r.moment("created_at"),
    )


def upsert_reviews(*, items: Any) -> UpsertResult:
    """Create or replace reviews by external id, all or nothing (3 queries for any size).

    A review needs a completed order that no other review covers.
    """
    batch = Batch(items, parse_review)
    orders = {
        external_id: (pk, completed_at, review_id)
        for external_id, pk, completed_at, review_id in Order.objects.filter(
            external_id__in={r.order for _, r in batch.parsed() if r.order}
        ).values_list("external_id", "id", "completed_at", "review__external_id")
    }
    first_at: dict[str, int] = {}
    for entry, review in batch.parsed():
        if not review.order:
            continue
        order = orders.get(review.order)
        if order is None:
            entry.error("order", f"Unknown order {review.order!r}.")
        elif order[1] is None:
            entry.error("order", "Only a completed order can be reviewed; this one is not.")
        elif order[2] is not None and order[2] != review.external_id:
            entry.error("order", f"This order already has a review ({order[2]!r}).")
        elif review.order in first_at:
            entry.error(
                "order",
                f"Another review of this order is in this batch (index {first_at[review.order]}).",
            )
        else:
            first_at[review.order] = entry.index
    batch.raise_if_invalid()

    rows = [
        Review(
            external_id=r.external_id,
            order_id=orders[r.order][0],
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
