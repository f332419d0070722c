"""Set-based computation of every metric of SPEC §4.

Two statements, whose cost follows the window and the sellers:

1. figures (``window_figures`` / ``store_run_figures``): every order, review, case, survey and
   conversation figure, the all-time ones (completed orders, revenue and its RANK over all
   sellers, unique buyers, review count) and the window ones, for the policy window and each
   distinct criterion window (SPEC §5) at once, in one statement with one pass per table: one
   GROUP BY seller over the orders joined to their review and cases, one GROUP BY (seller,
   buyer), one over the surveys, one over the resolved conversations. A criterion window
   computes only the figures its criteria's metrics read (``figures_read_by``). A run pays it
   ONCE and stores the result per seller and window (``RunSellerFigures``); the live preview
   runs it for one seller.
2. inquiries (``window_inquiry_counts``), per chunk of sellers: only the messages in
   [widest window start − response window, cutoff) are read through the (seller, conversation,
   sent_at DESC) index, with one backward index step per conversation for the message just
   before the slice; window functions find the inquiries and each one's first seller reply, and
   PostgreSQL counts them and takes the median per window in SQL (SQLite reads the rows and
   counts them here).

The SQL runs unchanged on PostgreSQL and SQLite, and the results are identical on both: money is
summed as integer cents (SQLite would otherwise sum floats), timestamps are compared as the
backend stores them (Django stores UTC text on SQLite, whose order is time order), and every
derived value is an exact ``int`` / ``Decimal`` / ``Fraction`` built in Python
(``metrics/engine/registry.py``: the exact-value contract).

``metrics.engine.evidence`` lists the items behind the same counts: the inquiries through the
very same ``window_inquiries``, the orders and reviews through the ORM filters below
(``finished_q``, ``delivered_q``, ...), which say in Q objects what the figures statement says in
SQL. Two spellings of one rule, so they are tested against each other
(tests/metrics/test_evidence_selectors.py: evidence agrees with the computed metrics) and both
against the independent oracle of tests/oracle.py.

Measured at scale S (10,000 sellers, 1M orders, 3M messages, 400k reviews, 24 months) and L
(30M messages) against a hand-written SQL floor: bench/README.md. PostgreSQL's JIT is off
(``-c jit=off``): it compiled for seconds on queries that run in a fraction of that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.dateparse import parse_datetime

from common.pgcopy import copy_rows
from metrics.engine.periods import Window
from metrics.engine.registry import ENGINE_METRIC_KEYS, ExactValue, Metrics
from orders.models import (
    CancelledBy,
    Case,
    CaseKind,
    CaseOutcome,
    Conversation,
    Message,
    Order,
    Seller,
    Sender,
    Tracking,
)
from reviews.models import Review, Survey

logger = logging.getLogger(__name__)

# Queries of seller_metrics when the caller brings the order and review figures (a run's chunk);
# one more when it does not.
QUERIES_PER_CHUNK = 1

_CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# Filters shared with metrics.engine.evidence (one definition of "in the window" for both).


def in_window(field: str, window: Window) -> Q:
    """``field`` falls in [window.start, window.cutoff) (before the cutoff if start is None)."""
    condition = Q(**{f"{field}__lt": window.cutoff})
    if window.start is not None:
        condition &= Q(**{f"{field}__gte": window.start})
    return condition


def counted(prefix: str = "") -> Q:
    """Not excluded from metrics (SPEC §4: excluded orders and their reviews count in no rate)."""
    return Q(**{f"{prefix}excluded_from_metrics": False})


def completed_in_window_q(window: Window) -> Q:
    return in_window("completed_at", window)


def finished_q(window: Window) -> Q:
    """Orders in ``finished_orders``: counted, completed or cancelled in the window."""
    return counted() & (in_window("completed_at", window) | in_window("cancelled_at", window))


def delivered_q(window: Window) -> Q:
    """Orders in ``delivered_orders``. Delivered and later cancelled still counts (SPEC §4)."""
    return counted() & in_window("delivered_at", window)


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


# The program and customer-success rules (SPEC §4) in the ORM, for the evidence; the figures
# statement below says the same in SQL (tests/metrics/test_evidence_program.py holds them
# together).


def window_orders_q(window: Window) -> Q:
    """Orders in ``window_orders``: counted, created in the window."""
    return counted() & in_window("created_at", window)


def order_case_flags(window: Window) -> dict[str, Exists]:
    """Per order (annotations): a defect claim / chargeback (not dismissed before the cutoff:
    open ones count), and a case decided for the buyer before the cutoff."""
    cases = Case.objects.filter(order=OuterRef("pk"), opened_at__lt=window.cutoff)
    dismissed = Q(
        closed_at__lt=window.cutoff,
        outcome__in=[CaseOutcome.SELLER_FAVOUR, CaseOutcome.WITHDRAWN],
    )
    return {
        "claim": Exists(cases.filter(kind=CaseKind.CLAIM).exclude(dismissed)),
        "chargeback": Exists(cases.filter(kind=CaseKind.CHARGEBACK).exclude(dismissed)),
        "unresolved_case": Exists(
            cases.filter(closed_at__lt=window.cutoff, outcome=CaseOutcome.BUYER_FAVOUR)
        ),
    }


def dispatch_q(window: Window) -> Q:
    """Orders in ``dispatch_orders``: ship_by in the window, not cancelled before it."""
    return (
        counted()
        & in_window("ship_by", window)
        & (Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=F("ship_by")))
    )


def shipped_q(window: Window) -> Q:
    return counted() & in_window("shipped_at", window)


def cases_opened_q(window: Window) -> Q:
    """Cases in ``cases_opened`` (a Case filter): opened in the window, order not excluded."""
    return counted("order__") & in_window("opened_at", window)


def window_surveys_q(window: Window) -> Q:
    """Surveys answered in the window (a Survey filter), order not excluded."""
    return counted("order__") & in_window("answered_at", window)


def resolved_conversations(window: Window) -> QuerySet[Conversation, Conversation]:
    """Conversations in ``resolved_conversations``, annotated with ``first_message_at``."""
    first = Message.objects.filter(
        seller_id=OuterRef("seller_id"), conversation=OuterRef("external_id")
    ).order_by("sent_at", "pk")
    return (
        Conversation.objects.filter(in_window("resolved_at", window))
        .annotate(first_message_at=Subquery(first.values("sent_at")[:1]))
        .filter(first_message_at__lt=F("resolved_at"))
    )


def previous_window_buyers(window: Window) -> QuerySet[Order, Order] | None:
    """The counted orders completed in the previous window (their buyers are the denominator
    of ``buyer_retention_rate``); None with an all-time window."""
    previous_start = window.previous_start
    if previous_start is None or window.start is None:
        return None
    return Order.objects.filter(
        counted(), completed_at__gte=previous_start, completed_at__lt=window.start
    )


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


# The inquiries of a window, read from a slice of messages bounded by the window (SPEC §4).
#
# An inquiry's deadline is in [start, cutoff) iff its sent_at is in [start − h, cutoff − h), and
# its first reply (if any counts) is in (sent_at, cutoff): so only the messages in
# [start − h, cutoff) are read. Whether a message is an inquiry depends on the message just
# before it in its conversation; inside the slice that is LEAD() newest first, and for the
# first message of a conversation in the slice it is the last message before the slice: one
# step on the same index, taken only for those rows (CASE evaluates it lazily). Both read the
# index ``message_conversation_walk`` (seller, conversation, sent_at DESC, id DESC) INCLUDE
# (sender): the walk's order without a sort, and index-only (issue 23: a chunk of 1,000
# sellers at scale S went from 0.75 s, a bitmap heap scan and a sort spilled to disk, to
# 0.34-0.40 s; one pass over all sellers costs what the ten chunks cost). With no window start
# (window_months = 0) the slice is all of history and the first message of a conversation has
# no predecessor.
_INQUIRIES_CTE = """
WITH slice AS (
    SELECT m.seller_id, m.id, m.conversation, m.sender, m.sent_at
    FROM {message} m
    WHERE m.seller_id IN ({seller_ids}) AND m.sent_at < %(cutoff)s {slice_lower} {conversation}
), walked AS (
    -- One pass over each conversation, newest message first (the index order): LEAD is the message
    -- before this one (NULL for the first in the slice); the running MIN of the seller
    -- messages seen so far is the first seller reply after this one. The frame is anchored at
    -- the partition start, so MIN is carried from row to row ("ROWS BETWEEN 1 FOLLOWING AND
    -- UNBOUNDED FOLLOWING" in time order would restart it at every row: quadratic).
    SELECT s.seller_id, s.id, s.conversation, s.sender, s.sent_at,
           LEAD(s.sender) OVER newest_first AS previous_sender,
           LEAD(s.id) OVER newest_first AS previous_id,
           MIN(CASE WHEN s.sender = %(seller)s THEN s.sent_at END) OVER (
               newest_first ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS first_reply_at
    FROM slice s
    WINDOW newest_first AS (
        PARTITION BY s.seller_id, s.conversation ORDER BY s.sent_at DESC, s.id DESC
    )
), inquiries AS (
    SELECT w.seller_id, w.id, w.conversation, w.sent_at, w.first_reply_at
    FROM walked w
    WHERE w.sender = %(buyer)s AND w.sent_at < %(last_sent)s {inquiry_lower}
      AND (CASE
          WHEN w.previous_id IS NOT NULL THEN w.previous_sender = %(seller)s
          ELSE {first_in_slice}
      END)
)
"""
_FIRST_IN_SLICE_AFTER_HISTORY = """COALESCE((
              SELECT p.sender FROM {message} p
              WHERE p.seller_id = w.seller_id AND p.conversation = w.conversation
                AND p.sent_at < %(slice_start)s
              ORDER BY p.sent_at DESC, p.id DESC
              LIMIT 1
          ), %(seller)s) = %(seller)s"""

_INQUIRY_ROWS_SQL = """
SELECT seller_id, id, conversation, sent_at, first_reply_at
FROM inquiries
ORDER BY seller_id, sent_at, id
"""

# PostgreSQL aggregates per seller in the database, each window's inquiries in the same pass
# (those sent from the window start minus the response window on). The median of the response
# times in microseconds is exact in double precision (integers below 2**53, i.e. under 285 years;
# the mean of the two middle ones is a half-integer, also exact), so percentile_cont loses
# nothing.
_INQUIRY_WINDOW_COUNTS_POSTGRES = """
       COUNT(*) FILTER (WHERE {sent}) AS inquiries_{i},
       COUNT(*) FILTER (WHERE {sent}
                        AND first_reply_at <= sent_at + %(hours)s * INTERVAL '1 hour')
           AS answered_in_time_{i},
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY CAST(ROUND(EXTRACT(EPOCH FROM (first_reply_at - sent_at)) * 1000000)
                         AS double precision)
       ) FILTER (WHERE {sent}) AS median_microseconds_{i}"""


def _inquiries_sql(
    *, seller_ids: Sequence[int], window: Window, conversation: str | None, select: str
) -> tuple[str, dict[str, Any]]:
    hours = timedelta(hours=window.response_window_hours)
    cutoff = window.cutoff.astimezone(UTC)
    params: dict[str, Any] = {
        "cutoff": _db_datetime(cutoff),
        "last_sent": _db_datetime(cutoff - hours),
        "seller": Sender.SELLER,
        "buyer": Sender.BUYER,
        "hours": window.response_window_hours,
    }
    params.update({f"s{i}": seller_id for i, seller_id in enumerate(seller_ids)})
    message = connection.ops.quote_name(Message._meta.db_table)
    slice_lower = inquiry_lower = ""
    first_in_slice = "TRUE" if connection.vendor == "postgresql" else "1"
    if window.start is not None:
        params["slice_start"] = _db_datetime(window.start.astimezone(UTC) - hours)
        slice_lower = "AND m.sent_at >= %(slice_start)s"
        inquiry_lower = "AND w.sent_at >= %(slice_start)s"
        first_in_slice = _FIRST_IN_SLICE_AFTER_HISTORY.format(message=message)
    conversation_sql = ""
    if conversation is not None:
        conversation_sql = "AND m.conversation = %(conversation)s"
        params["conversation"] = conversation
    sql = _INQUIRIES_CTE.format(
        message=message,
        seller_ids=", ".join(f"%(s{i})s" for i in range(len(seller_ids))),
        slice_lower=slice_lower,
        inquiry_lower=inquiry_lower,
        conversation=conversation_sql,
        first_in_slice=first_in_slice,
    )
    return sql + select, params


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
    sql, params = _inquiries_sql(
        seller_ids=seller_ids, window=window, conversation=conversation, select=_INQUIRY_ROWS_SQL
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


@dataclass(frozen=True)
class InquiryCounts:
    inquiries: int = 0
    answered_in_time: int = 0
    median_first_response_minutes: Fraction | None = None


def inquiry_counts(*, seller_ids: Sequence[int], window: Window) -> dict[int, InquiryCounts]:
    """Per seller: inquiries, answered in time and the median first response (one query)."""
    return {
        pk: counts[0]
        for pk, counts in window_inquiry_counts(seller_ids=seller_ids, windows=[window]).items()
    }


def window_inquiry_counts(
    *, seller_ids: Sequence[int], windows: Sequence[Window]
) -> dict[int, list[InquiryCounts]]:
    """Per seller and for each of ``windows`` (one cutoff and response window): inquiries,
    answered in time and the median first response, in one query that walks the messages of
    the widest window once (a narrower window's inquiries are the walk's inquiries sent from its
    own start minus the response window on: whether a message is an inquiry does not depend on
    the window). Sellers without an inquiry in any window are left out.

    PostgreSQL counts and takes the medians in SQL; SQLite (the embedded default, no
    percentile_cont) reads the inquiry rows and counts them here.
    """
    if not seller_ids or not windows:
        return {}
    if len({(w.cutoff, w.response_window_hours) for w in windows}) != 1:
        raise ValueError("the inquiries of one query share one cutoff and response window")
    slice_window = widest(windows)
    hours = timedelta(hours=slice_window.response_window_hours)
    if connection.vendor != "postgresql":
        grouped: dict[int, list[Inquiry]] = {}
        for inquiry in window_inquiries(seller_ids=seller_ids, window=slice_window):
            grouped.setdefault(inquiry.seller_id, []).append(inquiry)
        result: dict[int, list[InquiryCounts]] = {}
        for seller_id, every in grouped.items():
            counts = []
            for window in windows:
                asked = (
                    every
                    if window.start is None
                    else [i for i in every if i.sent_at >= window.start - hours]
                )
                counts.append(
                    InquiryCounts(
                        inquiries=len(asked),
                        answered_in_time=sum(1 for inquiry in asked if inquiry.in_time),
                        median_first_response_minutes=median_first_response_minutes(asked),
                    )
                )
            result[seller_id] = counts
        return result
    extra: dict[str, Any] = {}
    columns = []
    for i, window in enumerate(windows):
        sent = "TRUE"
        if window.start is not None:
            extra[f"sent_from{i}"] = _db_datetime(window.start.astimezone(UTC) - hours)
            sent = f"sent_at >= %(sent_from{i})s"
        columns.append(_INQUIRY_WINDOW_COUNTS_POSTGRES.format(i=i, sent=sent))
    select = f"SELECT seller_id,{','.join(columns)}\nFROM inquiries\nGROUP BY seller_id\n"
    sql, params = _inquiries_sql(
        seller_ids=seller_ids, window=slice_window, conversation=None, select=select
    )
    params.update(extra)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        row[0]: [
            InquiryCounts(
                inquiries=int(asked),
                answered_in_time=int(in_time or 0),
                median_first_response_minutes=(
                    None
                    if middle is None
                    else Fraction(middle) / _MICROSECONDS_PER_MINUTE  # exact: see the SQL above
                ),
            )
            for asked, in_time, middle in zip(row[1::3], row[2::3], row[3::3], strict=True)
        ]
        for row in rows
    }


# ---------------------------------------------------------------------------------------------
# Every order, review, case, survey and conversation figure (SPEC §4), all-time and for every
# window a run needs (the policy window and each criterion's own window, SPEC §5), in ONE
# statement: one pass per table whatever the number of windows.
#
# Orders (with their one review, joined in the same scan, and their cases aggregated per order):
# one GROUP BY seller gives every count and sum; each window adds its own SUM(CASE …) columns to
# the same aggregate. The revenue RANK runs over its rows. One GROUP BY (seller, buyer) gives the
# buyers: unique_buyers (pairs with a completed order), and per window the repeat buyers (the
# pair's earliest counted completion strictly before its latest counted window order: SPEC §4)
# and the retained ones (a completion in the previous window and an order in this one); only
# the orders that can make a buyer are read (completed before the cutoff, or created in a
# window). Surveys: one GROUP BY seller over those answered in the widest window. Conversations
# resolved in the widest window get their first message once (one backward step on the
# message index, in a MATERIALIZED CTE so that it is not re-evaluated per use), then the exact
# median per window from ROW_NUMBER over (seller, window).
#
# Measured at scale S (1M orders, 400k reviews, 250k surveys, 110k resolved conversations): see
# bench/README.md. A run pays this once (``store_run_figures``) and stores one row per seller
# and window (``RunSellerFigures``); its chunks read their rows back and add the inquiries. With
# a seller filter (the live preview, the criterion windows of a preview, tests) the pairs are
# read through the seller index and the rank through a second, seller-level aggregate over every
# completed order.

# Every seller's completed-order revenue, for the rank when the sellers above are filtered.
_RANK_SOURCE_SQL = """(
    SELECT o.seller_id, COUNT(*) AS completed_orders, SUM({cents}) AS revenue_cents
    FROM {order} o
    WHERE o.completed_at < %(cutoff)s
    GROUP BY o.seller_id
) everyone"""

# Columns of a figures row after the seller id, in the order of the SELECT above; the names of
# the Figures fields and of the RunSellerFigures columns.
FIGURE_COLUMNS = (
    "joined_at",
    "completed_orders",
    "revenue_cents",
    "unique_buyers",
    "review_count",
    "revenue_rank",
    "ranked_sellers",
    "window_completed_orders",
    "window_revenue_cents",
    "finished_completed",
    "finished_cancelled",
    "seller_cancelled",
    "delivered_orders",
    "delivered_on_time",
    "window_buyers",
    "repeat_buyers",
    "window_review_count",
    "rating_sum",
    "negative_reviews",
    "window_orders",
    "defective_orders",
    "case_orders",
    "unresolved_case_orders",
    "cases_opened",
    "dispatch_orders",
    "late_shipments",
    "shipped_orders",
    "valid_tracking",
    "csat_responses",
    "csat_satisfied",
    "nps_responses",
    "nps_promoters",
    "nps_detractors",
    "resolved_conversations",
    "resolution_middle_micros",
    "resolution_middle_count",
    "previous_buyers",
    "retained_buyers",
)


@dataclass(frozen=True)
class Figures:
    """A seller's order and review figures for a window (all but the inquiries), exact ints."""

    joined_at: datetime
    completed_orders: int = 0
    revenue_cents: int = 0
    unique_buyers: int = 0
    review_count: int = 0
    revenue_rank: int | None = None
    ranked_sellers: int = 0
    window_completed_orders: int = 0
    window_revenue_cents: int = 0
    finished_completed: int = 0
    finished_cancelled: int = 0
    seller_cancelled: int = 0
    delivered_orders: int = 0
    delivered_on_time: int = 0
    window_buyers: int = 0
    repeat_buyers: int = 0
    window_review_count: int = 0
    rating_sum: int = 0
    negative_reviews: int = 0
    window_orders: int = 0
    defective_orders: int = 0
    case_orders: int = 0
    unresolved_case_orders: int = 0
    cases_opened: int = 0
    dispatch_orders: int = 0
    late_shipments: int = 0
    shipped_orders: int = 0
    valid_tracking: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    nps_responses: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    resolved_conversations: int = 0
    # The sum of the one (odd count) or two (even count) middle resolution times, in
    # microseconds, and how many there are: the median is their exact mean.
    resolution_middle_micros: int = 0
    resolution_middle_count: int = 0
    previous_buyers: int = 0
    retained_buyers: int = 0


# Positional construction (stored rows) relies on it.
assert tuple(field.name for field in fields(Figures)) == FIGURE_COLUMNS

# The first figures are the same in every window (cumulative: everything before the cutoff);
# the others are the window's.
CUMULATIVE_FIGURES = FIGURE_COLUMNS[:7]
WINDOW_FIGURES = FIGURE_COLUMNS[7:]


def _figures_of(row: Sequence[Any]) -> Figures:
    """A row in FIGURE_COLUMNS order (joined_at first) → Figures."""
    values = dict(zip(FIGURE_COLUMNS, row, strict=True))
    joined_at, rank = values.pop("joined_at"), values.pop("revenue_rank")
    return Figures(
        joined_at=_as_utc(joined_at),
        revenue_rank=None if rank is None else int(rank),
        **{name: int(value or 0) for name, value in values.items()},
    )


def _micros_between_sql(later: str, earlier: str) -> str:
    """SQL for ``later - earlier`` in integer microseconds, exactly, on either backend.

    PostgreSQL: EXTRACT(EPOCH FROM interval) is numeric (exact). SQLite stores Django's UTC
    text "YYYY-MM-DD HH:MM:SS[.ffffff]": whole seconds from strftime('%s') of the text without
    its fraction (strftime rounds a fraction to milliseconds), the microseconds from the text
    (never julianday()'s float).
    """
    if connection.vendor == "postgresql":
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000) AS BIGINT)"

    def micros(moment: str) -> str:
        return (
            f"(CAST(strftime('%%s', substr({moment}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({moment} || '.000000', 21, 6) AS INTEGER))"
        )

    return f"({micros(later)} - {micros(earlier)})"


