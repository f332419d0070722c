"""Property tests: the engine agrees exactly with the independent oracle (tests/oracle.py).

Random small marketplaces (timestamps clustered on Seoul month edges, on the response deadline
and on each other), random policies (thresholds drawn next to the actual values) → stored in
PostgreSQL through the real models → ``metrics.engine.compute.seller_metrics`` and
``metrics.engine.grading.grade`` → every metric key, the level, and grace over consecutive periods
must equal the oracle's, exactly.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from metrics.engine.compute import seller_metrics
from metrics.engine.grading import (
    CriterionSpec,
    LevelSpec,
    PolicySnapshot,
    ScorePart,
    grade,
    with_score,
)
from metrics.engine.periods import Period, window_for_period
from metrics.engine.registry import METRICS, Kind
from metrics.engine.windows import criterion_window_metrics
from orders.models import Case, Conversation, Message, Order, Seller
from reviews.models import Review, Survey
from tests import oracle

pytestmark = pytest.mark.sqlite

TZ: str = settings.TIME_ZONE
PERIODS = ("2026-09", "2026-10", "2026-11")
HOURS = (1, 24, 48)
AMOUNTS = (Decimal("0"), Decimal("10000"), Decimal("10000"), Decimal("20000"), Decimal("0.50"))
ORDER_STATES = (
    "in_progress",
    "delivered",
    "completed",
    "completed",
    "cancelled:buyer",
    "cancelled:seller",
    "cancelled:admin",
    "delivered+cancelled:buyer",
    "delivered+cancelled:seller",
)
# Criteria metrics: every key, with the ones that have fine print (the ceil rule, exact
# percentages, strict edges) drawn more often.
CRITERION_METRICS = (
    *oracle.METRIC_KEYS,
    *("revenue_top_percent",) * 4,
    "response_rate",
    "on_time_rate",
    "repeat_buyer_rate",
    "average_rating",
    "median_first_response_minutes",
    "order_defect_rate",
    "late_shipment_rate",
    "case_rate",
    "unresolved_case_rate",
    "nps",
    "csat_percent",
    "median_resolution_hours",
    "buyer_retention_rate",
)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def _local(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=ZoneInfo(TZ))


# Local month starts around the periods under test (October, the middle one, weighted up), and
# the starts of window_days windows (1, 7, 30, 45, 90 days before a cutoff).
EDGES = (
    *(_local(2026, m) for m in range(7, 13)),
    _local(2026, 10),
    _local(2026, 11),
    *(_local(2026, 11) - timedelta(days=n) for n in (1, 7, 30, 45, 90)),
    *(_local(2026, 10) - timedelta(days=n) for n in (7, 30)),
)

PROPERTY_SETTINGS = hsettings(
    max_examples=80,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --------------------------------------------------------------------------- strategies

offsets = st.one_of(
    st.sampled_from(
        [timedelta(0), timedelta(0), timedelta(0), SECOND, -SECOND, timedelta(hours=1), DAY]
        + [-timedelta(hours=1), -DAY, DAY + SECOND, -DAY - SECOND, -3 * DAY, 2 * DAY, -7 * DAY]
    ),
    st.integers(min_value=-12 * 86_400, max_value=12 * 86_400).map(lambda s: timedelta(seconds=s)),
)
moments = st.builds(lambda edge, offset: edge + offset, st.sampled_from(EDGES), offsets)
gaps = st.one_of(
    st.sampled_from([timedelta(0), SECOND, timedelta(hours=1), DAY, 3 * DAY]),
    st.integers(min_value=0, max_value=12 * 86_400).map(lambda s: timedelta(seconds=s)),
)


def draw_market(draw: st.DrawFn, *, hours: int) -> oracle.Market:
    market = oracle.Market()
    window = timedelta(hours=hours)
    reply_steps = st.one_of(
        st.sampled_from(
            [timedelta(0), timedelta(0), SECOND, timedelta(minutes=7), window - SECOND]
            + [window, window + SECOND, 2 * window]
        ),
        st.integers(min_value=0, max_value=5 * 86_400).map(lambda s: timedelta(seconds=s)),
    )
    n_orders = 0
    for sid in range(1, draw(st.integers(min_value=2, max_value=5)) + 1):
        market.sellers.append(oracle.SellerRow(id=sid, joined_at=draw(moments)))
        own: list[oracle.OrderRow] = []
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            n_orders += 1
            own.append(draw_order(draw, sid=sid, number=n_orders, earlier=own))
        market.orders += own
        for conv in range(draw(st.integers(min_value=1, max_value=4))):
            at = draw(moments)
            thread: list[tuple[str, datetime]] = []
            for _ in range(draw(st.integers(min_value=1, max_value=6))):
                thread.append((draw(st.sampled_from(["buyer", "seller"])), at))
                at += draw(reply_steps)
            if draw(st.booleans()):
                thread = draw(st.permutations(thread))  # insertion order != sent_at order
            for sender, sent_at in thread:
                market.messages.append(
                    oracle.MessageRow(
                        index=len(market.messages),
                        conversation=f"s{sid}-c{conv}",
                        seller=sid,
                        buyer=f"s{sid}-buyer{conv}",
                        sender=sender,
                        sent_at=sent_at,
                    )
                )
    for sid in range(1, len(market.sellers) + 1):
        # Conversation rows: resolved (at, before or after a message), open, or without any
        # message; some threads have no row at all (SPEC §2: messages need none).
        threads = sorted({m.conversation for m in market.messages if m.seller == sid})
        for name in [*threads, f"s{sid}-silent"]:
            if draw(st.integers(min_value=0, max_value=4)) == 0:
                continue
            sent = [m.sent_at for m in market.messages if m.conversation == name]
            resolved: datetime | None = None
            how = draw(st.sampled_from(["after", "after", "at-first", "moment", "open"]))
            if how == "after" and sent:
                # sub-second times too: the median is exact to the microsecond
                fraction = draw(st.sampled_from([0, 1, 999_999]))
                resolved = min(sent) + draw(gaps) + timedelta(microseconds=fraction)
            elif how == "at-first" and sent:
                resolved = min(sent)  # no message strictly before: not counted
            elif how != "open":
                resolved = draw(moments)
            market.conversations.append(
                oracle.ConversationRow(
                    external_id=name, seller=sid, buyer=f"s{sid}-buyer", resolved_at=resolved
                )
            )
    for number, order in enumerate(market.orders):
        for k in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            opened = max(
                draw(st.sampled_from([order.created_at, order.created_at + DAY]) | moments),
                order.created_at,
            )
            closed: datetime | None = None
            outcome: str | None = None
            if draw(st.booleans()):
                closed = opened + draw(gaps)
                outcome = draw(
                    st.sampled_from(
                        ["seller_resolved", "buyer_favour", "seller_favour", "withdrawn"]
                    )
                )
            market.cases.append(
                oracle.CaseRow(
                    external_id=f"case-{number}-{k}",
                    order=order.external_id,
                    kind=draw(st.sampled_from(["dispute", "claim", "chargeback"])),
                    opened_at=opened,
                    closed_at=closed,
                    outcome=outcome,
                )
            )
        if draw(st.integers(min_value=0, max_value=2)) == 0:
            # Both edges of each class: CSAT 3 | 4, NPS 6 | 7 and 8 | 9.
            csat = draw(st.sampled_from([None, 5, 4, 3, 1]))
            scores = [0, 6, 7, 8, 9, 10]
            nps = draw(st.sampled_from(scores if csat is None else [None, *scores]))
            market.surveys.append(
                oracle.SurveyRow(
                    external_id=f"v-{order.external_id}",
                    order=order.external_id,
                    answered_at=draw(st.sampled_from([order.created_at + DAY]) | moments),
                    csat=csat,
                    nps=nps,
                )
            )
    for order in market.orders:
        if order.completed_at is not None and draw(st.booleans()):
            market.reviews.append(
                oracle.ReviewRow(
                    external_id=f"r-{order.external_id}",
                    order=order.external_id,
                    rating=draw(st.integers(min_value=1, max_value=5)),
                    created_at=order.completed_at + draw(gaps),
                )
            )
    return market


def draw_order(
    draw: st.DrawFn, *, sid: int, number: int, earlier: list[oracle.OrderRow]
) -> oracle.OrderRow:
    buyer = draw(st.sampled_from(["b1", "b2", f"b-own-{sid}"]))
    created = draw(moments)
    completions = [o for o in earlier if o.completed_at is not None]
    if draw(st.booleans()) and completions:
        # A follow-up order by the same buyer right at (or a second around) a completion:
        # the edge of repeat_buyer_rate's strict "completed before".
        follow = draw(st.sampled_from(completions))
        assert follow.completed_at is not None
        buyer = follow.buyer
        # ... or a month later: the buyer came back (buyer_retention_rate).
        created = follow.completed_at + draw(
            st.sampled_from([-SECOND, timedelta(0), SECOND, 31 * DAY, 62 * DAY])
        )
    state = draw(st.sampled_from(ORDER_STATES))
    delivered: datetime | None = None
    completed: datetime | None = None
    cancelled: datetime | None = None
    cancelled_by = ""
    if state.startswith(("delivered", "completed")):
        delivered = created + draw(gaps)
    if state == "completed" and delivered is not None:
        completed = delivered + draw(gaps)
    if "cancelled" in state:
        cancelled = (delivered or created) + draw(gaps)
        cancelled_by = state.split(":")[1]
    due: datetime | None = None
    due_kind = draw(st.sampled_from(["none", "near", "near", "random"]))
    if due_kind == "near" and delivered is not None:
        due = delivered + draw(st.sampled_from([-SECOND, timedelta(0), timedelta(0), SECOND]))
    elif due_kind != "none":
        due = created + draw(gaps)
    if due is not None and due < created:
        due = created
    ship_by: datetime | None = None
    shipped: datetime | None = None
    tracking: str | None = None
    if draw(st.integers(min_value=0, max_value=3)):
        ship_by = created + draw(gaps)
        if draw(st.integers(min_value=0, max_value=4)):
            shipped = draw(
                st.sampled_from([ship_by, ship_by + SECOND, ship_by - SECOND, created])
                | st.builds(lambda g: created + g, gaps)
            )
            shipped = max(shipped, created)
            tracking = draw(st.sampled_from(["valid", "valid", "invalid", None]))
        if cancelled is None and draw(st.integers(min_value=0, max_value=5)) == 0:
            # Cancelled just before / at ship_by: left out of dispatch_orders only before it.
            cancelled = ship_by + draw(st.sampled_from([-SECOND, timedelta(0), SECOND]))
            cancelled = max(cancelled, created)
            cancelled_by = draw(st.sampled_from(["buyer", "seller", "admin"]))
            completed = None
    return oracle.OrderRow(
        external_id=f"o{number}",
        seller=sid,
        buyer=buyer,
        amount=draw(st.sampled_from(AMOUNTS)),
        created_at=created,
        due_at=due,
        delivered_at=delivered,
        completed_at=completed,
        cancelled_at=cancelled,
        cancelled_by=cancelled_by,
        excluded_from_metrics=draw(st.sampled_from([False, False, False, True])),
        ship_by=ship_by,
        shipped_at=shipped,
        tracking=tracking,
    )


def draw_window(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"window_months": draw(st.integers(min_value=0, max_value=3)), "window_days": None}
    return {"window_months": 3, "window_days": draw(st.sampled_from([1, 7, 30, 45, 90]))}


def _floor2(value: Fraction) -> Decimal:
    return Decimal(math.floor(value * 100)) / 100


def _ceil2(value: Fraction) -> Decimal:
    return Decimal(math.ceil(value * 100)) / 100


def _exact_decimal(value: Fraction) -> Decimal | None:
    """The Decimal equal to a Fraction, when its decimal expansion is finite."""
    den = value.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    if den != 1:
        return None
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return Decimal(int(value * 10**places)) / (Decimal(10) ** places)


def threshold_candidates(value: oracle.Value, values: dict[str, oracle.Value]) -> list[Decimal]:
    """Thresholds at, just below and just above an actual value (exact where possible)."""
    if value is None:
        return [Decimal("0"), Decimal("1"), Decimal("50")]
    if isinstance(value, int):
        return [Decimal(value), Decimal(value + 1), Decimal(max(value - 1, 0))]
    if isinstance(value, Decimal):
        return [value, value + Decimal("0.01"), max(value - Decimal("0.01"), Decimal(0))]
    exact = Fraction(value)
    found = [_floor2(exact), _ceil2(exact), _floor2(exact) - Decimal("0.01")]
    found.append(_ceil2(exact) + Decimal("0.01"))
    as_decimal = _exact_decimal(exact)
    if as_decimal is not None:
        found.append(as_decimal)
    rank, ranked = values.get("revenue_rank"), values.get("ranked_sellers")
    if (
        isinstance(rank, int)
        and isinstance(ranked, int)
        and ranked
        and value == values.get("revenue_top_percent")
    ):
        # The ceil rule's edges: just above the previous rank's percentage, and 1 %.
        found += [_ceil2(Fraction(100 * (rank - 1), ranked)) + Decimal("0.01"), Decimal("1")]
    # Only the net promoter score can be negative.
    return [c for c in found if c >= 0 or exact < 0]


def draw_levels(
    draw: st.DrawFn, samples: list[dict[str, oracle.Value]]
) -> tuple[oracle.Level, ...]:
    """1–4 levels with random criteria whose thresholds sit next to real metric values."""
    levels = []
    ranks = sorted(draw(st.sets(st.integers(min_value=1, max_value=9), min_size=1, max_size=4)))
    for position, rank in enumerate(ranks):
        rules = []
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            metric = draw(st.sampled_from(CRITERION_METRICS))
            values = draw(st.sampled_from(samples))
            threshold = draw(st.sampled_from(threshold_candidates(values[metric], values)))
            rules.append(
                oracle.Rule(
                    metric=metric,
                    op=draw(st.sampled_from([">=", "<="])),
                    value=threshold,
                    any_of=draw(st.sampled_from(["", "", "g1", "g2"])),
                )
            )
        levels.append(oracle.Level(name=f"Level {position + 1}", rank=rank, rules=tuple(rules)))
    return tuple(levels)


# --------------------------------------------------------------------------- DB and engine


def store(market: oracle.Market) -> dict[int, int]:
    """Write the market through the models (messages in index order) → local id → pk."""
    Survey.objects.all().delete()
    Case.objects.all().delete()
    Conversation.objects.all().delete()
    Review.objects.all().delete()
    Message.objects.all().delete()
    Order.objects.all().delete()
    Seller.objects.all().delete()
    pks: dict[int, int] = {}
    for row in market.sellers:
        pks[row.id] = Seller.objects.create(
            external_id=f"s{row.id}", username=f"prop-seller-{row.id}", joined_at=row.joined_at
        ).pk
    orders: dict[str, Order] = {}
    for o in market.orders:
        orders[o.external_id] = Order.objects.create(
            external_id=o.external_id,
            seller_id=pks[o.seller],
            buyer=o.buyer,
            amount=o.amount,
            created_at=o.created_at,
            due_at=o.due_at,
            delivered_at=o.delivered_at,
            completed_at=o.completed_at,
            cancelled_at=o.cancelled_at,
            cancelled_by=o.cancelled_by,
            excluded_from_metrics=o.excluded_from_metrics,
            ship_by=o.ship_by,
            shipped_at=o.shipped_at,
            tracking=o.tracking or "",
        )
    for m in sorted(market.messages, key=lambda m: m.index):
        Message.objects.create(
            external_id=f"m{m.index}",
            conversation=m.conversation,
            seller_id=pks[m.seller],
            buyer=m.buyer,
            sender=m.sender,
            sent_at=m.sent_at,
        )
    for r in market.reviews:
        Review.objects.create(
            external_id=r.external_id,
            order=orders[r.order],
            rating=r.rating,
            created_at=r.created_at,
        )
    for c in market.cases:
        Case.objects.create(
            external_id=c.external_id,
            order=orders[c.order],
            kind=c.kind,
            opened_at=c.opened_at,
            closed_at=c.closed_at,
            outcome=c.outcome or "",
        )
    for v in market.surveys:
        Survey.objects.create(
            external_id=v.external_id,
            order=orders[v.order],
            answered_at=v.answered_at,
            csat=v.csat,
            nps=v.nps,
        )
    for cv in market.conversations:
        Conversation.objects.create(
            external_id=cv.external_id,
            seller_id=pks[cv.seller],
            buyer=cv.buyer,
            resolved_at=cv.resolved_at,
        )
    return pks


def snapshot(policy: oracle.Policy) -> PolicySnapshot:
    return PolicySnapshot(
        levels=tuple(
            LevelSpec(
                name=level.name,
                rank=level.rank,
                criteria=tuple(
                    CriterionSpec(
                        metric=r.metric,
                        op=r.op,
                        value=r.value,
                        any_of=r.any_of,
                        window_days=r.window_days,
                    )
                    for r in level.rules
                ),
            )
            for level in policy.levels
        ),
        window_months=policy.window_months,
        window_days=policy.window_days,
        response_window_hours=policy.response_window_hours,
        demotion_grace_months=policy.demotion_grace_months,
        score=tuple(
            ScorePart(metric=p.metric, weight=p.weight, zero=p.zero, full=p.full)
            for p in policy.score
        ),
    )


def engine_metrics(*, pks: dict[int, int], policy: oracle.Policy, period: str) -> dict[int, Any]:
    window = window_for_period(
        period=Period.parse(period),
        window_months=policy.window_months,
        window_days=policy.window_days,
        response_window_hours=policy.response_window_hours,
    )
    computed = seller_metrics(seller_ids=list(pks.values()), window=window)
    return {local: computed[pk] for local, pk in pks.items()}


EXPECTED_TYPES: dict[Kind, type] = {
    Kind.COUNT: int,
    Kind.RANK: int,
    Kind.DAYS: int,
    Kind.MONEY: Decimal,
    Kind.RATE: Fraction,
    Kind.RATING: Fraction,
    Kind.PERCENT: Fraction,
    Kind.MINUTES: Fraction,
    Kind.HOURS: Fraction,
    Kind.NPS: Fraction,
}


def metric_mismatches(engine: dict[str, Any], expected: dict[str, oracle.Value]) -> list[str]:
    problems = []
    for key in oracle.METRIC_KEYS:
        if key not in engine:
            problems.append(f"{key}: missing")
            continue
        got, want = engine[key], expected[key]
        if want is None or got is None:
            if got is not want:
                problems.append(f"{key}: engine {got!r} != oracle {want!r}")
            continue
        kind_type = EXPECTED_TYPES[METRICS[key].kind]
        if isinstance(got, float | bool) or not isinstance(got, kind_type):
            problems.append(f"{key}: engine type {type(got).__name__}, want {kind_type.__name__}")
        if got != want:
            problems.append(f"{key}: engine {got!r} != oracle {want!r}")
    return problems


# --------------------------------------------------------------------------- properties


@pytest.mark.django_db(transaction=False)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_engine_metrics_and_level_equal_the_oracle(data: st.DataObject) -> None:
    hours = data.draw(st.sampled_from(HOURS), label="response_window_hours")
    market = data.draw(st.composite(lambda draw: draw_market(draw, hours=hours))(), label="market")
    period = data.draw(st.sampled_from(PERIODS), label="period")
    window = data.draw(st.composite(draw_window)(), label="window")
    bare = oracle.Policy(levels=(), response_window_hours=hours, **window)
    expected = oracle.seller_metrics(market=market, policy=bare, period=period, tz=TZ)
    levels = data.draw(
        st.composite(lambda draw: draw_levels(draw, list(expected.values())))(), label="levels"
    )
    policy = oracle.Policy(levels=levels, response_window_hours=hours, **window)

    pks = store(market)
    engine = engine_metrics(pks=pks, policy=policy, period=period)

    problems = {
        sid: found for sid in pks if (found := metric_mismatches(engine[sid], expected[sid]))
    }
    assert not problems, f"period {period}, window {window}, hours {hours}: {problems}"
    for sid in pks:
        result = grade(engine[sid], snapshot(policy))
        want = oracle.computed_level(metrics=expected[sid], policy=policy)
        assert (result.computed_level, result.level, result.at_risk) == (want, want, False), sid
        passes = [
            oracle.rule_passes(rule=rule, metrics=expected[sid])
            for level in sorted(policy.levels, key=lambda lv: lv.rank)
            for rule in level.rules
        ]
        assert [c.passed for c in result.criteria] == passes, sid


@pytest.mark.django_db(transaction=False)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_grace_over_three_periods_equals_the_oracle(data: st.DataObject) -> None:
    hours = data.draw(st.sampled_from(HOURS), label="response_window_hours")
    market = data.draw(st.composite(lambda draw: draw_market(draw, hours=hours))(), label="market")
    window = data.draw(st.composite(draw_window)(), label="window")
    grace = data.draw(st.integers(min_value=1, max_value=2), label="demotion_grace_months")
    bare = oracle.Policy(levels=(), response_window_hours=hours, **window)
    samples = [
        values
        for period in PERIODS
        for values in oracle.seller_metrics(
            market=market, policy=bare, period=period, tz=TZ
        ).values()
    ]
    levels = data.draw(st.composite(lambda draw: draw_levels(draw, samples))(), label="levels")
    policy = oracle.Policy(
        levels=levels, response_window_hours=hours, demotion_grace_months=grace, **window
    )
    expected = oracle.grade_periods(market=market, policy=policy, periods=PERIODS, tz=TZ)

    pks = store(market)
    previous: dict[int, Any] = {}
    for position, period in enumerate(PERIODS):
        engine = engine_metrics(pks=pks, policy=policy, period=period)
        for sid in pks:
            before = previous.get(sid)
            result = grade(
                engine[sid],
                snapshot(policy),
                held_level=before.level if before else None,
                grace_used=before.grace_used if before else 0,
            )
            want = expected[sid][position]
            got = (result.level, result.computed_level, result.at_risk, result.grace_used)
            assert got == (want.level, want.computed_level, want.at_risk, want.grace_used), (
                f"seller {sid}, period {period}: engine {got}, oracle {want}"
            )
            previous[sid] = result


# Per-criterion windows and the score (SPEC §5, issue 17 items 3, 4 and 6).
OWN_WINDOWS = (None, None, 7, 31, 60)
SCORE_METRICS = (
    "response_rate",
    "on_time_rate",
    "success_rate",
    "average_rating",
    "order_defect_rate",
    "csat_percent",
    "nps",
    "median_first_response_minutes",
)
SCORE_RANGES = (
    (Decimal(0), Decimal(100)),
    (Decimal(100), Decimal(0)),
    (Decimal(50), Decimal(90)),
    (Decimal("4.5"), Decimal(5)),
    (Decimal(60), Decimal(5)),
    (Decimal(-100), Decimal(100)),
)


def draw_score(draw: st.DrawFn) -> tuple[oracle.ScorePart, ...]:
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        zero, full = draw(st.sampled_from(SCORE_RANGES))
        parts.append(
            oracle.ScorePart(
                metric=draw(st.sampled_from(SCORE_METRICS)),
                weight=draw(st.sampled_from([Decimal(1), Decimal(3), Decimal("0.5")])),
                zero=zero,
                full=full,
            )
        )
    return tuple(parts)


@pytest.mark.django_db(transaction=False)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_own_windows_and_the_score_grade_as_the_oracle_does(data: st.DataObject) -> None:
    hours = data.draw(st.sampled_from(HOURS), label="response_window_hours")
    market = data.draw(st.composite(lambda draw: draw_market(draw, hours=hours))(), label="market")
    period = data.draw(st.sampled_from(PERIODS), label="period")
    # Policy windows in months mostly, so that a criterion's own days differ from them.
    window = data.draw(st.sampled_from(POLICY_WINDOWS), label="window")
    bare = oracle.Policy(levels=(), response_window_hours=hours, **window)
    expected = oracle.seller_metrics(market=market, policy=bare, period=period, tz=TZ)
    drawn = data.draw(
        st.composite(lambda draw: draw_levels(draw, list(expected.values())))(), label="levels"
    )
    levels = tuple(
        oracle.Level(
            name=level.name,
            rank=level.rank,
            rules=tuple(
                oracle.Rule(
                    metric=r.metric,
                    op=r.op,
                    value=r.value,
                    any_of=r.any_of,
                    window_days=data.draw(st.sampled_from(OWN_WINDOWS)),
                )
                for r in level.rules
            )
            + (
                (oracle.Rule("success_score", ">=", data.draw(st.sampled_from(SCORE_CUTS))),)
                if data.draw(st.booleans(), label="score criterion")
                else ()
            ),
        )
        for level in drawn
    )
    # One criterion on its own window whose threshold sits next to a value over that window,
    # so that reading the wrong window flips it.
    days = data.draw(st.sampled_from([d for d in OWN_WINDOWS if d]), label="own window")
    over_days = oracle.seller_metrics(
        market=market,
        policy=oracle.Policy(
            levels=(), window_months=None, window_days=days, response_window_hours=hours
        ),
        period=period,
        tz=TZ,
    )
    metric = data.draw(st.sampled_from(OWN_WINDOW_METRICS), label="own window metric")
    sample = data.draw(st.sampled_from(list(over_days.values())))
    pinned = oracle.Rule(
        metric=metric,
        op=data.draw(st.sampled_from([">=", "<="])),
        value=data.draw(st.sampled_from(threshold_candidates(sample[metric], sample))),
        window_days=days,
    )
    first, *rest = levels
    levels = (
        oracle.Level(name=first.name, rank=first.rank, rules=(pinned, *first.rules)),
        *rest,
    )
    score = data.draw(st.composite(draw_score)(), label="score")
    policy = oracle.Policy(levels=levels, response_window_hours=hours, score=score, **window)

    pks = store(market)
    engine = engine_metrics(pks=pks, policy=policy, period=period)
    rules = snapshot(policy)
    own = criterion_window_metrics(
        seller_ids=list(pks.values()),
        cutoff=Period.parse(period).cutoff,
        snapshot=rules,
    )
    want = oracle.graded_levels(market=market, policy=policy, period=period, tz=TZ)
    for sid, pk in pks.items():
        result = grade(engine[sid], rules, windows=own[pk])
        level, passes = want[sid]
        assert result.computed_level == level, (sid, period, window)
        assert [c.passed for c in result.criteria] == passes, (sid, period, window)
        assert with_score(engine[sid], rules)["success_score"] == oracle.success_score(
            metrics=expected[sid], policy=policy
        ), sid


SCORE_CUTS = (Decimal(0), Decimal(50), Decimal("66.67"), Decimal(100))
POLICY_WINDOWS: tuple[dict[str, Any], ...] = (
    {"window_months": 3, "window_days": None},
    {"window_months": 2, "window_days": None},
    {"window_months": 0, "window_days": None},
    {"window_months": None, "window_days": 45},
)
OWN_WINDOW_METRICS = (
    "window_completed_orders",
    "finished_orders",
    "success_rate",
    "on_time_rate",
    "response_rate",
    "inquiries",
    "window_review_count",
    "window_orders",
    "csat_responses",
)
