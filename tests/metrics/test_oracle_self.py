"""Hand-computed scenarios that check the oracle itself, so a wrong oracle cannot bless a wrong
engine. Every expected value here is worked out by hand from SPEC §3–§5 (the arithmetic is in
the comments), never by calling the oracle twice."""

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from metrics.engine.registry import ENGINE_METRIC_KEYS as REGISTRY_KEYS
from tests import oracle
from tests.oracle import (
    Grade,
    Level,
    Market,
    MessageRow,
    OrderRow,
    Policy,
    ReviewRow,
    Rule,
    SellerRow,
)

TZ = "Asia/Seoul"
LEVEL_1 = Level("Level 1", 1)


def kst(text: str) -> datetime:
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(TZ))


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("UTC"))


def policy(*levels: Level, **window: int | None) -> Policy:
    return Policy(levels=levels or (LEVEL_1,), **window)  # type: ignore[arg-type]


def metrics_of(market: Market, period: str = "2026-10", **window: int | None) -> dict:
    values = oracle.seller_metrics(market=market, policy=policy(**window), period=period, tz=TZ)
    return values[market.sellers[0].id]


class Builder:
    """A one-seller (or more) market, written tersely."""

    def __init__(self, sellers: int = 1) -> None:
        self.market = Market(
            sellers=[SellerRow(id=i + 1, joined_at=kst("2025-01-01 00:00")) for i in range(sellers)]
        )
        self.n = 0

    def order(self, seller: int = 1, **fields: object) -> OrderRow:
        self.n += 1
        defaults: dict[str, object] = {
            "external_id": f"o{self.n}",
            "seller": seller,
            "buyer": f"b{self.n}",
            "amount": Decimal("10000"),
            "created_at": kst("2026-10-01 10:00"),
        }
        defaults.update(fields)
        row = OrderRow(**defaults)  # type: ignore[arg-type]
        self.market.orders.append(row)
        return row

    def completed(self, at: datetime, seller: int = 1, **fields: object) -> OrderRow:
        return self.order(
            seller=seller,
            created_at=fields.pop("created_at", at - timedelta(days=2)),
            delivered_at=at - timedelta(days=1),
            completed_at=at,
            **fields,
        )

    def message(self, conversation: str, sender: str, at: datetime, seller: int = 1) -> None:
        index = len(self.market.messages)
        self.market.messages.append(MessageRow(index, conversation, seller, "buyer", sender, at))

    def review(self, order: OrderRow, rating: int, at: datetime) -> None:
        rid = f"r{len(self.market.reviews)}"
        self.market.reviews.append(ReviewRow(rid, order.external_id, rating, at))


def test_oracle_lists_exactly_the_registry_metric_keys():
    # The engine's keys: success_score is derived from the policy by the grading.
    assert set(oracle.METRIC_KEYS) == set(REGISTRY_KEYS)
    assert len(oracle.METRIC_KEYS) == len(REGISTRY_KEYS)


def test_period_2026_10_in_seoul_is_bounded_by_local_midnights():
    start, cutoff = oracle.period_bounds(period="2026-10", tz=TZ)
    # KST is UTC+9: 2026-10-01 00:00 KST = 2026-09-30 15:00 UTC.
    assert start == utc("2026-09-30 15:00:00")
    assert cutoff == utc("2026-10-31 15:00:00")
    window_start, _ = oracle.window_bounds(
        period="2026-10", tz=TZ, window_months=3, window_days=None
    )
    assert window_start == utc("2026-07-31 15:00:00")  # 2026-08-01 00:00 KST
    days_start, _ = oracle.window_bounds(period="2026-10", tz=TZ, window_months=3, window_days=30)
    assert days_start == utc("2026-10-01 15:00:00")  # 2026-11-01 minus 30 days = 2026-10-02 KST
    all_time, _ = oracle.window_bounds(period="2026-01", tz=TZ, window_months=0, window_days=None)
    assert all_time is None
    january, _ = oracle.window_bounds(period="2026-01", tz=TZ, window_months=2, window_days=None)
    assert january == kst("2025-12-01 00:00")


