"""An independent reference implementation of SPEC §3–§5, the oracle of the property tests.

It is written from SPEC.md alone and shares no code with the engine
(``metrics/engine/periods.py``, ``metrics/engine/compute.py``, ``metrics/engine/grading.py``):
plain Python over plain dataclasses, standard library only, no Django, no database. It is
deliberately the slowest, most literal reading of the SPEC: loops over lists, every timestamp
converted to UTC first, exact arithmetic
(``int``, ``Decimal`` for money, ``fractions.Fraction`` for everything derived).

Entry points:

* ``seller_metrics(market=..., policy=..., period="2026-10", tz="Asia/Seoul")`` → for each seller
  id, every metric key of SPEC §4 (``METRIC_KEYS``) as an exact value, ``None`` when the
  denominator is 0;
* ``computed_level(metrics=..., policy=...)`` → the ladder of SPEC §5, without grace;
* ``apply_grace(...)`` / ``grade_periods(...)`` → the grace rule over consecutive periods.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

Value = int | Decimal | Fraction | None
MetricValues = dict[str, Value]

# SPEC §4, in the order the SPEC lists them.
CUMULATIVE_KEYS: tuple[str, ...] = (
    "completed_orders",
    "revenue",
    "review_count",
    "revenue_rank",
    "ranked_sellers",
    "revenue_top_percent",
    "unique_buyers",
    "tenure_days",
)
WINDOW_KEYS: tuple[str, ...] = (
    "inquiries",
    "answered_in_time",
    "response_rate",
    "window_completed_orders",
    "window_revenue",
    "finished_orders",
    "success_rate",
    "cancellation_rate",
    "seller_cancellation_rate",
    "delivered_orders",
    "on_time_rate",
    "window_review_count",
    "average_rating",
    "negative_review_rate",
    "median_first_response_minutes",
    "repeat_buyer_rate",
    # Program metrics
    "window_orders",
    "order_defect_rate",
    "dispatch_orders",
    "late_shipment_rate",
    "shipped_orders",
    "valid_tracking_rate",
    "cases_opened",
    "case_rate",
    "unresolved_case_rate",
    # Customer-success metrics
    "csat_responses",
    "csat_percent",
    "nps_responses",
    "nps",
    "resolved_conversations",
    "median_resolution_hours",
    "buyer_retention_rate",
    "buyer_churn_rate",
)
METRIC_KEYS: tuple[str, ...] = CUMULATIVE_KEYS + WINDOW_KEYS


# --------------------------------------------------------------------------- the marketplace


@dataclass(frozen=True)
class SellerRow:
    id: int
    joined_at: datetime


@dataclass(frozen=True)
class OrderRow:
    external_id: str
    seller: int
    buyer: str
    amount: Decimal
    created_at: datetime
    due_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str = ""  # "" | "buyer" | "seller" | "admin"
    excluded_from_metrics: bool = False
    ship_by: datetime | None = None
    shipped_at: datetime | None = None
    tracking: str | None = None  # "valid" | "invalid" | None


@dataclass(frozen=True)
class MessageRow:
    index: int  # insertion order: breaks ties of equal sent_at
    conversation: str
    seller: int
    buyer: str
    sender: str  # "buyer" | "seller"
    sent_at: datetime


@dataclass(frozen=True)
class ReviewRow:
    external_id: str
    order: str  # OrderRow.external_id
    rating: int
    created_at: datetime


@dataclass(frozen=True)
class CaseRow:
    external_id: str
    order: str  # OrderRow.external_id
    kind: str  # "dispute" | "claim" | "chargeback"
    opened_at: datetime
    closed_at: datetime | None = None
    outcome: str | None = None  # None while open


@dataclass(frozen=True)
class SurveyRow:
    external_id: str
    order: str  # OrderRow.external_id
    answered_at: datetime
    csat: int | None = None
    nps: int | None = None


@dataclass(frozen=True)
class ConversationRow:
    external_id: str  # = MessageRow.conversation
    seller: int
    buyer: str
    resolved_at: datetime | None = None


@dataclass
class Market:
    sellers: list[SellerRow] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    reviews: list[ReviewRow] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    conversations: list[ConversationRow] = field(default_factory=list)


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class Rule:
    metric: str
    op: str  # ">=" | "<="
    value: Decimal
    any_of: str = ""
    window_days: int | None = None  # SPEC §5: its own window (window metrics only)


@dataclass(frozen=True)
class ScorePart:
    """SPEC §5 ``score``: ``metric`` maps linearly to 0 at ``zero`` and 1 at ``full``."""

    metric: str
    weight: Decimal
    zero: Decimal
    full: Decimal


@dataclass(frozen=True)
class Level:
    name: str
    rank: int
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Policy:
    levels: tuple[Level, ...]
    window_months: int | None = 3
    window_days: int | None = None
    response_window_hours: int = 24
    demotion_grace_months: int = 0
    score: tuple[ScorePart, ...] = ()


# --------------------------------------------------------------------------- periods (§3)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}")
    return moment.astimezone(UTC)


def _parse_period(period: str) -> tuple[int, int]:
    year_text, month_text = period.split("-")
    year, month = int(year_text), int(month_text)
    if not 1 <= month <= 12:
        raise ValueError(period)
    return year, month


def _month_start(year: int, month: int, tz: str) -> datetime:
    """The 1st of (year, month) 00:00 local time, in UTC. Months may be out of 1..12."""
    index = year * 12 + (month - 1)
    year, month0 = divmod(index, 12)
    return datetime(year, month0 + 1, 1, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def period_bounds(*, period: str, tz: str) -> tuple[datetime, datetime]:
    """[start, cutoff) of a period "YYYY-MM" in UTC: local midnights of the 1st."""
    year, month = _parse_period(period)
    return _month_start(year, month, tz), _month_start(year, month + 1, tz)


def window_bounds(
    *,
    period: str,
    tz: str,
    window_months: int | None,
    window_days: int | None,
) -> tuple[datetime | None, datetime]:
    """The rolling window [start, cutoff) in UTC; start None = all time before the cutoff."""
    year, month = _parse_period(period)
    _, cutoff = period_bounds(period=period, tz=tz)
    if window_days:
        # "the N days before the cutoff": N local calendar days (same instant in a zone
        # without daylight saving time).
        local_cutoff = cutoff.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        local_start = local_cutoff - timedelta(days=window_days)
        return local_start.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC), cutoff
    if window_months is None:
        raise ValueError("a policy needs window_months or window_days")
    if window_months == 0:
        return None, cutoff
    return _month_start(year, month - (window_months - 1), tz), cutoff


def previous_window_start(
    *, period: str, tz: str, window_months: int | None, window_days: int | None
) -> datetime | None:
    """Start of the window just before the rolling window, of the same length: as many
    calendar months, or days, ending at the window's start. None for an all-time window."""
    year, month = _parse_period(period)
    if window_days:
        _, cutoff = period_bounds(period=period, tz=tz)
        local_cutoff = cutoff.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        local_start = local_cutoff - timedelta(days=2 * window_days)
        return local_start.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    if not window_months:
        return None
    return _month_start(year, month - (2 * window_months - 1), tz)


