"""Selectors for the evidence endpoint (SPEC §7): the items behind a window metric.

A seller sees exactly which message or order cost the grade. The items are selected with the
very filters ``metrics.compute`` counts with, so the list always agrees with the metric: e.g.
for ``response_rate`` there are ``inquiries`` items of which ``answered_in_time`` are in time.

Items are plain dicts with the SPEC §7 field names; failing items come first, then by time
(oldest first). Timestamps are aware datetimes in ``settings.TIME_ZONE``. The evidence shows
the state as of the window's cutoff: an order event (delivery, completion, cancellation) at or
after the cutoff is shown as ``None``, like the metric, which ignores it (SPEC §3), so the
evidence of a past period does not change as orders move on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from orders.models import CancelledBy, Order
from reviews.models import Review

from .compute import (
    Inquiry,
    completed_in_window_q,
    delivered_q,
    earlier_completed_order,
    finished_q,
    window_buyer_orders_q,
    window_inquiries,
    window_reviews_q,
)
from .periods import Window
from .registry import METRICS

Item = dict[str, Any]

INQUIRY_METRICS = frozenset(
    {"inquiries", "answered_in_time", "response_rate", "median_first_response_minutes"}
)
FINISHED_METRICS = frozenset(
    {"finished_orders", "success_rate", "cancellation_rate", "seller_cancellation_rate"}
)
DELIVERED_METRICS = frozenset({"delivered_orders", "on_time_rate"})
SALES_METRICS = frozenset({"window_completed_orders", "window_revenue"})
REVIEW_METRICS = frozenset({"window_review_count", "average_rating", "negative_review_rate"})
EVIDENCE_METRICS = (
    INQUIRY_METRICS
    | FINISHED_METRICS
    | DELIVERED_METRICS
    | SALES_METRICS
    | REVIEW_METRICS
    | {"repeat_buyer_rate"}
)


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else timezone.localtime(moment)


# --- inquiries --------------------------------------------------------------------------------


def _inquiry_item(inquiry: Inquiry) -> Item:
    return {
        "conversation": inquiry.conversation,
        "sent_at": _local(inquiry.sent_at),
        "deadline": _local(inquiry.deadline),
        "answered_at": _local(inquiry.answered_at),
        "in_time": inquiry.in_time,
    }


def _inquiry_items(*, seller_id: int, window: Window, metric: str) -> list[Item]:
    inquiries = window_inquiries(seller_ids=[seller_id], window=window)
    if metric == "median_first_response_minutes":
        # The median is over the inquiries answered before the cutoff: list those, slowest
        # answer first (the ones that push the median up).
        answered = [i for i in inquiries if i.response_microseconds is not None]
        answered.sort(key=lambda i: (-(i.response_microseconds or 0), i.sent_at, i.message_id))
        return [_inquiry_item(i) for i in answered]
    inquiries.sort(key=lambda i: (i.in_time, i.sent_at, i.message_id))
    return [_inquiry_item(i) for i in inquiries]


# --- orders -----------------------------------------------------------------------------------


def _order_item(order: Order, window: Window) -> Item:
    def as_of_cutoff(moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment < window.cutoff else None

    delivered_at = as_of_cutoff(order.delivered_at)
    cancelled_at = as_of_cutoff(order.cancelled_at)
    on_time = None
    if delivered_at is not None:
        on_time = order.due_at is None or delivered_at <= order.due_at
    return {
        "external_id": order.external_id,
        "due_at": _local(order.due_at),
        "delivered_at": _local(delivered_at),
        "completed_at": _local(as_of_cutoff(order.completed_at)),
        "cancelled_at": _local(cancelled_at),
        "cancelled_by": (order.cancelled_by or None) if cancelled_at is not None else None,
        "on_time": on_time,
    }


def _sorted_orders(
    orders: list[Order], *, failing: Callable[[Order], bool], moment: Callable[[Order], datetime]
) -> list[Order]:
    return sorted(orders, key=lambda o: (not failing(o), moment(o), o.pk))


def _finishing_time(order: Order) -> datetime:
    moment = order.cancelled_at or order.completed_at
    assert moment is not None  # a finished order is completed or cancelled
    return moment


def _delivery_time(order: Order) -> datetime:
    assert order.delivered_at is not None  # selected by delivered_q
    return order.delivered_at


def _completion_time(order: Order) -> datetime:
    assert order.completed_at is not None  # selected by completed_in_window_q
    return order.completed_at


def _delivered_late(order: Order) -> bool:
    # SPEC §4: on time when delivered_at <= due_at; no due_at counts as on time.
    return order.due_at is not None and _delivery_time(order) > order.due_at


def _order_items(*, seller_id: int, window: Window, metric: str) -> list[Item]:
    seller_orders = Order.objects.filter(seller_id=seller_id).order_by()
    orders: list[Order]
    if metric in FINISHED_METRICS:
        is_failing: Callable[[Order], bool] = (
            (lambda o: o.cancelled_by == CancelledBy.SELLER)
            if metric == "seller_cancellation_rate"
            else (lambda o: o.cancelled_at is not None)
        )
        orders = _sorted_orders(
            list(seller_orders.filter(finished_q(window))),
            failing=is_failing,
            moment=_finishing_time,
        )
    elif metric in DELIVERED_METRICS:
        orders = _sorted_orders(
            list(seller_orders.filter(delivered_q(window))),
            failing=_delivered_late,
            moment=_delivery_time,
        )
    elif metric in SALES_METRICS:
        orders = _sorted_orders(
            list(seller_orders.filter(completed_in_window_q(window))),
            failing=lambda o: False,
            moment=_completion_time,
        )
    else:  # repeat_buyer_rate
        orders = _repeat_buyer_orders(seller_id=seller_id, window=window)
    return [_order_item(order, window) for order in orders]


def _repeat_buyer_orders(*, seller_id: int, window: Window) -> list[Order]:
    """One order per buyer of the window: their latest window order; new buyers first.

    As many items as buyers in the denominator of ``repeat_buyer_rate``; the repeat buyers
    (those with an order completed before their latest window order was created) come last.
    """
    orders = (
        Order.objects.filter(window_buyer_orders_q(window), seller_id=seller_id)
        .annotate(has_earlier_completed=earlier_completed_order())
        .order_by("buyer", "created_at", "pk")
    )
    latest: dict[str, Order] = {}
    repeat: dict[str, bool] = {}
    for order in orders:
        latest[order.buyer] = order  # ordered by created_at: the last one wins
        repeat[order.buyer] = repeat.get(order.buyer, False) or order.has_earlier_completed
    return _sorted_orders(
        list(latest.values()),
        failing=lambda o: not repeat[o.buyer],
        moment=lambda o: o.created_at,
    )


# --- reviews ----------------------------------------------------------------------------------


def _review_items(*, seller_id: int, window: Window, metric: str) -> list[Item]:
    reviews = list(
        Review.objects.filter(window_reviews_q(window), order__seller_id=seller_id)
        .select_related("order")
        .order_by("created_at", "pk")
    )
    if metric == "negative_review_rate":
        reviews.sort(key=lambda r: r.rating > 2)  # stable: negative first, then by time
    elif metric == "average_rating":
        reviews.sort(key=lambda r: r.rating)  # lowest ratings first, then by time
    return [
        {
            "external_id": review.external_id,
            "order": review.order.external_id,
            "rating": review.rating,
        }
        for review in reviews
    ]


def evidence_items(*, seller_id: int, window: Window, metric: str) -> list[Item]:
    """The items behind a window metric of a seller, failing ones first, then by time.

    Inquiries for the response metrics, orders for the order metrics, reviews for the review
    metrics (SPEC §7 field names). One query. ValueError for an unknown metric or one with no
    evidence (the cumulative metrics).
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}.")
    if metric not in EVIDENCE_METRICS:
        raise ValueError(
            f"Metric {metric!r} has no evidence: only window metrics list their items "
            f"({', '.join(sorted(EVIDENCE_METRICS))})."
        )
    if metric in INQUIRY_METRICS:
        return _inquiry_items(seller_id=seller_id, window=window, metric=metric)
    if metric in REVIEW_METRICS:
        return _review_items(seller_id=seller_id, window=window, metric=metric)
    return _order_items(seller_id=seller_id, window=window, metric=metric)


def evidence_kind(metric: str) -> str:
    """``"inquiries"``, ``"orders"`` or ``"reviews"``: the item shape of a metric's evidence."""
    if metric in INQUIRY_METRICS:
        return "inquiries"
    if metric in REVIEW_METRICS:
        return "reviews"
    if metric in EVIDENCE_METRICS:
        return "orders"
    raise ValueError(f"Metric {metric!r} has no evidence.")