def test_nine_of_ten_answered_is_exactly_90_and_passes_response_rate_at_least_90():
    given = Builder()
    for i in range(10):
        sent = kst(f"2026-10-{10 + i} 09:00")
        given.message(f"c{i}", "buyer", sent)
        if i < 9:
            given.message(f"c{i}", "seller", sent + timedelta(hours=1))
    metrics = metrics_of(given.market)
    assert (metrics["inquiries"], metrics["answered_in_time"]) == (10, 9)
    assert metrics["response_rate"] == Fraction(90)
    level_2 = Level("Level 2", 2, (Rule("response_rate", ">=", Decimal("90")),))
    strict = Level("Level 2", 2, (Rule("response_rate", ">=", Decimal("90.01")),))
    assert oracle.computed_level(metrics=metrics, policy=policy(LEVEL_1, level_2)) == "Level 2"
    assert oracle.computed_level(metrics=metrics, policy=policy(LEVEL_1, strict)) == "Level 1"


def test_reply_at_the_deadline_is_in_time_and_one_second_later_is_late():
    given = Builder()
    given.message("on-time", "buyer", kst("2026-10-10 09:00"))
    given.message("on-time", "seller", kst("2026-10-11 09:00:00"))
    given.message("late", "buyer", kst("2026-10-10 09:00"))
    given.message("late", "seller", kst("2026-10-11 09:00:01"))
    metrics = metrics_of(given.market)
    assert (metrics["inquiries"], metrics["answered_in_time"]) == (2, 1)
    # Both were answered before the cutoff: 1440 min and 1440 + 1/60 min → mean of the two.
    assert metrics["median_first_response_minutes"] == Fraction(1440 * 2 * 60 + 1, 2 * 60)


def test_inquiry_belongs_to_the_month_of_its_deadline_in_seoul():
    given = Builder()
    # Deadline 2026-10-31 23:59:59 KST: October. Deadline 2026-11-01 00:00 KST: November.
    given.message("oct", "buyer", kst("2026-10-30 23:59:59"))
    given.message("nov", "buyer", kst("2026-10-31 00:00:00"))
    given.message("nov", "seller", kst("2026-10-31 01:00:00"))
    october = metrics_of(given.market, period="2026-10", window_months=1)
    november = metrics_of(given.market, period="2026-11", window_months=1)
    assert (october["inquiries"], october["answered_in_time"]) == (1, 0)
    assert october["median_first_response_minutes"] is None
    assert (november["inquiries"], november["answered_in_time"]) == (1, 1)
    assert november["median_first_response_minutes"] == Fraction(60)


def test_order_completed_one_second_before_the_local_cutoff_counts_and_at_it_does_not():
    given = Builder()
    given.completed(kst("2026-10-31 23:59:59"), buyer="x", amount=Decimal("100.50"))
    given.completed(kst("2026-11-01 00:00:00"), buyer="y", amount=Decimal("7"))
    metrics = metrics_of(given.market, window_months=1)
    assert metrics["completed_orders"] == 1
    assert metrics["revenue"] == Decimal("100.50")
    assert metrics["unique_buyers"] == 1
    assert (metrics["window_completed_orders"], metrics["finished_orders"]) == (1, 1)
    # Delivered 2026-10-30 and 2026-10-31 (both in October): two deliveries, no due date.
    assert (metrics["delivered_orders"], metrics["on_time_rate"]) == (2, Fraction(100))