# --------------------------------------------------------------------------- metrics (§4)


def _rate(part: int, whole: int) -> Fraction | None:
    if whole == 0:
        return None
    return Fraction(100 * part, whole)


def _minutes(delta: timedelta) -> Fraction:
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Fraction(micros, 60_000_000)


def _hours(delta: timedelta) -> Fraction:
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Fraction(micros, 3_600_000_000)


def _median(values: list[Fraction]) -> Fraction | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def seller_metrics(
    *, market: Market, policy: Policy, period: str, tz: str
) -> dict[int, MetricValues]:
    """Every metric of SPEC §4 for every seller of the market, for one period."""
    _, cutoff = period_bounds(period=period, tz=tz)
    start, _ = window_bounds(
        period=period,
        tz=tz,
        window_months=policy.window_months,
        window_days=policy.window_days,
    )
    previous_start = previous_window_start(
        period=period,
        tz=tz,
        window_months=policy.window_months,
        window_days=policy.window_days,
    )
    response_window = timedelta(hours=policy.response_window_hours)

    def before_cutoff(moment: datetime | None) -> bool:
        return moment is not None and _utc(moment) < cutoff

    def in_window(moment: datetime | None) -> bool:
        if moment is None:
            return False
        moment = _utc(moment)
        return (start is None or start <= moment) and moment < cutoff

    orders_by_id = {order.external_id: order for order in market.orders}

    # Cumulative sales of every seller first: the rank is over all sellers of the market.
    completed_count: dict[int, int] = {}
    revenue: dict[int, Decimal] = {}
    for seller in market.sellers:
        completed = [
            o for o in market.orders if o.seller == seller.id and before_cutoff(o.completed_at)
        ]
        completed_count[seller.id] = len(completed)
        revenue[seller.id] = sum((o.amount for o in completed), Decimal(0))
    ranked_ids = [sid for sid, count in completed_count.items() if count >= 1]
    ranked_sellers = len(ranked_ids)

    result: dict[int, MetricValues] = {}
    for seller in market.sellers:
        sid = seller.id
        values: MetricValues = {}
        own_orders = [o for o in market.orders if o.seller == sid]
        counted_orders = [o for o in own_orders if not o.excluded_from_metrics]
        own_reviews = [r for r in market.reviews if orders_by_id[r.order].seller == sid]

        # ---- cumulative
        values["completed_orders"] = completed_count[sid]
        values["revenue"] = revenue[sid]
        values["review_count"] = len([r for r in own_reviews if before_cutoff(r.created_at)])
        if completed_count[sid] >= 1:
            better = [other for other in ranked_ids if revenue[other] > revenue[sid]]
            rank: int | None = 1 + len(better)
        else:
            rank = None
        values["revenue_rank"] = rank
        values["ranked_sellers"] = ranked_sellers
        values["revenue_top_percent"] = (
            None if rank is None else Fraction(100 * rank, ranked_sellers)
        )
        values["unique_buyers"] = len(
            {o.buyer for o in own_orders if before_cutoff(o.completed_at)}
        )
        joined = _utc(seller.joined_at)
        values["tenure_days"] = 0 if joined >= cutoff else (cutoff - joined) // timedelta(days=1)

        # ---- inquiries
        inquiries = 0
        answered_in_time = 0
        first_response_minutes: list[Fraction] = []
        own_messages = [m for m in market.messages if m.seller == sid]
        conversations = sorted({m.conversation for m in own_messages})
        for conversation in conversations:
            thread = sorted(
                (m for m in own_messages if m.conversation == conversation),
                key=lambda m: (_utc(m.sent_at), m.index),
            )
            for position, message in enumerate(thread):
                if message.sender != "buyer":
                    continue
                if position > 0 and thread[position - 1].sender != "seller":
                    continue
                deadline = _utc(message.sent_at) + response_window
                if not in_window(deadline):
                    continue
                inquiries += 1
                reply = next((m for m in thread[position + 1 :] if m.sender == "seller"), None)
                if reply is None or _utc(reply.sent_at) >= cutoff:
                    continue
                if _utc(reply.sent_at) <= deadline:
                    answered_in_time += 1
                first_response_minutes.append(_minutes(_utc(reply.sent_at) - _utc(message.sent_at)))
        values["inquiries"] = inquiries
        values["answered_in_time"] = answered_in_time
        values["response_rate"] = _rate(answered_in_time, inquiries)

        # ---- window sales: every order, excluded or not
        window_completed = [o for o in own_orders if in_window(o.completed_at)]
        values["window_completed_orders"] = len(window_completed)
        values["window_revenue"] = sum((o.amount for o in window_completed), Decimal(0))

        # ---- window rates: excluded orders count in nothing
        completed_in_window = [o for o in counted_orders if in_window(o.completed_at)]
        cancelled_in_window = [o for o in counted_orders if in_window(o.cancelled_at)]
        finished = len(completed_in_window) + len(cancelled_in_window)
        by_seller = [o for o in cancelled_in_window if o.cancelled_by == "seller"]
        values["finished_orders"] = finished
        values["success_rate"] = _rate(len(completed_in_window), finished)
        values["cancellation_rate"] = _rate(len(cancelled_in_window), finished)
        values["seller_cancellation_rate"] = _rate(len(by_seller), finished)

        delivered = [o for o in counted_orders if in_window(o.delivered_at)]
        on_time = [
            o
            for o in delivered
            if o.due_at is None or _utc(o.delivered_at) <= _utc(o.due_at)  # type: ignore[arg-type]
        ]
        values["delivered_orders"] = len(delivered)
        values["on_time_rate"] = _rate(len(on_time), len(delivered))

        window_reviews = [
            r
            for r in own_reviews
            if in_window(r.created_at) and not orders_by_id[r.order].excluded_from_metrics
        ]
        values["window_review_count"] = len(window_reviews)
        values["average_rating"] = (
            Fraction(sum(r.rating for r in window_reviews), len(window_reviews))
            if window_reviews
            else None
        )
        values["negative_review_rate"] = _rate(
            len([r for r in window_reviews if r.rating <= 2]), len(window_reviews)
        )

        values["median_first_response_minutes"] = _median(first_response_minutes)

        window_buyers = sorted({o.buyer for o in counted_orders if in_window(o.created_at)})
        repeat = 0
        for buyer in window_buyers:
            latest = max(
                _utc(o.created_at)
                for o in counted_orders
                if o.buyer == buyer and in_window(o.created_at)
            )
            if any(
                o.completed_at is not None and _utc(o.completed_at) < latest
                for o in counted_orders
                if o.buyer == buyer
            ):
                repeat += 1
        values["repeat_buyer_rate"] = _rate(repeat, len(window_buyers))

        # ---- program metrics: excluded orders and their cases, surveys, reviews count nowhere
        def review_of(order: OrderRow) -> ReviewRow | None:
            found = [r for r in market.reviews if r.order == order.external_id]
            return found[0] if found else None

        def cases_of(order: OrderRow) -> list[CaseRow]:
            # A case counts from its opened_at; at or after the cutoff it counts in nothing.
            return [
                c
                for c in market.cases
                if c.order == order.external_id and before_cutoff(c.opened_at)
            ]

        def outcome_at_cutoff(case: CaseRow) -> str | None:
            # The outcome counts once closed before the cutoff; until then the case is open.
            return case.outcome if before_cutoff(case.closed_at) else None

        window_orders = [o for o in counted_orders if in_window(o.created_at)]
        defective = 0
        with_case = 0
        unresolved = 0
        for order in window_orders:
            review = review_of(order)
            low_review = (
                review is not None and before_cutoff(review.created_at) and review.rating <= 2
            )
            claims = [
                c
                for c in cases_of(order)
                if c.kind in ("claim", "chargeback")
                and outcome_at_cutoff(c) not in ("seller_favour", "withdrawn")
            ]
            if low_review or claims:
                defective += 1
            if cases_of(order):
                with_case += 1
            if any(outcome_at_cutoff(c) == "buyer_favour" for c in cases_of(order)):
                unresolved += 1
        values["window_orders"] = len(window_orders)
        values["order_defect_rate"] = _rate(defective, len(window_orders))

        dispatch = [
            o
            for o in counted_orders
            if in_window(o.ship_by)
            and not (o.cancelled_at is not None and _utc(o.cancelled_at) < _utc(o.ship_by))  # type: ignore[arg-type]
        ]
        late = [
            o
            for o in dispatch
            if o.shipped_at is None or _utc(o.shipped_at) > _utc(o.ship_by)  # type: ignore[arg-type]
        ]
        values["dispatch_orders"] = len(dispatch)
        values["late_shipment_rate"] = _rate(len(late), len(dispatch))
        shipped = [o for o in counted_orders if in_window(o.shipped_at)]
        values["shipped_orders"] = len(shipped)
        values["valid_tracking_rate"] = _rate(
            len([o for o in shipped if o.tracking == "valid"]), len(shipped)
        )
        values["cases_opened"] = len(
            [c for o in counted_orders for c in market.cases
             if c.order == o.external_id and in_window(c.opened_at)]
        )  # fmt: skip
        values["case_rate"] = _rate(with_case, len(window_orders))
        values["unresolved_case_rate"] = _rate(unresolved, len(window_orders))

        # ---- customer success
        counted_ids = {o.external_id for o in counted_orders}
        surveys = [v for v in market.surveys if v.order in counted_ids and in_window(v.answered_at)]
        csat = [v.csat for v in surveys if v.csat is not None]
        nps = [v.nps for v in surveys if v.nps is not None]
        values["csat_responses"] = len(csat)
        values["csat_percent"] = _rate(len([c for c in csat if c >= 4]), len(csat))
        values["nps_responses"] = len(nps)
        values["nps"] = _rate(
            len([n for n in nps if n >= 9]) - len([n for n in nps if n <= 6]), len(nps)
        )
        resolution_hours: list[Fraction] = []
        for row in market.conversations:
            if row.seller != sid or not in_window(row.resolved_at):
                continue
            resolved = _utc(row.resolved_at)  # type: ignore[arg-type]
            sent = [_utc(m.sent_at) for m in own_messages if m.conversation == row.external_id]
            if not sent or min(sent) >= resolved:
                continue  # no message before resolved_at
            resolution_hours.append(_hours(resolved - min(sent)))
        values["resolved_conversations"] = len(resolution_hours)
        values["median_resolution_hours"] = _median(resolution_hours)

        if previous_start is None:
            values["buyer_retention_rate"] = None
            values["buyer_churn_rate"] = None
        else:
            assert start is not None
            earlier = {
                o.buyer
                for o in counted_orders
                if o.completed_at is not None and previous_start <= _utc(o.completed_at) < start
            }
            came_back = {o.buyer for o in window_orders} & earlier
            retention = _rate(len(came_back), len(earlier))
            values["buyer_retention_rate"] = retention
            values["buyer_churn_rate"] = None if retention is None else 100 - retention

        assert tuple(values) == METRIC_KEYS
        result[sid] = values
    return result


