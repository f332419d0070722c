"""Set-based computation of every metric of SPEC §4 for a chunk of sellers.

``seller_metrics`` runs exactly ``QUERIES_PER_CHUNK`` (4) queries whatever the chunk size:

1. sellers: ``joined_at`` and the revenue RANK over ALL sellers of the database (raw SQL, the
   rank has to be computed before restricting to the chunk);
2. orders: one ``GROUP BY seller`` with ``COUNT/SUM(...) FILTER (WHERE ...)`` for every order
   figure, including repeat buyers (a correlated ``EXISTS``);
3. reviews: one ``GROUP BY seller`` likewise;
4. inquiries: one pass over the chunk's messages with window functions (``LAG`` to find the
   inquiries, ``MIN(...) OVER (ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)`` for the first
   seller reply), returning one row per inquiry of the window; counts and the median are taken
   in Python from those rows.

The raw SQL runs unchanged on PostgreSQL and SQLite, and the results are identical on both:
money is summed as integer cents (SQLite would otherwise sum floats), timestamps are compared
as the backend stores them (Django stores UTC text on SQLite, whose order is time order), and
every derived value is an exact ``int`` / ``Decimal`` / ``Fraction`` built in Python
(``metrics/registry.py``: the exact-value contract).

``metrics.evidence`` lists the items behind the same counts with the same filters
(``finished_q``, ``delivered_q``, ...), so evidence and metrics cannot drift apart.

Chunk size (measured on PostgreSQL 15, 2 busy cores, 2,000 sellers × 50 orders × 100
messages): query 1 costs the same whatever the chunk (~0.1–0.2 s: it aggregates every completed
order), so chunks of 100 ran at ~200–400 sellers/s and chunks of 500–2,000 at ~500–900
sellers/s. With PostgreSQL's JIT on (the default), big chunks can pass ``jit_above_cost`` and
spend ~2 s compiling one query; ``-c jit=off`` in the connection options avoids that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Cast, Round
from django.utils.dateparse import parse_datetime

from orders.models import CancelledBy, Message, Order, Seller, Sender
from reviews.models import Review

from .periods import Window
from .registry import METRIC_KEYS, Metrics

QUERIES_PER_CHUNK = 4

_CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# Filters shared with metrics.evidence (one definition of "in the window" for both).


def in_window(field: str, window: Window) -> Q:
    """``field`` falls in [window.start, window.cutoff) (before the cutoff if start is None)."""
    condition = Q(**{f"{field}__lt": window.cutoff})
    if window.start is not None:
        condition &= Q(**{f"{field}__gte": window.start})
    return condition


def before_cutoff(field: str, window: Window) -> Q:
    return Q(**{f"{field}__lt": window.cutoff})


def counted(prefix: str = "") -> Q:
    """Not excluded from metrics (SPEC §4: excluded orders and their reviews count in no rate)."""
    return Q(**{f"{prefix}excluded_from_metrics": False})


def completed_in_window_q(window: Window) -> Q:
    return in_window("completed_at", window)


def finished_completed_q(window: Window) -> Q:
    return counted() & in_window("completed_at", window)


def finished_cancelled_q(window: Window) -> Q:
    return counted() & in_window("cancelled_at", window)


def finished_q(window: Window) -> Q:
    """Orders in ``finished_orders``: counted, completed or cancelled in the window."""
    return counted() & (in_window("completed_at", window) | in_window("cancelled_at", window))


def seller_cancelled_q(window: Window) -> Q:
    return finished_cancelled_q(window) & Q(cancelled_by=CancelledBy.SELLER)


def delivered_q(window: Window) -> Q:
    """Orders in ``delivered_orders``. Delivered and later cancelled still counts (SPEC §4)."""
    return counted() & in_window("delivered_at", window)


def on_time_q() -> Q:
    """Delivered by the (possibly extended) due date; no ``due_at`` counts as on time."""
    return Q(due_at__isnull=True) | Q(delivered_at__lte=F("due_at"))


def window_reviews_q(window: Window) -> Q:
    """Reviews in ``window_review_count``: created in the window, their order not excluded."""
    return counted("order__") & in_window("created_at", window)


def window_buyer_orders_q(window: Window) -> Q:
    """Orders whose buyers make up the denominator of ``repeat_buyer_rate``.

    SPEC §4 fine point: excluded orders are ignored entirely; every order created in the
    window counts, whatever its status (cancelled ones too).
    """
    return counted() & in_window("created_at", window)


def earlier_completed_order() -> Exists:
    """A counted order of the same seller and buyer completed strictly before this one was created.

    A buyer is a repeat buyer when this holds for the LATEST of their window orders; it holds
    for the latest one iff it holds for any one of them (the latest was created no earlier),
    which lets the database answer per order instead of per (seller, buyer) group.
    """
    return Exists(
        Order.objects.filter(
            seller_id=OuterRef("seller_id"),
            buyer=OuterRef("buyer"),
            excluded_from_metrics=False,
            completed_at__lt=OuterRef("created_at"),
        )
    )


def cents(field: str) -> Cast:
    # Integer cents: exact on both backends (amount has 2 decimal places; SQLite stores it as
    # REAL, so ROUND repairs the float error of amount * 100 before the integer sum).
    return Cast(Round(F(field) * 100), BigIntegerField())


def money(total_cents: Any) -> Decimal:
    return (Decimal(int(total_cents or 0)) / 100).quantize(_CENT)


# ---------------------------------------------------------------------------------------------
# Inquiries (raw SQL, window functions).


@dataclass(frozen=True)
class Inquiry:
    """An inquiry of the window and the seller's first reply before the cutoff (if any)."""

    seller_id: int
    message_id: int
    conversation: str
    sent_at: datetime
    deadline: datetime
    answered_at: datetime | None

    @property
    def in_time(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.deadline

    @property
    def response_microseconds(self) -> int | None:
        """First reply − inquiry, exactly, in microseconds (None when not answered)."""
        if self.answered_at is None:
            return None
        delta = self.answered_at - self.sent_at
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _as_utc(value: Any) -> datetime:
    """A timestamp read by raw SQL → aware UTC datetime (SQLite hands back naive UTC or text)."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"Unreadable timestamp from the database: {value!r}")
        value = parsed
    if not isinstance(value, datetime):
        raise TypeError(f"Expected a timestamp from the database, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _db_datetime(value: datetime) -> Any:
    """A parameter for raw SQL, adapted exactly as Django adapts a DateTimeField value."""
    return connection.ops.adapt_datetimefield_value(value)


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


_INQUIRIES_SQL = """
SELECT walked.seller_id, walked.id, walked.conversation, walked.sent_at, walked.first_reply_at
FROM (
    SELECT m.seller_id, m.id, m.conversation, m.sender, m.sent_at,
           LAG(m.sender) OVER (
               PARTITION BY m.seller_id, m.conversation ORDER BY m.sent_at, m.id
           ) AS previous_sender,
           MIN(CASE WHEN m.sender = %s THEN m.sent_at END) OVER (
               PARTITION BY m.seller_id, m.conversation ORDER BY m.sent_at, m.id
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
           ) AS first_reply_at
    FROM {message} m
    WHERE m.seller_id IN ({seller_ids}) AND m.sent_at < %s {conversation}
) walked
WHERE walked.sender = %s
  AND (walked.previous_sender IS NULL OR walked.previous_sender = %s)
  AND walked.sent_at < %s {lower_bound}
ORDER BY walked.seller_id, walked.sent_at, walked.id
"""


def window_inquiries(
    *, seller_ids: Sequence[int], window: Window, conversation: str | None = None
) -> list[Inquiry]:
    """The inquiries whose deadline falls in the window, in one query (SPEC §4).

    An inquiry is a buyer message that opens its conversation or follows a seller message
    (order: sent_at, then insertion order = id). Its deadline is sent_at + response window;
    it belongs to the window when the deadline is in [start, cutoff), i.e. when sent_at is in
    [start − hours, cutoff − hours). Messages at or after the cutoff are not read at all, so a
    reply at or after the cutoff leaves its inquiry unanswered (and out of the median).
    """
    if not seller_ids:
        return []
    hours = timedelta(hours=window.response_window_hours)
    cutoff = window.cutoff.astimezone(UTC)
    params: list[Any] = [Sender.SELLER, *seller_ids, _db_datetime(cutoff)]
    conversation_sql = ""
    if conversation is not None:
        conversation_sql = "AND m.conversation = %s"
        params.append(conversation)
    params += [Sender.BUYER, Sender.SELLER, _db_datetime(cutoff - hours)]
    lower_bound_sql = ""
    if window.start is not None:
        lower_bound_sql = "AND walked.sent_at >= %s"
        params.append(_db_datetime(window.start.astimezone(UTC) - hours))
    sql = _INQUIRIES_SQL.format(
        message=connection.ops.quote_name(Message._meta.db_table),
        seller_ids=_placeholders(seller_ids),
        conversation=conversation_sql,
        lower_bound=lower_bound_sql,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    inquiries = []
    for seller_id, message_id, conv, sent_at, first_reply_at in rows:
        sent = _as_utc(sent_at)
        inquiries.append(
            Inquiry(
                seller_id=seller_id,
                message_id=message_id,
                conversation=conv,
                sent_at=sent,
                deadline=sent + hours,
                answered_at=None if first_reply_at is None else _as_utc(first_reply_at),
            )
        )
    return inquiries


# ---------------------------------------------------------------------------------------------
# Sellers and revenue rank (raw SQL: RANK over all sellers, then restricted to the chunk).

_SELLERS_SQL = """
WITH ranked AS (
    SELECT o.seller_id,
           RANK() OVER (ORDER BY SUM(CAST(ROUND(o.amount * 100) AS BIGINT)) DESC) AS revenue_rank
    FROM {order} o
    WHERE o.completed_at IS NOT NULL AND o.completed_at < %s
    GROUP BY o.seller_id
)
SELECT s.id, s.joined_at, ranked.revenue_rank, (SELECT COUNT(*) FROM ranked) AS ranked_sellers
FROM {seller} s
LEFT JOIN ranked ON ranked.seller_id = s.id
WHERE s.id IN ({seller_ids})
"""


@dataclass(frozen=True)
class _SellerRow:
    joined_at: datetime
    revenue_rank: int | None
    ranked_sellers: int


def _seller_rows(*, seller_ids: Sequence[int], window: Window) -> dict[int, _SellerRow]:
    cutoff = _db_datetime(window.cutoff.astimezone(UTC))
    sql = _SELLERS_SQL.format(
        seller=connection.ops.quote_name(Seller._meta.db_table),
        order=connection.ops.quote_name(Order._meta.db_table),
        seller_ids=_placeholders(seller_ids),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [cutoff, *seller_ids])
        rows = cursor.fetchall()
    return {
        seller_id: _SellerRow(
            joined_at=_as_utc(joined_at),
            revenue_rank=None if rank is None else int(rank),
            ranked_sellers=int(ranked or 0),
        )
        for seller_id, joined_at, rank, ranked in rows
    }


# ---------------------------------------------------------------------------------------------
# Orders and reviews (ORM aggregates grouped by seller).


def _order_rows(*, seller_ids: Sequence[int], window: Window) -> dict[int, dict[str, Any]]:
    done = before_cutoff("completed_at", window)
    rows = (
        Order.objects.filter(seller_id__in=seller_ids, created_at__lt=window.cutoff)
        .order_by()
        .values("seller_id")
        .annotate(
            completed_orders=Count("id", filter=done),
            revenue_cents=Sum(cents("amount"), filter=done),
            unique_buyers=Count("buyer", filter=done, distinct=True),
            window_completed_orders=Count("id", filter=completed_in_window_q(window)),
            window_revenue_cents=Sum(cents("amount"), filter=completed_in_window_q(window)),
            finished_completed=Count("id", filter=finished_completed_q(window)),
            finished_cancelled=Count("id", filter=finished_cancelled_q(window)),
            seller_cancelled=Count("id", filter=seller_cancelled_q(window)),
            delivered_orders=Count("id", filter=delivered_q(window)),
            delivered_on_time=Count("id", filter=delivered_q(window) & on_time_q()),
            window_buyers=Count("buyer", filter=window_buyer_orders_q(window), distinct=True),
            repeat_buyers=Count(
                "buyer",
                filter=window_buyer_orders_q(window) & Q(earlier_completed_order()),
                distinct=True,
            ),
        )
    )
    return {row["seller_id"]: dict(row) for row in rows}


def _review_rows(*, seller_ids: Sequence[int], window: Window) -> dict[int, dict[str, Any]]:
    in_count = window_reviews_q(window)
    rows = (
        Review.objects.filter(order__seller_id__in=seller_ids, created_at__lt=window.cutoff)
        .order_by()
        .values(seller_id=F("order__seller_id"))
        .annotate(
            review_count=Count("id"),
            window_review_count=Count("id", filter=in_count),
            rating_sum=Sum("rating", filter=in_count),
            negative_reviews=Count("id", filter=in_count & Q(rating__lte=2)),
        )
    )
    return {row["seller_id"]: dict(row) for row in rows}


# ---------------------------------------------------------------------------------------------
# Assembly.


def _rate(numerator: int, denominator: int) -> Fraction | None:
    return None if denominator == 0 else Fraction(100 * numerator, denominator)


def median(values: Iterable[int]) -> Fraction | None:
    """The exact median of integers; the mean of the two middle values for an even count."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


_MICROSECONDS_PER_MINUTE = 60_000_000


def median_first_response_minutes(inquiries: Iterable[Inquiry]) -> Fraction | None:
    """SPEC §4: median of (first reply − inquiry) over the inquiries answered before the cutoff,
    in minutes (seconds / 60), exact; None if none was answered."""
    middle = median(
        micros for micros in (i.response_microseconds for i in inquiries) if micros is not None
    )
    return None if middle is None else middle / _MICROSECONDS_PER_MINUTE


def tenure_days(*, joined_at: datetime, cutoff: datetime) -> int:
    """Whole 24-hour periods from joined_at to the cutoff, 0 if joined at or after it."""
    elapsed = cutoff.astimezone(UTC) - joined_at.astimezone(UTC)
    return max(elapsed // timedelta(days=1), 0)


def seller_metrics(*, seller_ids: Sequence[int], window: Window) -> dict[int, Metrics]:
    """Every metric of SPEC §4 for a chunk of sellers, keyed by ``Seller.pk``.

    Exactly ``QUERIES_PER_CHUNK`` (4) queries whatever ``len(seller_ids)`` (none for an empty
    chunk); the caller chooses the chunk size. Values follow ``metrics/registry.py``: ``int``
    counts, ``Decimal`` money, ``Fraction`` rates/ratings/top-percent/minutes, ``None`` when
    the denominator is 0 or the seller has no rank. ``revenue_rank`` and ``ranked_sellers`` are
    over ALL sellers of the database. Ids with no Seller row are left out of the result.
    """
    ids = list(dict.fromkeys(seller_ids))
    if not ids:
        return {}
    sellers = _seller_rows(seller_ids=ids, window=window)
    orders = _order_rows(seller_ids=ids, window=window)
    reviews = _review_rows(seller_ids=ids, window=window)
    inquiries: dict[int, list[Inquiry]] = {seller_id: [] for seller_id in ids}
    for inquiry in window_inquiries(seller_ids=ids, window=window):
        inquiries[inquiry.seller_id].append(inquiry)

    result: dict[int, Metrics] = {}
    for seller_id in ids:
        seller = sellers.get(seller_id)
        if seller is None:
            continue
        o = orders.get(seller_id, {})
        r = reviews.get(seller_id, {})
        asked = inquiries[seller_id]

        n_inquiries = len(asked)
        answered_in_time = sum(1 for inquiry in asked if inquiry.in_time)
        finished = o.get("finished_completed", 0) + o.get("finished_cancelled", 0)
        delivered = o.get("delivered_orders", 0)
        window_reviews = r.get("window_review_count", 0)
        rank = seller.revenue_rank

        metrics: Metrics = {
            "completed_orders": o.get("completed_orders", 0),
            "revenue": money(o.get("revenue_cents")),
            "review_count": r.get("review_count", 0),
            "revenue_rank": rank,
            "ranked_sellers": seller.ranked_sellers,
            "revenue_top_percent": (
                None if rank is None else Fraction(100 * rank, seller.ranked_sellers)
            ),
            "unique_buyers": o.get("unique_buyers", 0),
            "tenure_days": tenure_days(joined_at=seller.joined_at, cutoff=window.cutoff),
            "inquiries": n_inquiries,
            "answered_in_time": answered_in_time,
            "response_rate": _rate(answered_in_time, n_inquiries),
            "window_completed_orders": o.get("window_completed_orders", 0),
            "window_revenue": money(o.get("window_revenue_cents")),
            "finished_orders": finished,
            "success_rate": _rate(o.get("finished_completed", 0), finished),
            "cancellation_rate": _rate(o.get("finished_cancelled", 0), finished),
            "seller_cancellation_rate": _rate(o.get("seller_cancelled", 0), finished),
            "delivered_orders": delivered,
            "on_time_rate": _rate(o.get("delivered_on_time", 0), delivered),
            "window_review_count": window_reviews,
            "average_rating": (
                None if window_reviews == 0 else Fraction(int(r["rating_sum"]), window_reviews)
            ),
            "negative_review_rate": _rate(r.get("negative_reviews", 0), window_reviews),
            "median_first_response_minutes": median_first_response_minutes(asked),
            "repeat_buyer_rate": _rate(o.get("repeat_buyers", 0), o.get("window_buyers", 0)),
        }
        assert tuple(metrics) == METRIC_KEYS, "compute.py and registry.py disagree on keys"
        result[seller_id] = metrics
    return result