def test_revenue_rank_ties_share_the_best_rank_and_top_percent_uses_the_ceil_rule():
    given = Builder(sellers=4)
    given.completed(kst("2026-10-05 12:00"), seller=1, amount=Decimal("100"))
    given.completed(kst("2026-10-05 12:00"), seller=2, amount=Decimal("60"))
    given.completed(kst("2026-10-06 12:00"), seller=2, amount=Decimal("40"))
    given.completed(kst("2026-10-05 12:00"), seller=3, amount=Decimal("50"))
    given.completed(kst("2026-11-05 12:00"), seller=4, amount=Decimal("999"))  # after cutoff
    values = oracle.seller_metrics(market=given.market, policy=policy(), period="2026-10", tz=TZ)
    ranks = {sid: (v["revenue_rank"], v["revenue_top_percent"]) for sid, v in values.items()}
    assert ranks == {
        1: (1, Fraction(100, 3)),
        2: (1, Fraction(100, 3)),
        3: (3, Fraction(100)),
        4: (None, None),
    }
    assert {v["ranked_sellers"] for v in values.values()} == {3}
    # top 34 % of 3 sellers: ceil(1.02) = 2 → ranks 1 and 2 pass; top 33 %: ceil(0.99) = 1.
    top = Level("Top", 2, (Rule("revenue_top_percent", "<=", Decimal("34")),))
    assert oracle.computed_level(metrics=values[1], policy=policy(LEVEL_1, top)) == "Top"
    assert oracle.computed_level(metrics=values[3], policy=policy(LEVEL_1, top)) == "Level 1"
    assert oracle.computed_level(metrics=values[4], policy=policy(LEVEL_1, top)) == "Level 1"


def test_top_one_percent_of_fifty_sellers_is_the_best_one():
    rule = Rule("revenue_top_percent", "<=", Decimal("1"))
    first: oracle.MetricValues = {
        "revenue_rank": 1,
        "ranked_sellers": 50,
        "revenue_top_percent": Fraction(2),
    }
    second: oracle.MetricValues = {
        "revenue_rank": 2,
        "ranked_sellers": 50,
        "revenue_top_percent": Fraction(4),
    }
    assert oracle.rule_passes(rule=rule, metrics=first)
    assert not oracle.rule_passes(rule=rule, metrics=second)
    # The ">=" direction is a plain exact comparison: 2 >= 2 passes, 2 >= 2.01 fails.
    assert oracle.rule_passes(rule=Rule("revenue_top_percent", ">=", Decimal("2")), metrics=first)
    at_least = Rule("revenue_top_percent", ">=", Decimal("2.01"))
    assert not oracle.rule_passes(rule=at_least, metrics=first)


def test_excluded_orders_count_in_sales_figures_but_in_no_rate():
    given = Builder()
    excluded = given.completed(
        kst("2026-10-20 12:00"), buyer="b", excluded_from_metrics=True, amount=Decimal("500")
    )
    given.review(excluded, 1, kst("2026-10-21 12:00"))
    given.order(
        buyer="c",
        created_at=kst("2026-10-02 00:00"),
        cancelled_at=kst("2026-10-03 00:00"),
        cancelled_by="seller",
        excluded_from_metrics=True,
    )
    kept = given.completed(kst("2026-10-25 12:00"), buyer="b", amount=Decimal("300"))
    given.review(kept, 4, kst("2026-10-26 12:00"))
    metrics = metrics_of(given.market)
    assert (metrics["completed_orders"], metrics["revenue"]) == (2, Decimal("800"))
    assert (metrics["review_count"], metrics["unique_buyers"]) == (2, 1)
    assert (metrics["window_completed_orders"], metrics["window_revenue"]) == (2, Decimal("800"))
    assert (metrics["finished_orders"], metrics["success_rate"]) == (1, Fraction(100))
    assert metrics["seller_cancellation_rate"] == Fraction(0)
    assert (metrics["delivered_orders"], metrics["window_review_count"]) == (1, 1)
    assert (metrics["average_rating"], metrics["negative_review_rate"]) == (Fraction(4), 0)
    # Buyer b's only window order that counts was created 2026-10-23; the excluded order
    # completed 2026-10-20 is ignored entirely, so b is not a repeat buyer.
    assert metrics["repeat_buyer_rate"] == Fraction(0)