# --------------------------------------------------------------------------- grading (§5)


def rule_passes(*, rule: Rule, metrics: MetricValues) -> bool:
    """One criterion, exactly; a null metric fails."""
    actual = metrics[rule.metric]
    if actual is None:
        return False
    threshold = Fraction(rule.value)
    if rule.metric == "revenue_top_percent" and rule.op == "<=":
        # "<= p passes when revenue_rank <= ceil(p / 100 × ranked_sellers)"
        rank = metrics["revenue_rank"]
        ranked = metrics["ranked_sellers"]
        assert isinstance(rank, int) and isinstance(ranked, int)
        return rank <= math.ceil(threshold * ranked / 100)
    exact = Fraction(actual)
    if rule.op == ">=":
        return exact >= threshold
    if rule.op == "<=":
        return exact <= threshold
    raise ValueError(f"unknown op {rule.op!r}")


def level_passes(*, level: Level, metrics: MetricValues) -> bool:
    """Ungrouped rules all pass, and each any_of group has at least one passing rule."""
    groups: dict[str, list[bool]] = {}
    for rule in level.rules:
        passed = rule_passes(rule=rule, metrics=metrics)
        if rule.any_of:
            groups.setdefault(rule.any_of, []).append(passed)
        elif not passed:
            return False
    return all(any(results) for results in groups.values())


