"""The next step as an action, computed exactly from the counts (SPEC §8).

"Answer your next 34 inquiries within 24 hours", not "9.45 percentage points higher". Each
function here is pure arithmetic on the exact stored values (``int`` counts, ``Decimal`` money,
``Fraction`` rates and ratings): the smallest number of further items that makes a failing
criterion pass *if nothing else changes* (no item leaves the window, every new item is good).
``tests/metrics/test_next_steps.py`` checks each against brute force on small cases.

Which action a metric gets is driven by its kind (``metrics.engine.registry``) and, for a rate,
by the count it is a share of (``RATE_TOTALS``, SPEC §4 names). A metric with no rule here
(a median, a score, a rate whose total is not stored) gets no action: the page then says the
gap in the metric's own unit (``sentences.criterion_sentence``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from metrics.engine.grading import GTE, LTE
from metrics.engine.registry import METRICS, ExactValue, Kind

# A rate is 100 × part / total: the stored count it is a share of (SPEC §4). Keys another
# module has not registered yet are harmless: a criterion only ever names registered metrics.
RATE_TOTALS: dict[str, str] = {
    "response_rate": "inquiries",
    "success_rate": "finished_orders",
    "cancellation_rate": "finished_orders",
    "seller_cancellation_rate": "finished_orders",
    "on_time_rate": "delivered_orders",
    "negative_review_rate": "window_review_count",
    "order_defect_rate": "window_orders",
    "case_rate": "window_orders",
    "unresolved_case_rate": "window_orders",
    "late_shipment_rate": "dispatch_orders",
    "valid_tracking_rate": "shipped_orders",
    "csat_percent": "csat_responses",
}
RATING_TOTALS: dict[str, str] = {"average_rating": "window_review_count"}
BEST_RATING = 5


@dataclass(frozen=True)
class Action:
    """``count`` further items (or ``amount`` more money) make the criterion pass.

    ``kind``: "items" (a rate: the next ``count`` items of its total must all count for the
    criterion's side: answered in time for ``>=``, not cancelled for ``cancellation_rate <=``),
    "five_stars" (``count`` more 5-star reviews), "count" (``count`` more of a count),
    "money" (``amount`` more), "impossible" (no number of new items can do it: the misses
    already in the window must leave it first).
    """

    metric: str
    kind: str
    count: int = 0
    amount: Decimal = Decimal(0)


def _exact(value: ExactValue) -> Fraction | None:
    return None if value is None else Fraction(value)


def items_for_rate(*, part: int, total: int, op: str, threshold: Fraction) -> int | None:
    """The smallest k ≥ 0 with ``(part + k) × 100 >= threshold × (total + k)`` for ``>=``
    (k further items that count in the part) or ``part × 100 <= threshold × (total + k)`` for
    ``<=`` (k further items that do not); None when no k does. ``total`` 0 with ``>=`` needs
    at least one item (a null rate fails)."""
    if op == GTE:
        if threshold > 100:
            return None
        if threshold == 100:
            return 0 if part == total and total > 0 else (1 if total == 0 else None)
        k = math.ceil((threshold * total - 100 * part) / (100 - threshold))
        return max(k, 1 if total == 0 else 0)
    if op == LTE:
        if threshold < 0:
            return None
        if part == 0:
            return 0 if total > 0 else 1
        if threshold == 0:
            return None
        return max(math.ceil(Fraction(100 * part) / threshold - total), 0)
    return None


def five_stars_for_rating(*, stars: Fraction, reviews: int, threshold: Fraction) -> int | None:
    """The smallest k ≥ 0 with ``(stars + 5k) >= threshold × (reviews + k)``: k more 5-star
    reviews lift the average to the threshold; None above 5 (or at 5 with a lower review)."""
    if threshold > BEST_RATING:
        return None
    if threshold == BEST_RATING:
        if reviews == 0:
            return 1
        return 0 if stars == BEST_RATING * reviews else None
    k = math.ceil((threshold * reviews - stars) / (BEST_RATING - threshold))
    return max(k, 1 if reviews == 0 else 0)


def action(
    *, metric: str, op: str, threshold: Decimal, exact: Mapping[str, ExactValue]
) -> Action | None:
    """The action that makes one failing criterion pass, or None (say the gap instead)."""
    info = METRICS.get(metric)
    if info is None:
        return None
    limit = Fraction(threshold)
    actual = _exact(exact.get(metric))
    if info.kind is Kind.RATE and metric in RATE_TOTALS:
        total = exact.get(RATE_TOTALS[metric])
        if not isinstance(total, int):
            return None
        part = Fraction(0) if actual is None or total == 0 else actual * total / 100
        if part.denominator != 1:
            return None  # not a share of the stored total: say the gap instead
        k = items_for_rate(part=part.numerator, total=total, op=op, threshold=limit)
        return Action(metric, "impossible") if k is None else Action(metric, "items", k)
    if info.kind is Kind.RATING and metric in RATING_TOTALS and op == GTE:
        reviews = exact.get(RATING_TOTALS[metric])
        if not isinstance(reviews, int):
            return None
        stars = Fraction(0) if actual is None or reviews == 0 else actual * reviews
        k = five_stars_for_rating(stars=stars, reviews=reviews, threshold=limit)
        return Action(metric, "impossible") if k is None else Action(metric, "five_stars", k)
    if actual is None or op != GTE:
        return None
    if info.kind is Kind.MONEY:
        money = exact.get(metric)
        have = money if isinstance(money, Decimal) else Decimal(int(actual))
        return Action(metric, "money", amount=threshold - have)
    if info.kind in (Kind.COUNT, Kind.DAYS):
        return Action(metric, "count", max(math.ceil(limit - actual), 0))
    return None