def test_cancellations_by_each_party_and_delivered_then_cancelled():
    given = Builder()
    given.completed(kst("2026-10-10 12:00"))
    for party in ("buyer", "seller", "admin"):
        given.order(cancelled_at=kst("2026-10-05 00:00"), cancelled_by=party)
    given.order(
        created_at=kst("2026-10-01 00:00"),
        due_at=kst("2026-10-03 00:00"),
        delivered_at=kst("2026-10-03 00:00:01"),
        cancelled_at=kst("2026-10-04 00:00"),
        cancelled_by="buyer",
    )
    metrics = metrics_of(given.market)
    assert metrics["finished_orders"] == 5
    assert metrics["success_rate"] == Fraction(20)
    assert metrics["cancellation_rate"] == Fraction(80)
    assert metrics["seller_cancellation_rate"] == Fraction(20)
    # Delivered: the completed order (no due_at → on time) and the late, later-cancelled one.
    assert (metrics["delivered_orders"], metrics["on_time_rate"]) == (2, Fraction(50))


def test_median_of_an_even_count_is_the_mean_of_the_middle_two_and_excludes_replies_at_cutoff():
    given = Builder()
    for i, minutes in enumerate([10, 3, 7, 30]):
        sent = kst(f"2026-10-1{i} 09:00")
        given.message(f"c{i}", "buyer", sent)
        given.message(f"c{i}", "seller", sent + timedelta(minutes=minutes, seconds=i))
    # Deadline 2026-10-31 23:00 KST is in October; the reply lands exactly at the cutoff.
    given.message("c9", "buyer", kst("2026-10-30 23:00"))
    given.message("c9", "seller", kst("2026-11-01 00:00"))
    metrics = metrics_of(given.market)
    assert (metrics["inquiries"], metrics["answered_in_time"]) == (5, 4)
    # Delays 10m0s, 3m1s, 7m2s, 30m3s → sorted 3m1s, 7m2s, 10m0s, 30m3s → (7m2s + 10m0s) / 2.
    assert metrics["median_first_response_minutes"] == (Fraction(7 * 60 + 2, 60) + Fraction(10)) / 2


def test_inquiries_follow_sent_at_then_insertion_order():
    given = Builder()
    at = kst("2026-10-10 09:00")
    # Same instant: seller (inserted first) then buyer → the buyer message follows a seller
    # message, so it is an inquiry; then the buyer again (not an inquiry), then a seller reply
    # inserted before them but sent later.
    given.message("c", "seller", at)
    given.message("c", "buyer", at)
    given.message("c", "seller", at + timedelta(hours=2))
    given.message("c", "buyer", at + timedelta(hours=1))
    # Same instant, buyer inserted first then seller: reply delay 0, in time.
    given.message("d", "buyer", at)
    given.message("d", "seller", at)
    metrics = metrics_of(given.market)
    assert (metrics["inquiries"], metrics["answered_in_time"]) == (2, 2)
    assert metrics["median_first_response_minutes"] == Fraction(60)  # (120 + 0) / 2


def test_repeat_buyer_needs_an_order_completed_strictly_before_their_latest_window_order():
    given = Builder()
    # b1: completed 10-05 12:00, then a new (cancelled) window order created 10-10 → repeat.
    given.completed(kst("2026-10-05 12:00"), buyer="b1", created_at=kst("2026-10-02 00:00"))
    given.order(
        buyer="b1",
        created_at=kst("2026-10-10 00:00"),
        cancelled_at=kst("2026-10-11 00:00"),
        cancelled_by="buyer",
    )
    # b2: completed exactly when the next order is created → not strictly before.
    given.completed(kst("2026-10-05 12:00"), buyer="b2", created_at=kst("2026-10-02 00:00"))
    given.order(buyer="b2", created_at=kst("2026-10-05 12:00"))
    # b3: completed order in July (outside the window) and a window order → repeat.
    given.completed(kst("2026-07-05 12:00"), buyer="b3")
    given.order(buyer="b3", created_at=kst("2026-10-20 00:00"))
    # b4: a single window order.
    given.order(buyer="b4", created_at=kst("2026-10-20 00:00"))
    metrics = metrics_of(given.market, window_months=1)
    assert metrics["repeat_buyer_rate"] == Fraction(100 * 2, 4)