def computed_level(*, metrics: MetricValues, policy: Policy) -> str | None:
    """The highest level that passes with every level below it passing too."""
    reached: str | None = None
    for level in sorted(policy.levels, key=lambda lv: lv.rank):
        if not level_passes(level=level, metrics=metrics):
            break
        reached = level.name
    return reached


@dataclass(frozen=True)
class Grade:
    level: str | None  # final, after grace
    computed_level: str | None
    at_risk: bool
    grace_used: int


def apply_grace(*, computed: str | None, previous: Grade | None, policy: Policy) -> Grade:
    """SPEC §5 grace, given the seller's evaluation of the latest earlier period (or None)."""
    ranks = {level.name: level.rank for level in policy.levels}
    held = previous.level if previous is not None else None
    if policy.demotion_grace_months <= 0 or held is None or held not in ranks:
        return Grade(level=computed, computed_level=computed, at_risk=False, grace_used=0)
    assert previous is not None
    is_below = computed is None or ranks[computed] < ranks[held]
    if not is_below:
        return Grade(level=computed, computed_level=computed, at_risk=False, grace_used=0)
    if previous.grace_used < policy.demotion_grace_months:
        return Grade(
            level=held, computed_level=computed, at_risk=True, grace_used=previous.grace_used + 1
        )
    return Grade(level=computed, computed_level=computed, at_risk=False, grace_used=0)


