"""The metric registry: every metric key of SPEC §4, with its kind.

Validation of criteria (a rate outside 0–100, a rating outside 1–5, a negative count), display
and rounding are driven by this table, not by ``if`` chains on names.

Exact values. The engine hands every metric over as an exact number, so that a criterion is
decided on the underlying counts (SPEC §4 "Exactness"), never on a rounded or float value:

* counts (``COUNT``, ``RANK``, ``DAYS``) are ``int``;
* money (``MONEY``) is ``Decimal``;
* derived values (``RATE``, ``RATING``, ``PERCENT``, ``MINUTES``, ``HOURS``, ``NPS``) are
  ``fractions.Fraction``, e.g. ``response_rate = Fraction(100 * answered_in_time, inquiries)``,
  ``nps = Fraction(100 * (promoters - detractors), nps_responses)``;
* a metric whose denominator is 0 (or a rank with no completed order) is ``None``.

Rounding half-up to 2 decimals happens only at the edge (API, pages): ``display_value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from django.utils.translation import gettext_noop


class Kind(StrEnum):
    COUNT = "count"  # int >= 0
    MONEY = "money"  # Decimal >= 0, marketplace currency
    RANK = "rank"  # int >= 1 (1 = best)
    DAYS = "days"  # int >= 0
    RATE = "rate"  # percentage 0-100
    RATING = "rating"  # 1-5
    PERCENT = "percent"  # top-percent, (0, 100]
    MINUTES = "minutes"  # >= 0
    HOURS = "hours"  # >= 0
    NPS = "nps"  # net promoter score, -100 to 100


@dataclass(frozen=True)
class MetricInfo:
    key: str
    kind: Kind
    label: str  # English; marked for translation, translated by the pages only (never the API)
    window: bool  # computed over the rolling window (True) or all time before the cutoff
    # Derived from the policy (``success_score``: its ``score``, SPEC §5) by the grading, not
    # computed by the engine's statements.
    derived: bool = False

    @property
    def integral(self) -> bool:
        return self.kind in (Kind.COUNT, Kind.RANK, Kind.DAYS)


_M = MetricInfo
METRICS: dict[str, MetricInfo] = {
    m.key: m
    for m in [
        # Cumulative, all time before the cutoff
        _M("completed_orders", Kind.COUNT, gettext_noop("Completed orders"), window=False),
        _M("revenue", Kind.MONEY, gettext_noop("Revenue"), window=False),
        _M("review_count", Kind.COUNT, gettext_noop("Reviews"), window=False),
        _M("revenue_rank", Kind.RANK, gettext_noop("Revenue rank"), window=False),
        _M("ranked_sellers", Kind.COUNT, gettext_noop("Ranked sellers"), window=False),
        _M(
            "revenue_top_percent",
            Kind.PERCENT,
            gettext_noop("Revenue top %"),
            window=False,
        ),
        _M("unique_buyers", Kind.COUNT, gettext_noop("Unique buyers"), window=False),
        _M("tenure_days", Kind.DAYS, gettext_noop("Tenure (days)"), window=False),
        # Window
        _M("inquiries", Kind.COUNT, gettext_noop("Inquiries"), window=True),
        _M("answered_in_time", Kind.COUNT, gettext_noop("Answered in time"), window=True),
        _M("response_rate", Kind.RATE, gettext_noop("Response rate"), window=True),
        _M(
            "window_completed_orders",
            Kind.COUNT,
            gettext_noop("Completed orders (window)"),
            window=True,
        ),
        _M("window_revenue", Kind.MONEY, gettext_noop("Revenue (window)"), window=True),
        _M("finished_orders", Kind.COUNT, gettext_noop("Finished orders"), window=True),
        _M("success_rate", Kind.RATE, gettext_noop("Order success rate"), window=True),
        _M(
            "cancellation_rate",
            Kind.RATE,
            gettext_noop("Cancellation rate"),
            window=True,
        ),
        _M(
            "seller_cancellation_rate",
            Kind.RATE,
            gettext_noop("Seller cancellation rate"),
            window=True,
        ),
        _M("delivered_orders", Kind.COUNT, gettext_noop("Delivered orders"), window=True),
        _M("on_time_rate", Kind.RATE, gettext_noop("On-time rate"), window=True),
        _M("window_review_count", Kind.COUNT, gettext_noop("Reviews (window)"), window=True),
        _M("average_rating", Kind.RATING, gettext_noop("Average rating"), window=True),
        _M(
            "negative_review_rate",
            Kind.RATE,
            gettext_noop("Negative review rate"),
            window=True,
        ),
        _M(
            "median_first_response_minutes",
            Kind.MINUTES,
            gettext_noop("Median first response (min)"),
            window=True,
        ),
        _M("repeat_buyer_rate", Kind.RATE, gettext_noop("Repeat buyer rate"), window=True),
        # Program metrics (window)
        _M("window_orders", Kind.COUNT, gettext_noop("Orders (window)"), window=True),
        _M("order_defect_rate", Kind.RATE, gettext_noop("Order defect rate"), window=True),
        _M("dispatch_orders", Kind.COUNT, gettext_noop("Orders to dispatch"), window=True),
        _M("late_shipment_rate", Kind.RATE, gettext_noop("Late shipment rate"), window=True),
        _M("shipped_orders", Kind.COUNT, gettext_noop("Shipped orders"), window=True),
        _M("valid_tracking_rate", Kind.RATE, gettext_noop("Valid tracking rate"), window=True),
        _M("cases_opened", Kind.COUNT, gettext_noop("Cases opened"), window=True),
        _M("case_rate", Kind.RATE, gettext_noop("Case rate"), window=True),
        _M(
            "unresolved_case_rate",
            Kind.RATE,
            gettext_noop("Unresolved case rate"),
            window=True,
        ),
        # Customer-success metrics (window)
        _M("csat_responses", Kind.COUNT, gettext_noop("CSAT responses"), window=True),
        _M("csat_percent", Kind.RATE, gettext_noop("CSAT"), window=True),
        _M("nps_responses", Kind.COUNT, gettext_noop("NPS responses"), window=True),
        _M("nps", Kind.NPS, gettext_noop("Net promoter score"), window=True),
        _M(
            "resolved_conversations",
            Kind.COUNT,
            gettext_noop("Resolved conversations"),
            window=True,
        ),
        _M(
            "median_resolution_hours",
            Kind.HOURS,
            gettext_noop("Median resolution time (h)"),
            window=True,
        ),
        _M(
            "buyer_retention_rate",
            Kind.RATE,
            gettext_noop("Buyer retention rate"),
            window=True,
        ),
        _M("buyer_churn_rate", Kind.RATE, gettext_noop("Buyer churn rate"), window=True),
        # The policy's score (SPEC §5 ``score``), 0–100 like a rate, from the policy-window values.
        _M(
            "success_score",
            Kind.RATE,
            gettext_noop("Success score"),
            window=True,
            derived=True,
        ),
    ]
}
METRIC_KEYS: tuple[str, ...] = tuple(METRICS)
# The keys the engine's statements compute (every key but the policy-derived ones).
ENGINE_METRIC_KEYS: tuple[str, ...] = tuple(
    key for key, info in METRICS.items() if not info.derived
)

ExactValue = int | Decimal | Fraction | None
Metrics = dict[str, ExactValue]

TWO_PLACES = Decimal("0.01")


def to_decimal(value: int | Decimal | Fraction) -> Decimal:
    """Exact value → Decimal rounded half-up to 2 places (the rounding of SPEC §4)."""
    if isinstance(value, Fraction):
        # Round the exact rational, not a float: 89.995 → 90.00, 89.99499… → 89.99.
        scaled = value * 100
        q, r = divmod(scaled.numerator, scaled.denominator)
        if 2 * r >= scaled.denominator:
            q += 1
        return (Decimal(q) / 100).quantize(TWO_PLACES)
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def display_value(key: str, value: ExactValue) -> int | float | None:
    """The API's JSON number for a metric: ints stay ints, the rest rounded half-up to 2 dp."""
    if value is None:
        return None
    if METRICS[key].integral:
        return int(value)
    return float(to_decimal(value))