def test_tenure_is_whole_days_and_zero_for_sellers_joining_after_the_cutoff():
    market = Market(
        sellers=[
            SellerRow(1, kst("2026-10-30 00:00:01")),  # 1 day 23:59:59 before the cutoff
            SellerRow(2, kst("2026-11-01 00:00")),
            SellerRow(3, kst("2026-10-31 00:00")),
        ]
    )
    values = oracle.seller_metrics(market=market, policy=policy(), period="2026-10", tz=TZ)
    assert [values[i]["tenure_days"] for i in (1, 2, 3)] == [1, 0, 1]
    # No activity: every rate null, every count zero.
    assert values[1]["response_rate"] is None and values[1]["revenue_rank"] is None
    assert values[1]["repeat_buyer_rate"] is None and values[1]["revenue"] == Decimal(0)


def test_ladder_any_of_groups_and_null_metrics():
    level_2 = Level(
        "Level 2",
        2,
        (
            Rule("completed_orders", ">=", Decimal("15"), any_of="volume"),
            Rule("revenue", ">=", Decimal("5000000"), any_of="volume"),
            Rule("average_rating", ">=", Decimal("4.7")),
        ),
    )
    level_3 = Level("Level 3", 3, ())  # no criteria, but above a failing level
    rules = policy(LEVEL_1, level_3, level_2)
    base: oracle.MetricValues = {
        "completed_orders": 3,
        "revenue": Decimal("5000000"),
        "average_rating": Fraction(47, 10),
    }
    assert oracle.computed_level(metrics=base, policy=rules) == "Level 3"
    assert (
        oracle.computed_level(metrics={**base, "average_rating": None}, policy=rules) == "Level 1"
    )
    poorer = {**base, "revenue": Decimal("4999999.99")}
    assert oracle.computed_level(metrics=poorer, policy=rules) == "Level 1"
    low = Level("Low", 1, (Rule("average_rating", ">=", Decimal("4")),))
    assert (
        oracle.computed_level(metrics={**base, "average_rating": None}, policy=policy(low)) is None
    )


def test_grace_keeps_the_held_level_n_times_then_demotes_straight_to_the_computed_level():
    levels = (Level("L1", 1), Level("L2", 2), Level("L3", 3))
    grace_2 = Policy(levels=levels, demotion_grace_months=2)
    computed = ["L3", "L1", "L2", "L1", "L1", None, "L3", "L3", "L2", "L3"]
    grades = oracle.grade_sequence(computed=computed, policy=grace_2)
    assert [(g.level, g.at_risk, g.grace_used) for g in grades] == [
        ("L3", False, 0),
        ("L3", True, 1),  # below L3: first failure kept
        ("L3", True, 2),  # second failure kept
        ("L1", False, 0),  # third failure demotes straight to L1
        ("L1", False, 0),  # at the held level: reset
        ("L1", True, 1),  # None is below everything
        ("L3", False, 0),  # promotion is immediate
        ("L3", False, 0),
        ("L3", True, 1),
        ("L3", False, 0),  # back at the held level: reset
    ]
    no_grace = oracle.grade_sequence(computed=["L3", "L1"], policy=Policy(levels=levels))
    assert [g.level for g in no_grace] == ["L3", "L1"]


def test_a_held_level_absent_from_the_policy_gives_no_grace():
    held = Grade(level="Gold", computed_level="Gold", at_risk=False, grace_used=0)
    rules = Policy(levels=(Level("L1", 1), Level("L2", 2)), demotion_grace_months=3)
    grade = oracle.apply_grace(computed="L1", previous=held, policy=rules)
    assert grade == Grade(level="L1", computed_level="L1", at_risk=False, grace_used=0)