def grade_sequence(*, computed: Iterable[str | None], policy: Policy) -> list[Grade]:
    """Grades of consecutive evaluations of one seller, the first one holding nothing."""
    grades: list[Grade] = []
    for level in computed:
        grades.append(
            apply_grace(computed=level, previous=grades[-1] if grades else None, policy=policy)
        )
    return grades


def grade_periods(
    *, market: Market, policy: Policy, periods: Sequence[str], tz: str
) -> dict[int, list[Grade]]:
    """Each seller's grades over consecutive evaluated periods, oldest first."""
    levels: dict[int, list[str | None]] = {seller.id: [] for seller in market.sellers}
    for period in periods:
        metrics = seller_metrics(market=market, policy=policy, period=period, tz=tz)
        for sid, values in metrics.items():
            levels[sid].append(computed_level(metrics=values, policy=policy))
    return {sid: grade_sequence(computed=seq, policy=policy) for sid, seq in levels.items()}


# --------------------------------------------------------------------------- §5: own windows, score


def success_score(*, metrics: MetricValues, policy: Policy) -> Value:
    """SPEC §5: 100 × Σ weight × clamp((value − zero) / (full − zero), 0, 1) / Σ weight over the
    parts whose metric is not null; null when the policy has no score or every part is null."""
    weighted = Fraction(0)
    weights = Fraction(0)
    for part in policy.score:
        value = metrics.get(part.metric)
        if value is None:
            continue
        share = (Fraction(value) - Fraction(part.zero)) / (
            Fraction(part.full) - Fraction(part.zero)
        )
        share = min(max(share, Fraction(0)), Fraction(1))
        weighted += Fraction(part.weight) * share
        weights += Fraction(part.weight)
    if weights == 0:
        return None
    return 100 * weighted / weights