def _sum_if(condition: str, value: str = "1") -> str:
    """The sum of ``value`` over the rows where ``condition`` holds (0 when none does).

    An aggregate FILTER (PostgreSQL, SQLite ≥ 3.30) skips the other rows before the aggregate
    sees them: measured at scale S, the figures statement took ~20 % less time than with
    SUM(CASE WHEN … THEN 1 ELSE 0 END)."""
    if value == "1":
        return f"COUNT(*) FILTER (WHERE {condition})"
    return f"COALESCE(SUM({value}) FILTER (WHERE {condition}), 0)"


@dataclass(frozen=True)
class _WindowSql:
    """SQL conditions of window number ``i`` (its parameters are start{i}, previous_start{i})."""

    i: int
    window: Window

    def within(self, column: str) -> str:
        """``column`` in [start, cutoff) (before the cutoff when the window is all time)."""
        if self.window.start is None:
            return f"{column} < %(cutoff)s"
        return f"({column} >= %(start{self.i})s AND {column} < %(cutoff)s)"

    def completed_before(self) -> str:
        """An order completed in the previous window (SPEC §4 buyer_retention_rate)."""
        if self.window.previous_start is None:  # all time: no previous window
            return "1 = 0"
        return (
            f"(o.completed_at >= %(previous_start{self.i})s AND o.completed_at < %(start{self.i})s)"
        )

    def params(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.window.start is not None:
            values[f"start{self.i}"] = _db_datetime(self.window.start.astimezone(UTC))
        if self.window.previous_start is not None:
            values[f"previous_start{self.i}"] = _db_datetime(
                self.window.previous_start.astimezone(UTC)
            )
        return values


def widest(windows: Sequence[Window]) -> Window:
    """The window whose start is earliest (an all-time window if there is one): what every
    window reads is inside it."""
    return min(windows, key=lambda w: (w.start is not None, w.start or 0))


def _widest(windows: Sequence[_WindowSql]) -> _WindowSql:
    earliest = widest([w.window for w in windows])
    return next(w for w in windows if w.window is earliest)


# The window figures each window metric reads (SPEC §4); the inquiry metrics read none (the
# chunks' message walk). A criterion window computes only what its criteria's metrics read.
INQUIRY_METRICS = frozenset(
    {"inquiries", "answered_in_time", "response_rate", "median_first_response_minutes"}
)
_RATE_FIGURES: dict[str, tuple[str, ...]] = {
    "window_completed_orders": ("window_completed_orders",),
    "window_revenue": ("window_revenue_cents",),
    "finished_orders": ("finished_completed", "finished_cancelled"),
    "success_rate": ("finished_completed", "finished_cancelled"),
    "cancellation_rate": ("finished_completed", "finished_cancelled"),
    "seller_cancellation_rate": ("finished_completed", "finished_cancelled", "seller_cancelled"),
    "delivered_orders": ("delivered_orders",),
    "on_time_rate": ("delivered_orders", "delivered_on_time"),
    "window_review_count": ("window_review_count",),
    "average_rating": ("window_review_count", "rating_sum"),
    "negative_review_rate": ("window_review_count", "negative_reviews"),
    "repeat_buyer_rate": ("window_buyers", "repeat_buyers"),
    "window_orders": ("window_orders",),
    "order_defect_rate": ("window_orders", "defective_orders"),
    "dispatch_orders": ("dispatch_orders",),
    "late_shipment_rate": ("dispatch_orders", "late_shipments"),
    "shipped_orders": ("shipped_orders",),
    "valid_tracking_rate": ("shipped_orders", "valid_tracking"),
    "cases_opened": ("cases_opened",),
    "case_rate": ("window_orders", "case_orders"),
    "unresolved_case_rate": ("window_orders", "unresolved_case_orders"),
    "csat_responses": ("csat_responses",),
    "csat_percent": ("csat_responses", "csat_satisfied"),
    "nps_responses": ("nps_responses",),
    "nps": ("nps_responses", "nps_promoters", "nps_detractors"),
    "resolved_conversations": ("resolved_conversations",),
    "median_resolution_hours": (
        "resolved_conversations",
        "resolution_middle_micros",
        "resolution_middle_count",
    ),
    "buyer_retention_rate": ("previous_buyers", "retained_buyers"),
    "buyer_churn_rate": ("previous_buyers", "retained_buyers"),
}


def figures_read_by(metrics: Iterable[str]) -> frozenset[str]:
    """The window figures that ``metrics`` (window metric keys) read."""
    return frozenset(name for key in metrics for name in _RATE_FIGURES.get(key, ()))


def _seller_columns(w: _WindowSql) -> dict[str, str]:
    """Figure → its per-seller sum over window ``w`` in the ``sellers`` CTE (orders with their
    review and cases)."""
    counted = "o.excluded_from_metrics = %(no)s"
    created, ship_by = w.within("o.created_at"), w.within("o.ship_by")
    shipped = w.within("o.shipped_at")
    completed, cancelled = w.within("o.completed_at"), w.within("o.cancelled_at")
    delivered, reviewed = w.within("o.delivered_at"), w.within("r.created_at")
    dispatched = (
        f"{counted} AND {ship_by} AND (o.cancelled_at IS NULL OR o.cancelled_at >= o.ship_by)"
    )
    on_time = "(o.due_at IS NULL OR o.delivered_at <= o.due_at)"
    return {
        "window_completed_orders": _sum_if(completed),
        "window_revenue_cents": _sum_if(completed, "CAST(ROUND(o.amount * 100) AS BIGINT)"),
        "finished_completed": _sum_if(f"{counted} AND {completed}"),
        "finished_cancelled": _sum_if(f"{counted} AND {cancelled}"),
        "seller_cancelled": _sum_if(
            f"{counted} AND {cancelled} AND o.cancelled_by = %(by_seller)s"
        ),
        "delivered_orders": _sum_if(f"{counted} AND {delivered}"),
        "delivered_on_time": _sum_if(f"{counted} AND {delivered} AND {on_time}"),
        "window_review_count": _sum_if(f"{counted} AND {reviewed}"),
        "rating_sum": _sum_if(f"{counted} AND {reviewed}", "r.rating"),
        "negative_reviews": _sum_if(f"{counted} AND {reviewed} AND r.rating <= 2"),
        # Program metrics (SPEC §4): the window's orders, their defects and cases.
        "window_orders": _sum_if(f"{counted} AND {created}"),
        "defective_orders": _sum_if(
            f"{counted} AND {created} AND (r.rating <= 2 OR cased.defect = 1)"
        ),
        "case_orders": _sum_if(f"{counted} AND {created} AND cased.order_id IS NOT NULL"),
        "unresolved_case_orders": _sum_if(f"{counted} AND {created} AND cased.unresolved = 1"),
        "cases_opened": _sum_if(
            f"{counted} AND cased.opened_in_{w.i} IS NOT NULL", f"cased.opened_in_{w.i}"
        ),
        "dispatch_orders": _sum_if(dispatched),
        "late_shipments": _sum_if(
            f"{dispatched} AND (o.shipped_at IS NULL OR o.shipped_at > o.ship_by)"
        ),
        "shipped_orders": _sum_if(f"{counted} AND {shipped}"),
        "valid_tracking": _sum_if(f"{counted} AND {shipped} AND o.tracking = %(valid)s"),
    }


def _buyer_columns(w: _WindowSql) -> dict[str, str]:
    """Figure → its per-seller sum over window ``w`` in the ``repeats`` CTE (from ``pairs``)."""
    i = w.i
    return {
        "window_buyers": _sum_if(f"latest_order_{i} IS NOT NULL"),
        "repeat_buyers": _sum_if(f"first_completion < latest_order_{i}"),
        "previous_buyers": f"SUM(previous_buyer_{i})",
        "retained_buyers": _sum_if(f"previous_buyer_{i} = 1 AND latest_order_{i} IS NOT NULL"),
    }


def _survey_columns(w: _WindowSql) -> dict[str, str]:
    answered = w.within("sv.answered_at")
    return {
        "csat_responses": _sum_if(f"sv.csat IS NOT NULL AND {answered}"),
        "csat_satisfied": _sum_if(f"sv.csat >= 4 AND {answered}"),
        "nps_responses": _sum_if(f"sv.nps IS NOT NULL AND {answered}"),
        "nps_promoters": _sum_if(f"sv.nps >= 9 AND {answered}"),
        "nps_detractors": _sum_if(f"sv.nps <= 6 AND {answered}"),
    }


def _resolution_columns(w: _WindowSql) -> dict[str, str]:
    middle = f"w = {w.i} AND k IN ((n + 1) / 2, (n + 2) / 2)"
    return {
        "resolved_conversations": _sum_if(f"w = {w.i}"),
        "resolution_middle_micros": _sum_if(middle, "micros"),
        "resolution_middle_count": _sum_if(middle),
    }


_BUYER_FIGURES = frozenset({"window_buyers", "repeat_buyers", "previous_buyers", "retained_buyers"})
_SURVEY_FIGURES = frozenset(
    {"csat_responses", "csat_satisfied", "nps_responses", "nps_promoters", "nps_detractors"}
)
_RESOLUTION_FIGURES = frozenset(
    {"resolved_conversations", "resolution_middle_micros", "resolution_middle_count"}
)
_SELLER_FIGURES = frozenset(WINDOW_FIGURES) - _BUYER_FIGURES - _SURVEY_FIGURES - _RESOLUTION_FIGURES
# Which CTE holds each window figure.
_CTE_OF = (
    dict.fromkeys(_SELLER_FIGURES, "sellers")
    | dict.fromkeys(_BUYER_FIGURES, "repeats")
    | dict.fromkeys(_SURVEY_FIGURES, "surveyed")
    | dict.fromkeys(_RESOLUTION_FIGURES, "resolutions")
)
assert set(_CTE_OF) == set(WINDOW_FIGURES)


def _columns(
    parts: Sequence[_WindowSql],
    needs: Sequence[frozenset[str]],
    columns_of: Any,
) -> str:
    """``expr AS figure_i`` for every figure of ``columns_of(window)`` each window needs."""
    return "".join(
        f",\n           {expr} AS {name}_{part.i}"
        for part, need in zip(parts, needs, strict=True)
        for name, expr in columns_of(part).items()
        if name in need
    )


def _resolution_ctes(
    parts: Sequence[_WindowSql], wanted: Sequence[frozenset[str]], *, conversation_sellers: str
) -> list[str]:
    """The CTEs that end in ``resolutions``: per seller, each window's resolved conversations
    and the one or two middle resolution times (the exact median)."""
    quote = connection.ops.quote_name
    conversation, message = quote(Conversation._meta.db_table), quote(Message._meta.db_table)
    using = [p for p, need in zip(parts, wanted, strict=True) if need & _RESOLUTION_FIGURES]
    widest_window = _widest(using)
    resolution_times = "\n    UNION ALL\n    ".join(
        f"SELECT {p.i} AS w, seller_id, micros FROM first_sent WHERE {p.within('resolved_at')}"
        for p in using
    )
    return [
        f"""resolved AS MATERIALIZED (
    -- Conversations resolved in the widest window, each with its first message (one index
    -- step on (seller, conversation, sent_at)), read once: MATERIALIZED, or the planner copies
    -- the subquery into every expression that uses first_at.
    SELECT cv.seller_id, cv.resolved_at,
           (SELECT MIN(m.sent_at) FROM {message} m
            WHERE m.seller_id = cv.seller_id AND m.conversation = cv.external_id) AS first_at
    FROM {conversation} cv
    WHERE {widest_window.within("cv.resolved_at")} {conversation_sellers}
)""",
        f"""first_sent AS MATERIALIZED (
    -- Only those with a message before resolved_at count; their resolution times.
    SELECT seller_id, resolved_at, {_micros_between_sql("resolved_at", "first_at")} AS micros
    FROM resolved
    WHERE first_at < resolved_at
)""",
        f"""resolution_times AS (
    {resolution_times}
)""",
        """numbered AS (
    SELECT w, seller_id, micros,
           ROW_NUMBER() OVER (PARTITION BY seller_id, w ORDER BY micros) AS k,
           COUNT(*) OVER (PARTITION BY seller_id, w) AS n
    FROM resolution_times
)""",
        f"""resolutions AS (
    -- The exact median per window: the one or two middle times, in integer microseconds.
    SELECT seller_id{_columns(parts, wanted, _resolution_columns)}
    FROM numbered
    GROUP BY seller_id
)""",
    ]


def _figures_sql(
    *,
    windows: Sequence[Window],
    seller_ids: Sequence[int] | None,
    needs: Sequence[frozenset[str] | None] | None = None,
    cumulative: bool = True,
    resolutions: bool = True,
) -> tuple[str, dict[str, Any]]:
    """The figures statement for ``windows`` (one cutoff and response window; the first one's
    cumulative figures are every window's). Each row: seller id, the cumulative figures, then
    WINDOW_FIGURES for each window in turn. ``needs``: per window, the window figures to
    compute (None: all); the others come back as 0, and no pass reads more than a needed figure
    asks for. ``cumulative=False`` (a caller that reads window figures only: the criterion
    windows of a preview): no revenue rank and no all-time buyers (the rank alone reads every
    seller's completed orders): revenue_rank comes back None, ranked_sellers and unique_buyers 0.
    ``resolutions=False``: the resolution figures come back as 0, for a caller that computes
    them beside it (``resolution_figures``)."""
    if not windows or len({w.cutoff for w in windows}) != 1:
        raise ValueError("the figures of one statement share one cutoff")
    parts = [_WindowSql(i, window) for i, window in enumerate(windows)]
    wanted = [
        frozenset(WINDOW_FIGURES) if need is None else need
        for need in (needs if needs is not None else [None] * len(parts))
    ]

    def widest_using(figures: frozenset[str]) -> _WindowSql | None:
        using = [p for p, need in zip(parts, wanted, strict=True) if need & figures]
        return _widest(using) if using else None

    params: dict[str, Any] = {
        "cutoff": _db_datetime(windows[0].cutoff.astimezone(UTC)),
        "no": False,
        "by_seller": CancelledBy.SELLER,
        "valid": Tracking.VALID,
        "claim": CaseKind.CLAIM,
        "chargeback": CaseKind.CHARGEBACK,
        "seller_favour": CaseOutcome.SELLER_FAVOUR,
        "withdrawn": CaseOutcome.WITHDRAWN,
        "buyer_favour": CaseOutcome.BUYER_FAVOUR,
    }
    for part in parts:
        params.update(part.params())
    quote = connection.ops.quote_name
    order, review = quote(Order._meta.db_table), quote(Review._meta.db_table)
    case, survey = quote(Case._meta.db_table), quote(Survey._meta.db_table)
    cents = "CAST(ROUND(o.amount * 100) AS BIGINT)"
    order_sellers = seller_filter = case_sellers = conversation_sellers = ""
    rank_source = "sellers"
    if seller_ids is not None:
        params.update({f"s{i}": seller_id for i, seller_id in enumerate(seller_ids)})
        in_list = ", ".join(f"%(s{i})s" for i in range(len(seller_ids)))
        order_sellers = f"AND o.seller_id IN ({in_list})"
        seller_filter = f"WHERE s.id IN ({in_list})"
        # Cases carry no seller: through their orders, for these sellers only.
        case_sellers = f"JOIN {order} co ON co.id = c.order_id AND co.seller_id IN ({in_list})"
        conversation_sellers = f"AND cv.seller_id IN ({in_list})"
        if cumulative:
            rank_source = _RANK_SOURCE_SQL.format(cents=cents, order=order)
    counted = "o.excluded_from_metrics = %(no)s"
    opened_in = "".join(
        f",\n           {_sum_if(p.within('c.opened_at'))} AS opened_in_{p.i}"
        for p, need in zip(parts, wanted, strict=True)
        if "cases_opened" in need
    )
    ctes = [
        f"""cased AS (
    -- Per order with a case opened before the cutoff: a defect (a claim or chargeback not
    -- dismissed before the cutoff: open cases count), decided for the buyer before the cutoff,
    -- and how many were opened in each window that counts them.
    SELECT c.order_id,
           MAX(CASE WHEN c.kind IN (%(claim)s, %(chargeback)s)
                         AND (c.closed_at IS NULL OR c.closed_at >= %(cutoff)s
                              OR c.outcome NOT IN (%(seller_favour)s, %(withdrawn)s))
                    THEN 1 ELSE 0 END) AS defect,
           MAX(CASE WHEN c.closed_at < %(cutoff)s AND c.outcome = %(buyer_favour)s
                    THEN 1 ELSE 0 END) AS unresolved{opened_in}
    FROM {case} c {case_sellers}
    WHERE c.opened_at < %(cutoff)s
    GROUP BY c.order_id
)""",
        f"""sellers AS (
    -- One scan of the orders with their review (one per order) and their cases.
    SELECT o.seller_id,
           {_sum_if("o.completed_at < %(cutoff)s")} AS completed_orders,
           {_sum_if("o.completed_at < %(cutoff)s", cents)} AS revenue_cents,
           COUNT(r.id) AS review_count{_columns(parts, wanted, _seller_columns)}
    FROM {order} o
    LEFT JOIN {review} r ON r.order_id = o.id AND r.created_at < %(cutoff)s
    LEFT JOIN cased ON cased.order_id = o.id
    WHERE o.created_at < %(cutoff)s {order_sellers}
    GROUP BY o.seller_id
)""",
    ]
    # The buyers: every window's (unique_buyers is cumulative, so with cumulative figures the
    # pairs are always read).
    buyer_parts = [p for p, need in zip(parts, wanted, strict=True) if need & _BUYER_FIGURES]
    buyers_widest = widest_using(_BUYER_FIGURES)
    joins = ["sellers"]
    # Only the orders that can make a buyer (completed before the cutoff, or created in a
    # window); with an all-time window, every order before the cutoff.
    buyer_orders = (
        ""
        if buyers_widest is None or buyers_widest.window.start is None
        else f"AND (o.completed_at < %(cutoff)s OR {buyers_widest.within('o.created_at')})"
    )
    if buyers_widest is None:
        buyer_orders = "AND o.completed_at < %(cutoff)s"
    pair_columns = "".join(
        f",\n           MAX(CASE WHEN {counted} AND {p.within('o.created_at')}"
        f" THEN o.created_at END) AS latest_order_{p.i}"
        f",\n           MAX(CASE WHEN {counted} AND {p.completed_before()}"
        f" THEN 1 ELSE 0 END) AS previous_buyer_{p.i}"
        for p in buyer_parts
    )
    if cumulative or buyer_parts:
        joins.append("repeats")
        ctes += [
            f"""pairs AS (
    SELECT o.seller_id,
           MAX(CASE WHEN o.completed_at < %(cutoff)s THEN 1 ELSE 0 END) AS bought,
           MIN(CASE WHEN {counted} THEN o.completed_at END) AS first_completion{pair_columns}
    FROM {order} o
    WHERE o.created_at < %(cutoff)s {buyer_orders} {order_sellers}
    GROUP BY o.seller_id, o.buyer
)""",
            f"""repeats AS (
    SELECT seller_id, SUM(bought) AS unique_buyers{_columns(parts, wanted, _buyer_columns)}
    FROM pairs
    GROUP BY seller_id
)""",
        ]
    if cumulative:
        joins.append("ranked")
        ctes.append(f"""ranked AS (
    SELECT seller_id, RANK() OVER (ORDER BY revenue_cents DESC) AS revenue_rank
    FROM {rank_source}
    WHERE completed_orders > 0
)""")
    surveys_widest = widest_using(_SURVEY_FIGURES)
    if surveys_widest is not None:
        ctes.append(f"""surveyed AS (
    SELECT o.seller_id{_columns(parts, wanted, _survey_columns)}
    FROM {survey} sv JOIN {order} o ON o.id = sv.order_id
    WHERE {surveys_widest.within("sv.answered_at")} AND o.excluded_from_metrics = %(no)s
          {order_sellers}
    GROUP BY o.seller_id
)""")
        joins.append("surveyed")
    if resolutions and widest_using(_RESOLUTION_FIGURES) is not None:
        ctes += _resolution_ctes(parts, wanted, conversation_sellers=conversation_sellers)
        joins.append("resolutions")
    unique_buyers = "COALESCE(repeats.unique_buyers, 0)" if cumulative else "0"
    rank = "ranked.revenue_rank, (SELECT COUNT(*) FROM ranked)" if cumulative else "NULL, 0"
    window_select = ",\n       ".join(
        f"COALESCE({_CTE_OF[name]}.{name}_{p.i}, 0)"
        if name in need and _CTE_OF[name] in joins
        else "0"
        for p, need in zip(parts, wanted, strict=True)
        for name in WINDOW_FIGURES
    )
    sql = f"""
WITH {", ".join(ctes)}
SELECT s.id, s.joined_at,
       COALESCE(sellers.completed_orders, 0), COALESCE(sellers.revenue_cents, 0),
       {unique_buyers}, COALESCE(sellers.review_count, 0),
       {rank},
       {window_select}
FROM {quote(Seller._meta.db_table)} s
{"".join(f"LEFT JOIN {name} ON {name}.seller_id = s.id{chr(10)}" for name in joins)}{seller_filter}
"""
    return sql, params


def _rows_figures(row: Sequence[Any], windows: int) -> list[Figures]:
    """A row of the figures statement (after the seller id) → its Figures for each window."""
    cumulative = tuple(row[: len(CUMULATIVE_FIGURES)])
    width = len(WINDOW_FIGURES)
    start = len(CUMULATIVE_FIGURES)
    return [
        _figures_of(cumulative + tuple(row[start + n * width : start + (n + 1) * width]))
        for n in range(windows)
    ]


def window_figures(
    *,
    windows: Sequence[Window],
    seller_ids: Sequence[int] | None,
    needs: Sequence[frozenset[str] | None] | None = None,
    cumulative: bool = True,
) -> dict[int, list[Figures]]:
    """The figures of these sellers (None: of every seller) over each of ``windows`` (one
    cutoff), ranked among every seller, in one query: {seller id: [Figures per window]}.
    ``needs``: per window, the window figures to compute (None: all; the others are 0);
    ``cumulative=False``: window figures only, no rank (see ``_figures_sql``)."""
    if seller_ids is not None and not seller_ids:
        return {}
    sql, params = _figures_sql(
        windows=windows, seller_ids=seller_ids, needs=needs, cumulative=cumulative
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {row[0]: _rows_figures(row[1:], len(windows)) for row in rows}


def seller_figures(*, window: Window, seller_ids: Sequence[int] | None) -> dict[int, Figures]:
    """The order and review figures of these sellers (None: of every seller) for one window,
    ranked among every seller, in one query."""
    return {
        pk: figures[0]
        for pk, figures in window_figures(windows=[window], seller_ids=seller_ids).items()
    }


# RunSellerFigures.window_days of the policy window's row.
POLICY_WINDOW = 0


def resolution_figures(
    *, windows: Mapping[int, Window], needs: Mapping[int, frozenset[str] | None] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The resolution figures of every seller for a run's ``windows`` (as ``store_run_figures``
    takes them), alone: one statement (the figures statement's ``resolutions``), so that
    another connection computes them while the figures statement runs without them (most of
    this one runs on one core). Returns the column names (``{figure}_{window index}``) and the
    rows (seller id first); none when no window reads a resolution figure."""
    keys = list(windows)
    parts = [_WindowSql(i, windows[key]) for i, key in enumerate(keys)]
    wanted = [
        frozenset(WINDOW_FIGURES) if need is None else need
        for need in ((needs or {}).get(key) for key in keys)
    ]
    if not any(need & _RESOLUTION_FIGURES for need in wanted):
        return [], []
    params: dict[str, Any] = {"cutoff": _db_datetime(windows[keys[0]].cutoff.astimezone(UTC))}
    for part in parts:
        params.update(part.params())
    ctes = _resolution_ctes(parts, wanted, conversation_sellers="")
    columns = [
        f"{name}_{part.i}"
        for part, need in zip(parts, wanted, strict=True)
        for name in _resolution_columns(part)
        if name in need
    ]
    sql = f"WITH {', '.join(ctes)}\nSELECT seller_id, {', '.join(columns)} FROM resolutions"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return columns, cursor.fetchall()


def store_run_figures(
    *,
    run_id: int,
    windows: Mapping[int, Window],
    needs: Mapping[int, frozenset[str] | None] | None = None,
    resolutions: Callable[[], tuple[list[str], list[tuple[Any, ...]]]] | None = None,
) -> int:
    """Every seller's figures for a run, one row per seller and window (``windows``: window
    days → Window, POLICY_WINDOW for the policy's; ``needs``: per window, the figures its
    criteria read, None or absent: all), from one figures statement. Returns the number of
    sellers stored.

    On PostgreSQL the rows never leave the server: the statement fills a temporary table by
    ``CREATE TABLE … AS`` (which, unlike an ``INSERT … SELECT``, may run in parallel), and one
    ``INSERT … SELECT`` unpivots it into a row per window. At scale S that is ~1 s less than
    fetching the 10,000 wide rows into Python and copying 30,000 back.

    ``resolutions`` (PostgreSQL): what ``resolution_figures`` returned on another connection
    while the statement ran without them; they are merged in while unpivoting. If it raises,
    they are computed here after all."""
    from metrics.models import RunSellerFigures

    keys = list(windows)
    beside = resolutions is not None and connection.vendor == "postgresql"
    sql, params = _figures_sql(
        windows=[windows[key] for key in keys],
        seller_ids=None,
        needs=[(needs or {}).get(key) for key in keys],
        resolutions=not beside,
    )
    columns = ("run_id", "seller_id", "window_days", *FIGURE_COLUMNS)
    width = len(WINDOW_FIGURES)
    cut = len(CUMULATIVE_FIGURES) + 1
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        wide = [f"c{i}" for i in range(cut + width * len(keys))]
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS run_figures")  # a failed attempt's, if any
            cursor.execute(
                f"CREATE TEMPORARY TABLE run_figures ({', '.join(wide)}) AS {sql}", params
            )
            stored = cursor.rowcount
            merged: set[str] = set()
            if beside:
                assert resolutions is not None
                try:
                    names, rows = resolutions()
                except Exception:  # computed here instead (the same statement)
                    logger.warning("Resolution figures computed beside failed", exc_info=True)
                    names, rows = resolution_figures(windows=windows, needs=needs)
                merged = set(names)
                _load_resolutions(cursor, names, rows)

            def column(n: int, j: int, name: str) -> str:
                if f"{name}_{n}" in merged:
                    return f"COALESCE(r.{name}_{n}, 0)"
                return f"f.{wide[cut + n * width + j]}"

            per_window = " UNION ALL ".join(
                f"SELECT %(run)s, f.c0, {int(key)}, "
                f"{', '.join(f'f.{c}' for c in wide[1:cut])}, "
                f"{', '.join(column(n, j, name) for j, name in enumerate(WINDOW_FIGURES))} "
                "FROM run_figures f"
                + (" LEFT JOIN run_resolutions r ON r.seller_id = f.c0" if merged else "")
                for n, key in enumerate(keys)
            )
            cursor.execute(
                f"INSERT INTO {quote(RunSellerFigures._meta.db_table)} "
                f"({', '.join(quote(c) for c in columns)}) {per_window}",
                {"run": run_id},
            )
            cursor.execute("DROP TABLE run_figures")
            cursor.execute("DROP TABLE IF EXISTS run_resolutions")
        return stored
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    records = [
        (
            run_id,
            row[0],
            key,
            _as_utc(row[1]),  # joined_at (SQLite hands back naive UTC)
            *row[2:cut],
            *row[cut + n * width : cut + (n + 1) * width],
        )
        for row in rows
        for n, key in enumerate(keys)
    ]
    RunSellerFigures.objects.bulk_create(
        [RunSellerFigures(**dict(zip(columns, record, strict=True))) for record in records],
        batch_size=500,
    )
    return len(rows)


def _load_resolutions(cursor: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """The temporary table run_resolutions (seller_id, *names): ``resolution_figures``' rows."""
    cursor.execute("DROP TABLE IF EXISTS run_resolutions")
    cursor.execute(
        "CREATE TEMPORARY TABLE run_resolutions (seller_id bigint PRIMARY KEY"
        + "".join(f", {name} numeric NOT NULL" for name in names)
        + ")"
    )
    copy_rows("run_resolutions", ["seller_id", *names], rows)


def stored_run_figures(
    *, run_id: int, first: int, last: int
) -> tuple[dict[int, Figures], dict[int, dict[int, Figures]]]:
    """The rows of ``store_run_figures`` for sellers ``first`` … ``last`` (one query): the
    policy window's figures per seller, and {seller id: {window days: figures}} of the
    criterion windows."""
    from metrics.models import RunSellerFigures

    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ("seller_id", "window_days", *FIGURE_COLUMNS))
    with connection.cursor() as cursor:  # raw: the ORM's row building cost ~1 s at 30,000 rows
        cursor.execute(
            f"SELECT {columns} FROM {quote(RunSellerFigures._meta.db_table)}"
            " WHERE run_id = %s AND seller_id >= %s AND seller_id <= %s"
            " ORDER BY seller_id, window_days",
            [run_id, first, last],
        )
        rows = cursor.fetchall()
    policy: dict[int, Figures] = {}
    own: dict[int, dict[int, Figures]] = {}
    for seller_id, days, joined_at, *counts in rows:
        # Stored columns are ints already (revenue_rank may be null): no conversion per value.
        figures = Figures(_as_utc(joined_at), *counts)
        if days == POLICY_WINDOW:
            policy[seller_id] = figures
        else:
            own.setdefault(seller_id, {})[days] = figures
    return policy, own


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


_MICROSECONDS_PER_HOUR = 3_600_000_000


def tenure_days(*, joined_at: datetime, cutoff: datetime) -> int:
    """Whole 24-hour periods from joined_at to the cutoff, 0 if joined at or after it."""
    elapsed = cutoff.astimezone(UTC) - joined_at.astimezone(UTC)
    return max(elapsed // timedelta(days=1), 0)


def seller_metrics(
    *,
    seller_ids: Sequence[int],
    window: Window,
    figures: Mapping[int, Figures] | None = None,
    inquiries: Mapping[int, InquiryCounts] | None = None,
) -> dict[int, Metrics]:
    """Every metric of SPEC §4 for a chunk of sellers, keyed by ``Seller.pk``.

    ``figures``: the sellers' order and review figures when the caller has them (a run reads
    them from ``stored_run_figures``); otherwise they are computed here (``seller_figures``).
    ``inquiries``: likewise the sellers' ``inquiry_counts``.
    Then ``QUERIES_PER_CHUNK`` (1) window-bounded query for the inquiries, whatever
    ``len(seller_ids)`` (none for an empty chunk). Values follow ``metrics/engine/registry.py``:
    ``int`` counts, ``Decimal`` money, ``Fraction`` rates/ratings/top-percent/minutes, ``None``
    when the denominator is 0 or the seller has no rank. Ids with no Seller row (or no figures
    row) are left out of the result.
    """
    ids = list(dict.fromkeys(seller_ids))
    if not ids:
        return {}
    if figures is None:
        figures = seller_figures(window=window, seller_ids=ids)
    asked = inquiry_counts(seller_ids=ids, window=window) if inquiries is None else inquiries

    no_inquiries = InquiryCounts()
    return {
        seller_id: metrics_of(figures[seller_id], asked.get(seller_id, no_inquiries), window)
        for seller_id in ids
        if seller_id in figures
    }


def asked_inquiry_counts(
    *, seller_ids: Sequence[int], windows: Sequence[Window], asks: Sequence[bool]
) -> dict[int, list[InquiryCounts]]:
    """Per seller, its InquiryCounts for each of ``windows``: one walk
    (``window_inquiry_counts``) over the windows marked True in ``asks``; the others are left
    empty (no caller reads them). Sellers without an inquiry are left out."""
    walked = window_inquiry_counts(
        seller_ids=seller_ids,
        windows=[window for window, ask in zip(windows, asks, strict=True) if ask],
    )
    nothing = InquiryCounts()
    result: dict[int, list[InquiryCounts]] = {}
    for pk, counts in walked.items():
        it = iter(counts)
        result[pk] = [next(it) if ask else nothing for ask in asks]
    return result


def seller_window_metrics(
    *,
    seller_ids: Sequence[int],
    windows: Sequence[Window],
    figures: Mapping[int, Sequence[Figures]] | None = None,
    asks: Sequence[bool] | None = None,
    keys: Sequence[Iterable[str] | None] | None = None,
    inquiries: Mapping[int, Sequence[InquiryCounts]] | None = None,
) -> dict[int, list[Metrics]]:
    """Every metric of SPEC §4 over each of ``windows`` (one cutoff) for a chunk of sellers:
    {seller id: [metrics per window]}. ``figures``: the sellers' figures per window when the
    caller has them (``window_figures``); otherwise computed here (one query). Then one query
    for the inquiries of every window, whatever their number (``asks``: only of the windows
    marked True; the others' inquiry metrics are left at 0 for a caller that reads none);
    ``keys``: per window, the metric keys to compute (None: all); ``inquiries``: per seller,
    its InquiryCounts per window when the caller walked them already (no query then)."""
    ids = list(dict.fromkeys(seller_ids))
    if not ids or not windows:
        return {}
    if figures is None:
        figures = window_figures(windows=windows, seller_ids=ids)
    nothing = InquiryCounts()
    asked: Mapping[int, Sequence[InquiryCounts]] = (
        inquiries
        if inquiries is not None
        else asked_inquiry_counts(
            seller_ids=ids, windows=windows, asks=asks or [True] * len(windows)
        )
    )
    none = [nothing] * len(windows)
    wanted = list(keys) if keys is not None else [None] * len(windows)
    return {
        seller_id: [
            metrics_of(f, q, window, want)
            for f, q, window, want in zip(
                figures[seller_id], asked.get(seller_id, none), windows, wanted, strict=True
            )
        ]
        for seller_id in ids
        if seller_id in figures
    }


def _retention(f: Figures, window: Window) -> Fraction | None:
    return None if window.start is None else _rate(f.retained_buyers, f.previous_buyers)


def _median_resolution_hours(f: Figures) -> Fraction | None:
    if not (f.resolved_conversations and f.resolution_middle_count):
        return None
    return Fraction(f.resolution_middle_micros, f.resolution_middle_count * _MICROSECONDS_PER_HOUR)


def _top_percent(f: Figures) -> Fraction | None:
    rank = f.revenue_rank
    return None if rank is None else Fraction(100 * rank, f.ranked_sellers)


def _finished(f: Figures) -> int:
    return f.finished_completed + f.finished_cancelled


# Each metric of SPEC §4 (every key but success_score) from a seller's figures ``f``, its
# inquiries ``q`` and the ``w``indow; exact values (``metrics/engine/registry.py``). One
# function per key, so that a criterion window computes only the keys its criteria read.
_METRIC_OF: dict[str, Callable[[Figures, InquiryCounts, Window], ExactValue]] = {
    "completed_orders": lambda f, q, w: f.completed_orders,
    "revenue": lambda f, q, w: money(f.revenue_cents),
    "review_count": lambda f, q, w: f.review_count,
    "revenue_rank": lambda f, q, w: f.revenue_rank,
    "ranked_sellers": lambda f, q, w: f.ranked_sellers,
    "revenue_top_percent": lambda f, q, w: _top_percent(f),
    "unique_buyers": lambda f, q, w: f.unique_buyers,
    "tenure_days": lambda f, q, w: tenure_days(joined_at=f.joined_at, cutoff=w.cutoff),
    "inquiries": lambda f, q, w: q.inquiries,
    "answered_in_time": lambda f, q, w: q.answered_in_time,
    "response_rate": lambda f, q, w: _rate(q.answered_in_time, q.inquiries),
    "window_completed_orders": lambda f, q, w: f.window_completed_orders,
    "window_revenue": lambda f, q, w: money(f.window_revenue_cents),
    "finished_orders": lambda f, q, w: _finished(f),
    "success_rate": lambda f, q, w: _rate(f.finished_completed, _finished(f)),
    "cancellation_rate": lambda f, q, w: _rate(f.finished_cancelled, _finished(f)),
    "seller_cancellation_rate": lambda f, q, w: _rate(f.seller_cancelled, _finished(f)),
    "delivered_orders": lambda f, q, w: f.delivered_orders,
    "on_time_rate": lambda f, q, w: _rate(f.delivered_on_time, f.delivered_orders),
    "window_review_count": lambda f, q, w: f.window_review_count,
    "average_rating": lambda f, q, w: (
        None if f.window_review_count == 0 else Fraction(f.rating_sum, f.window_review_count)
    ),
    "negative_review_rate": lambda f, q, w: _rate(f.negative_reviews, f.window_review_count),
    "median_first_response_minutes": lambda f, q, w: q.median_first_response_minutes,
    "repeat_buyer_rate": lambda f, q, w: _rate(f.repeat_buyers, f.window_buyers),
    # Program and customer-success metrics.
    "window_orders": lambda f, q, w: f.window_orders,
    "order_defect_rate": lambda f, q, w: _rate(f.defective_orders, f.window_orders),
    "dispatch_orders": lambda f, q, w: f.dispatch_orders,
    "late_shipment_rate": lambda f, q, w: _rate(f.late_shipments, f.dispatch_orders),
    "shipped_orders": lambda f, q, w: f.shipped_orders,
    "valid_tracking_rate": lambda f, q, w: _rate(f.valid_tracking, f.shipped_orders),
    "cases_opened": lambda f, q, w: f.cases_opened,
    "case_rate": lambda f, q, w: _rate(f.case_orders, f.window_orders),
    "unresolved_case_rate": lambda f, q, w: _rate(f.unresolved_case_orders, f.window_orders),
    "csat_responses": lambda f, q, w: f.csat_responses,
    "csat_percent": lambda f, q, w: _rate(f.csat_satisfied, f.csat_responses),
    "nps_responses": lambda f, q, w: f.nps_responses,
    "nps": lambda f, q, w: _rate(f.nps_promoters - f.nps_detractors, f.nps_responses),
    "resolved_conversations": lambda f, q, w: f.resolved_conversations,
    "median_resolution_hours": lambda f, q, w: _median_resolution_hours(f),
    "buyer_retention_rate": lambda f, q, w: _retention(f, w),
    "buyer_churn_rate": lambda f, q, w: None if (kept := _retention(f, w)) is None else 100 - kept,
}
assert tuple(_METRIC_OF) == ENGINE_METRIC_KEYS, "compute.py and registry.py disagree on keys"


def metrics_of(
    f: Figures, q: InquiryCounts, window: Window, keys: Iterable[str] | None = None
) -> Metrics:
    """A seller's metrics (SPEC §4, every key but success_score, or only ``keys``) from its
    figures and inquiries over ``window``; exact values (``metrics/engine/registry.py``)."""
    if keys is None:
        return {key: of(f, q, window) for key, of in _METRIC_OF.items()}
    return {key: _METRIC_OF[key](f, q, window) for key in keys}
