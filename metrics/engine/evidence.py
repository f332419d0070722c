"""Selectors for the evidence endpoint (SPEC §7): the items behind a window metric.

A seller sees exactly which message or order cost the grade. The items are selected with the
very filters ``metrics.engine.compute`` counts with, so the list always agrees with the metric: e.g.
for ``response_rate`` there are ``inquiries`` items of which ``answered_in_time`` are in time.

Items are plain dicts with the SPEC §7 field names; failing items come first, then by time
(oldest first), then by id. Timestamps are aware datetimes in ``settings.TIME_ZONE``. The
evidence shows the state as of the window's cutoff: an order event (delivery, completion,
cancellation) at or after the cutoff is shown as ``None``, like the metric, which ignores it
(SPEC §3), so the evidence of a past period does not change as orders move on.

The evidence is an :class:`EvidenceItems`: counted, sliced and iterated without building every
item, so a page of the API or of the evidence page costs the same whatever the seller's
history, and the CSV streams in chunks (SPEC §7 pagination).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, overload

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as Switch
from django.db.models.expressions import BaseExpression, OrderBy
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from metrics.engine.compute import (
    Inquiry,
    cases_opened_q,
    completed_in_window_q,
    delivered_q,
    dispatch_q,
    earlier_completed_order,
    finished_q,
    order_case_flags,
    previous_window_buyers,
    resolved_conversations,
    shipped_q,
    window_buyer_orders_q,
    window_inquiries,
    window_orders_q,
    window_reviews_q,
    window_surveys_q,
)
from metrics.engine.periods import Window
from metrics.engine.registry import METRICS, to_decimal
from orders.models import CancelledBy, Case, Conversation, Order, Tracking
from reviews.models import Review, Survey

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
# Program and customer-success metrics (SPEC §4): the metric → the kind of its items.
PROGRAM_KINDS: dict[str, str] = {
    "window_orders": "window_orders",
    "order_defect_rate": "window_orders",
    "case_rate": "window_orders",
    "unresolved_case_rate": "window_orders",
    "dispatch_orders": "dispatches",
    "late_shipment_rate": "dispatches",
    "shipped_orders": "shipments",
    "valid_tracking_rate": "shipments",
    "cases_opened": "cases",
    "csat_responses": "surveys",
    "csat_percent": "surveys",
    "nps_responses": "surveys",
    "nps": "surveys",
    "resolved_conversations": "resolutions",
    "median_resolution_hours": "resolutions",
    "buyer_retention_rate": "buyers",
    "buyer_churn_rate": "buyers",
}
EVIDENCE_METRICS = (
    INQUIRY_METRICS
    | FINISHED_METRICS
    | DELIVERED_METRICS
    | SALES_METRICS
    | REVIEW_METRICS
    | {"repeat_buyer_rate"}
    | set(PROGRAM_KINDS)
)

# The fields of an item by kind (SPEC §7), in the order the CSV gives them: the one place the
# item shapes below and the CSV header (metrics.web.api) take them from.
ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "inquiries": ("conversation", "sent_at", "deadline", "answered_at", "in_time"),
    "orders": (
        "external_id",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "on_time",
    ),
    "reviews": ("external_id", "order", "rating"),
    # An order of window_orders: its low review's rating, its cases (opened before the
    # cutoff), why it is defective ("low_review", "claim", "chargeback"; space-separated).
    "window_orders": (
        "external_id",
        "created_at",
        "review_rating",
        "cases",
        "defective",
        "why",
        "unresolved_case",
    ),
    "dispatches": ("external_id", "ship_by", "shipped_at", "cancelled_at", "late"),
    "shipments": ("external_id", "shipped_at", "tracking", "valid_tracking"),
    "cases": ("external_id", "order", "kind", "opened_at", "closed_at", "outcome"),
    "surveys": ("external_id", "order", "answered_at", "csat", "nps"),
    "resolutions": ("conversation", "first_message_at", "resolved_at", "resolution_hours"),
    # A buyer of the previous window: their last completion then, their first order since.
    "buyers": ("buyer", "last_completed_at", "returned_at", "returned"),
}

# Rows fetched per round trip when the evidence is iterated (the streamed CSV). Measured with
# the local PostgreSQL (2 cores), 20,000 late orders streamed as CSV: 0.22–0.27 s whatever the
# chunk (100 to 20,000 rows: building the rows in Python dominates), while the peak Python
# memory grows with it (tracemalloc: 0.7 MB at 500, 1.4 MB at 2,000, 5.3 MB at 20,000). Django's
# default of 2,000 keeps round trips few for a remote database and memory small and flat.
ITERATOR_CHUNK_SIZE = 2000


class EvidenceItems:
    """The items behind one window metric, in SPEC §7 order, built only when read.

    What Django's ``Paginator``, DRF's pagination and a streamed CSV need: ``count()`` (one
    ``COUNT`` query for orders and reviews), slicing (``items[100:200]`` is one
    ``LIMIT``/``OFFSET`` query and builds only those items) and iteration (the rows are read
    ``ITERATOR_CHUNK_SIZE`` at a time, so memory does not grow with the number of items).
    ``kind`` is ``"inquiries"``, ``"orders"`` or ``"reviews"``. ``len()`` is ``count()``, a
    query of its own, and ``list()`` calls it to size the list: read with a ``for`` loop.
    """

    def __init__(
        self, *, kind: str, rows: QuerySet[Any, Any] | list[Any], to_item: Callable[[Any], Item]
    ) -> None:
        self.kind = kind
        self._rows = rows
        self._to_item = to_item

    def count(self) -> int:
        if isinstance(self._rows, QuerySet):
            return self._rows.count()
        return len(self._rows)

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self._to_item(row) for row in self._rows[index]]
        return self._to_item(self._rows[index])

    def __iter__(self) -> Iterator[Item]:
        if isinstance(self._rows, QuerySet):
            rows: Iterator[Any] = self._rows.iterator(chunk_size=ITERATOR_CHUNK_SIZE)
        else:
            rows = iter(self._rows)
        for row in rows:
            yield self._to_item(row)


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else timezone.localtime(moment)


def _boolean(condition: Q) -> Switch:
    """``condition`` as a true/false column (never NULL), to order the failing items first."""
    return Switch(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def _failing_first(
    *, failing: BaseExpression | None, moment: BaseExpression | str
) -> list[OrderBy]:
    """SPEC §7 order: failing items first (true sorts after false), then by time, then by id.

    ``failing`` None: nothing fails (the sales and review-count evidence), time order only.
    """
    time = F(moment) if isinstance(moment, str) else moment
    by_time = [time.asc(), F("pk").asc()]
    return by_time if failing is None else [failing.desc(), *by_time]


# --- inquiries --------------------------------------------------------------------------------


def _inquiry_item(inquiry: Inquiry) -> Item:
    return {
        "conversation": inquiry.conversation,
        "sent_at": _local(inquiry.sent_at),
        "deadline": _local(inquiry.deadline),
        "answered_at": _local(inquiry.answered_at),
        "in_time": inquiry.in_time,
    }


def _inquiry_items(*, seller_id: int, window: Window, metric: str) -> EvidenceItems:
    # A Python list of the window's inquiries, not a queryset: finding an inquiry and its first
    # reply takes window functions over the whole conversation (compute.window_inquiries, raw
    # SQL, one query). The list is one seller's window (a few months of buyer messages, not the
    # seller's whole history) and only the requested page is turned into items.
    inquiries = window_inquiries(seller_ids=[seller_id], window=window)
    if metric == "median_first_response_minutes":
        # The median is over the inquiries answered before the cutoff: list those, slowest
        # answer first (the ones that push the median up).
        answered = [i for i in inquiries if i.response_microseconds is not None]
        answered.sort(key=lambda i: (-(i.response_microseconds or 0), i.sent_at, i.message_id))
        return EvidenceItems(kind="inquiries", rows=answered, to_item=_inquiry_item)
    inquiries.sort(key=lambda i: (i.in_time, i.sent_at, i.message_id))
    return EvidenceItems(kind="inquiries", rows=inquiries, to_item=_inquiry_item)


# --- orders -----------------------------------------------------------------------------------

# The order's own fields an item shows; ``on_time`` is derived from them.
_ORDER_FIELDS = tuple(field for field in ITEM_COLUMNS["orders"] if field != "on_time")


def _order_item(window: Window) -> Callable[[dict[str, Any]], Item]:
    as_of_cutoff = _as_of(window)

    def to_item(order: dict[str, Any]) -> Item:
        delivered_at = as_of_cutoff(order["delivered_at"])
        cancelled_at = as_of_cutoff(order["cancelled_at"])
        on_time = None
        if delivered_at is not None:
            # SPEC §4: on time when delivered_at <= due_at; no due_at counts as on time.
            on_time = order["due_at"] is None or delivered_at <= order["due_at"]
        return {
            "external_id": order["external_id"],
            "due_at": _local(order["due_at"]),
            "delivered_at": _local(delivered_at),
            "completed_at": _local(as_of_cutoff(order["completed_at"])),
            "cancelled_at": _local(cancelled_at),
            "cancelled_by": (order["cancelled_by"] or None) if cancelled_at is not None else None,
            "on_time": on_time,
        }

    return to_item


def _order_rows(*, seller_id: int, window: Window, metric: str) -> QuerySet[Order, Any]:
    """The orders behind an order metric, failing first, as a lazy ``values()`` queryset."""
    orders = Order.objects.filter(seller_id=seller_id)
    if metric in FINISHED_METRICS:
        cancelled = (
            Q(cancelled_by=CancelledBy.SELLER)
            if metric == "seller_cancellation_rate"
            else Q(cancelled_at__isnull=False)
        )
        # A finished order is either completed or cancelled (a check constraint), never both.
        ordering = _failing_first(
            failing=_boolean(cancelled), moment=Coalesce("cancelled_at", "completed_at")
        )
        orders = orders.filter(finished_q(window))
    elif metric in DELIVERED_METRICS:
        late = Q(due_at__isnull=False, delivered_at__gt=F("due_at"))  # SPEC §4
        ordering = _failing_first(failing=_boolean(late), moment="delivered_at")
        orders = orders.filter(delivered_q(window))
    elif metric in SALES_METRICS:
        ordering = _failing_first(failing=None, moment="completed_at")
        orders = orders.filter(completed_in_window_q(window))
    else:  # repeat_buyer_rate
        orders = _latest_window_order_per_buyer(seller_id=seller_id, window=window)
        # New buyers (no order completed before their latest window order) are the failing ones.
        ordering = _failing_first(failing=~earlier_completed_order(), moment="created_at")
    return orders.order_by(*ordering).values(*_ORDER_FIELDS)


def _latest_window_order_per_buyer(*, seller_id: int, window: Window) -> QuerySet[Order, Order]:
    """One order per buyer of the window: their latest window order (by created_at, then id).

    As many rows as buyers in the denominator of ``repeat_buyer_rate``. The buyer is a repeat
    buyer iff that latest order has an earlier completed order (``earlier_completed_order``:
    it holds for the latest one iff it holds for any of the buyer's window orders).
    """
    window_orders = Order.objects.filter(window_buyer_orders_q(window), seller_id=seller_id)
    later = window_orders.filter(buyer=OuterRef("buyer")).filter(
        Q(created_at__gt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    return window_orders.filter(~Exists(later))


# --- reviews ----------------------------------------------------------------------------------


def _review_item(review: dict[str, Any]) -> Item:
    return {
        "external_id": review["external_id"],
        "order": review["order_external_id"],
        "rating": review["rating"],
    }


def _review_rows(*, seller_id: int, window: Window, metric: str) -> QuerySet[Review, Any]:
    reviews = Review.objects.filter(window_reviews_q(window), order__seller_id=seller_id)
    if metric == "negative_review_rate":
        ordering = _failing_first(failing=_boolean(Q(rating__lte=2)), moment="created_at")
    elif metric == "average_rating":
        # Lowest ratings first (the ones that pull the average down), then by time.
        ordering = [F("rating").asc(), *_failing_first(failing=None, moment="created_at")]
    else:  # window_review_count
        ordering = _failing_first(failing=None, moment="created_at")
    return reviews.order_by(*ordering).values(
        "external_id", "rating", order_external_id=F("order__external_id")
    )


# --- program and customer-success items ------------------------------------------------------


def _as_of(window: Window) -> Callable[[datetime | None], datetime | None]:
    def as_of_cutoff(moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment < window.cutoff else None

    return as_of_cutoff


def _window_order_rows(*, seller_id: int, window: Window, metric: str) -> QuerySet[Order, Any]:
    flags = order_case_flags(window)
    orders = Order.objects.filter(window_orders_q(window), seller_id=seller_id).annotate(
        review_rating=Subquery(
            Review.objects.filter(order=OuterRef("pk"), created_at__lt=window.cutoff).values(
                "rating"
            )[:1]
        ),
        case_count=Coalesce(
            Subquery(
                Case.objects.filter(order=OuterRef("pk"), opened_at__lt=window.cutoff)
                .order_by()
                .values("order")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            Value(0),
        ),
        **flags,
    )
    failing = {
        "order_defect_rate": Q(review_rating__lte=2) | Q(claim=True) | Q(chargeback=True),
        "case_rate": Q(case_count__gt=0),
        "unresolved_case_rate": Q(unresolved_case=True),
    }.get(metric)
    ordering = _failing_first(
        failing=None if failing is None else _boolean(failing), moment="created_at"
    )
    return orders.order_by(*ordering).values(
        "external_id", "created_at", "review_rating", "case_count", *flags
    )


def _window_order_item(order: dict[str, Any]) -> Item:
    rating = order["review_rating"]
    why = [
        reason
        for reason, found in (
            ("low_review", rating is not None and rating <= 2),
            ("claim", order["claim"]),
            ("chargeback", order["chargeback"]),
        )
        if found
    ]
    return {
        "external_id": order["external_id"],
        "created_at": _local(order["created_at"]),
        "review_rating": rating,
        "cases": order["case_count"],
        "defective": bool(why),
        "why": " ".join(why) or None,
        "unresolved_case": bool(order["unresolved_case"]),
    }


def _dispatch_rows(*, seller_id: int, window: Window) -> QuerySet[Order, Any]:
    late = Q(shipped_at__isnull=True) | Q(shipped_at__gt=F("ship_by"))  # SPEC §4
    orders = Order.objects.filter(dispatch_q(window), seller_id=seller_id)
    ordering = _failing_first(failing=_boolean(late), moment="ship_by")
    return orders.order_by(*ordering).values("external_id", "ship_by", "shipped_at", "cancelled_at")


def _dispatch_item(window: Window) -> Callable[[dict[str, Any]], Item]:
    as_of_cutoff = _as_of(window)

    def to_item(order: dict[str, Any]) -> Item:
        shipped_at = order["shipped_at"]
        return {
            "external_id": order["external_id"],
            "ship_by": _local(order["ship_by"]),
            "shipped_at": _local(as_of_cutoff(shipped_at)),
            "cancelled_at": _local(as_of_cutoff(order["cancelled_at"])),
            "late": shipped_at is None or shipped_at > order["ship_by"],
        }

    return to_item


def _shipment_rows(*, seller_id: int, window: Window) -> QuerySet[Order, Any]:
    orders = Order.objects.filter(shipped_q(window), seller_id=seller_id)
    ordering = _failing_first(failing=_boolean(~Q(tracking=Tracking.VALID)), moment="shipped_at")
    return orders.order_by(*ordering).values("external_id", "shipped_at", "tracking")


def _shipment_item(order: dict[str, Any]) -> Item:
    return {
        "external_id": order["external_id"],
        "shipped_at": _local(order["shipped_at"]),
        "tracking": order["tracking"] or None,
        "valid_tracking": order["tracking"] == Tracking.VALID,
    }


def _case_rows(*, seller_id: int, window: Window) -> QuerySet[Case, Any]:
    cases = Case.objects.filter(cases_opened_q(window), order__seller_id=seller_id)
    return cases.order_by(*_failing_first(failing=None, moment="opened_at")).values(
        "external_id",
        "kind",
        "opened_at",
        "closed_at",
        "outcome",
        order_external_id=F("order__external_id"),
    )


def _case_item(window: Window) -> Callable[[dict[str, Any]], Item]:
    as_of_cutoff = _as_of(window)

    def to_item(case: dict[str, Any]) -> Item:
        closed_at = as_of_cutoff(case["closed_at"])  # the outcome counts once closed
        return {
            "external_id": case["external_id"],
            "order": case["order_external_id"],
            "kind": case["kind"],
            "opened_at": _local(case["opened_at"]),
            "closed_at": _local(closed_at),
            "outcome": case["outcome"] if closed_at is not None else None,
        }

    return to_item


def _survey_rows(*, seller_id: int, window: Window, metric: str) -> QuerySet[Survey, Any]:
    surveys = Survey.objects.filter(window_surveys_q(window), order__seller_id=seller_id)
    if metric.startswith("csat"):
        surveys = surveys.filter(csat__isnull=False)
        failing = Q(csat__lt=4) if metric == "csat_percent" else None
    else:
        surveys = surveys.filter(nps__isnull=False)
        failing = Q(nps__lte=6) if metric == "nps" else None  # the detractors
    ordering = _failing_first(
        failing=None if failing is None else _boolean(failing), moment="answered_at"
    )
    return surveys.order_by(*ordering).values(
        "external_id", "answered_at", "csat", "nps", order_external_id=F("order__external_id")
    )


def _survey_item(survey: dict[str, Any]) -> Item:
    return {
        "external_id": survey["external_id"],
        "order": survey["order_external_id"],
        "answered_at": _local(survey["answered_at"]),
        "csat": survey["csat"],
        "nps": survey["nps"],
    }


def _resolution_rows(*, seller_id: int, window: Window) -> QuerySet[Conversation, Any]:
    conversations = resolved_conversations(window).filter(seller_id=seller_id)
    # Slowest first (the ones that push the median up), then by time.
    ordering = [
        (F("resolved_at") - F("first_message_at")).desc(),
        F("resolved_at").asc(),
        F("pk").asc(),
    ]
    # first_message_at is resolved_conversations()'s annotation (unknown to the stubs).
    return conversations.order_by(*ordering).values(  # type: ignore[misc]
        "external_id", "first_message_at", "resolved_at"
    )


_MICROSECONDS_PER_HOUR = 3_600_000_000


def _resolution_item(conversation: dict[str, Any]) -> Item:
    first, resolved = conversation["first_message_at"], conversation["resolved_at"]
    if isinstance(first, str):  # SQLite hands a subquery's timestamp back as text
        first = parse_datetime(first)
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
    delta = resolved - first
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return {
        "conversation": conversation["external_id"],
        "first_message_at": _local(first),
        "resolved_at": _local(resolved),
        "resolution_hours": float(to_decimal(Fraction(micros, _MICROSECONDS_PER_HOUR))),
    }


def _buyer_rows(*, seller_id: int, window: Window) -> QuerySet[Order, Any] | list[Any]:
    previous = previous_window_buyers(window)
    if previous is None:  # all time: no previous window, no items (the metric is null)
        return []
    counted_window_orders = Order.objects.filter(
        window_orders_q(window), seller_id=seller_id, buyer=OuterRef("buyer")
    )
    buyers = (
        previous.filter(seller_id=seller_id)
        .values("buyer")
        .annotate(
            last_completed_at=Max("completed_at"),
            returned_at=Subquery(
                counted_window_orders.order_by("created_at", "pk").values("created_at")[:1]
            ),
        )
    )
    # Buyers who did not come back first, then by their last completion, then by id.
    return buyers.order_by(
        _boolean(Q(returned_at__isnull=True)).desc(),
        F("last_completed_at").asc(),
        F("buyer").asc(),
    )


def _buyer_item(row: dict[str, Any]) -> Item:
    returned_at = row["returned_at"]
    if isinstance(returned_at, str):  # SQLite: a subquery's timestamp comes back as text
        returned_at = parse_datetime(returned_at)
        if returned_at is not None and returned_at.tzinfo is None:
            returned_at = returned_at.replace(tzinfo=UTC)
    return {
        "buyer": row["buyer"],
        "last_completed_at": _local(row["last_completed_at"]),
        "returned_at": _local(returned_at),
        "returned": returned_at is not None,
    }


def _program_items(*, seller_id: int, window: Window, metric: str) -> EvidenceItems:
    kind = PROGRAM_KINDS[metric]
    rows: QuerySet[Any, Any] | list[Any]
    to_item: Callable[[Any], Item]
    if kind == "window_orders":
        rows = _window_order_rows(seller_id=seller_id, window=window, metric=metric)
        to_item = _window_order_item
    elif kind == "dispatches":
        rows, to_item = _dispatch_rows(seller_id=seller_id, window=window), _dispatch_item(window)
    elif kind == "shipments":
        rows, to_item = _shipment_rows(seller_id=seller_id, window=window), _shipment_item
    elif kind == "cases":
        rows, to_item = _case_rows(seller_id=seller_id, window=window), _case_item(window)
    elif kind == "surveys":
        rows = _survey_rows(seller_id=seller_id, window=window, metric=metric)
        to_item = _survey_item
    elif kind == "resolutions":
        rows, to_item = _resolution_rows(seller_id=seller_id, window=window), _resolution_item
    else:  # buyers
        rows, to_item = _buyer_rows(seller_id=seller_id, window=window), _buyer_item
    return EvidenceItems(kind=kind, rows=rows, to_item=to_item)


# --- entry points -----------------------------------------------------------------------------


def _check_representable(window: Window) -> None:
    """ValueError now for a window at the very edge of the calendar, not an OverflowError later.

    The database adapters convert the bounds to UTC, and the inquiry bounds subtract the
    response window; near 0001-01-01 that overflows. The items are read lazily (a page, or
    while the CSV streams), so the failure has to surface before the answer has started.
    """
    hours = timedelta(hours=window.response_window_hours)
    try:
        for bound in (window.cutoff, window.start):
            if bound is not None:
                _ = bound.astimezone(UTC) - hours
    except OverflowError as exc:
        raise ValueError(
            "This period's window reaches outside the supported calendar (0001–9998)."
        ) from exc


def evidence_items(*, seller_id: int, window: Window, metric: str) -> EvidenceItems:
    """The items behind a window metric of a seller, failing ones first, then by time.

    Inquiries for the response metrics, orders for the order metrics, reviews for the review
    metrics (SPEC §7 field names). Orders and reviews are read lazily (a count and a page are
    one query each, iterating is one query); inquiries are read here, in one query. ValueError
    for an unknown metric, one with no evidence (the cumulative metrics), or a window that
    cannot be represented.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}.")
    if metric not in EVIDENCE_METRICS:
        raise ValueError(
            f"Metric {metric!r} has no evidence: only window metrics list their items "
            f"({', '.join(sorted(EVIDENCE_METRICS))})."
        )
    _check_representable(window)
    if metric in INQUIRY_METRICS:
        return _inquiry_items(seller_id=seller_id, window=window, metric=metric)
    if metric in PROGRAM_KINDS:
        return _program_items(seller_id=seller_id, window=window, metric=metric)
    if metric in REVIEW_METRICS:
        return EvidenceItems(
            kind="reviews",
            rows=_review_rows(seller_id=seller_id, window=window, metric=metric),
            to_item=_review_item,
        )
    return EvidenceItems(
        kind="orders",
        rows=_order_rows(seller_id=seller_id, window=window, metric=metric),
        to_item=_order_item(window),
    )


def evidence_kind(metric: str) -> str:
    """``"inquiries"``, ``"orders"`` or ``"reviews"``: the item shape of a metric's evidence."""
    if metric in INQUIRY_METRICS:
        return "inquiries"
    if metric in PROGRAM_KINDS:
        return PROGRAM_KINDS[metric]
    if metric in REVIEW_METRICS:
        return "reviews"
    if metric in EVIDENCE_METRICS:
        return "orders"
    raise ValueError(f"Metric {metric!r} has no evidence.")