def graded_levels(
    *, market: Market, policy: Policy, period: str, tz: str
) -> dict[int, tuple[str | None, list[bool]]]:
    """Each seller's level (the ladder, no grace) and every criterion's pass, in level-rank
    order, when criteria may read their own ``window_days`` and the policy may have a score.

    A criterion with its own window reads a window metric over the N days before the cutoff
    (cumulative metrics ignore it); ``success_score`` is always the policy window's."""
    base = seller_metrics(market=market, policy=policy, period=period, tz=tz)
    days = sorted({r.window_days for lv in policy.levels for r in lv.rules if r.window_days})
    own = {
        d: seller_metrics(
            market=market,
            policy=Policy(
                levels=(),
                window_months=None,
                window_days=d,
                response_window_hours=policy.response_window_hours,
            ),
            period=period,
            tz=tz,
        )
        for d in days
    }
    result = {}
    for sid, values in base.items():
        values = {**values, "success_score": success_score(metrics=values, policy=policy)}
        passes: list[bool] = []
        reached: str | None = None
        climbing = True
        for level in sorted(policy.levels, key=lambda lv: lv.rank):
            groups: dict[str, list[bool]] = {}
            plain: list[bool] = []
            for rule in level.rules:
                read = values
                if (
                    rule.window_days
                    and rule.metric not in CUMULATIVE_KEYS
                    and (rule.metric != "success_score")
                ):
                    read = {**values, **{k: own[rule.window_days][sid][k] for k in WINDOW_KEYS}}
                passed = rule_passes(rule=rule, metrics=read)
                passes.append(passed)
                (groups.setdefault(rule.any_of, []) if rule.any_of else plain).append(passed)
            if climbing and all(plain) and all(any(g) for g in groups.values()):
                reached = level.name
            else:
                climbing = False
        result[sid] = (reached, passes)
    return result
