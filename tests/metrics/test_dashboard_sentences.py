"""The dashboard's words (metrics/web/sentences.py): gaps in the seller's units, money in its
currency, either-or groups, counts behind rates, grace dates; in English and Korean.

Expected strings are written by hand from the figures given, not read from the code.
"""

from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import translation

from metrics.engine.grading import Missing, NextLevel
from metrics.web import sentences
from metrics.web.sentences import Metrics

pytestmark = pytest.mark.django_db  # the active language needs settings only; tests are fast


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def korean():
    with translation.override("ko"):
        yield


def missing(*items, criteria=(), level="Level 3"):
    """grading's NextLevel for these missing items (each with its any_of label from
    ``criteria``, as grade() gives it)."""
    label = {m: g for m, _op, _v, g in criteria}
    return {
        "next_level": NextLevel(
            level=level,
            missing=tuple(
                Missing(m, op, Decimal(str(v)), a, any_of=label.get(m, "")) for m, op, v, a in items
            ),
        )
    }


LEVEL_3 = [
    ("completed_orders", ">=", 100, "volume"),
    ("revenue", ">=", 20000000, "volume"),
    ("success_rate", ">=", 85, ""),
]


def test_an_either_or_group_is_one_sentence_with_both_gaps(english):
    given = missing(
        ("completed_orders", ">=", 100, 20),
        ("revenue", ">=", 20000000, 2000000.0),
        criteria=LEVEL_3,
    )
    exact: Metrics = {"completed_orders": 20, "revenue": Decimal("2000000.00")}

    said = sentences.missing_requirements(**given, exact=exact, currency="KRW")

    assert [r.sentence for r in said] == [
        "80 more completed orders, or ₩18,000,000 more revenue (either one)"
    ]
    assert said[0].metrics == ("completed_orders", "revenue")


def test_the_same_group_in_korean(korean):
    given = missing(
        ("completed_orders", ">=", 100, 20),
        ("revenue", ">=", 20000000, 2000000.0),
        criteria=LEVEL_3,
    )
    exact: Metrics = {"completed_orders": 20, "revenue": Decimal("2000000.00")}

    said = sentences.missing_requirements(**given, exact=exact, currency="KRW")

    assert [r.sentence for r in said] == ["완료 주문 80건 더 또는 매출 ₩18,000,000 더 (둘 중 하나)"]


def test_a_rate_gap_is_in_percentage_points_rounded_up(english):
    # 20 of 24 finished orders completed: 83.333… %; 85 % needs 1.666… points: said 1.67.
    given = missing(("success_rate", ">=", 85, 83.33), criteria=LEVEL_3)
    exact: Metrics = {"success_rate": Fraction(2000, 24)}

    said = sentences.missing_requirements(**given, exact=exact, currency="KRW")

    assert [r.sentence for r in said] == [
        "Order success rate 1.67 percentage points higher (85 % or more; you have 83.33 %)"
    ]


def test_a_rate_that_rounds_to_the_threshold_still_shows_a_gap(english):
    # 89.995 % is shown as 90 % but fails >= 90: the gap is the smallest unit, never 0.
    said = sentences.criterion_sentence(
        metric="response_rate",
        op=">=",
        threshold=Decimal(90),
        actual=Fraction(89995, 1000),
        currency="KRW",
        exact={},
    )
    assert said == "Response rate 0.01 percentage points higher (90 % or more; you have 90 %)"


def test_a_one_item_gap_is_singular(english):
    said = sentences.criterion_sentence(
        metric="completed_orders",
        op=">=",
        threshold=Decimal(15),
        actual=14,
        currency="KRW",
        exact={},
    )
    assert said == "1 more completed order"


def test_a_null_metric_reads_not_enough_data_yet(korean):
    with translation.override("en"):
        english_said = sentences.criterion_sentence(
            metric="average_rating",
            op=">=",
            threshold=Decimal("4.7"),
            actual=None,
            currency="KRW",
            exact={},
        )
    korean_said = sentences.criterion_sentence(
        metric="average_rating",
        op=">=",
        threshold=Decimal("4.7"),
        actual=None,
        currency="KRW",
        exact={},
    )
    assert english_said == "Average rating: not enough data yet (at least 4.70 needed)"
    assert korean_said == "평균 평점: 아직 데이터가 충분하지 않음 (4.70 이상 필요)"


def test_a_slow_median_response_says_minutes_faster(english):
    said = sentences.criterion_sentence(
        metric="median_first_response_minutes",
        op="<=",
        threshold=Decimal(60),
        actual=Fraction(191, 2),  # 95.5 minutes
        currency="KRW",
        exact={},
    )
    assert said == (
        "Median first response (min) 36 minutes faster (60 minutes or less; yours is 96 minutes)"
    )


def test_top_percent_says_the_rank_it_takes(english):
    # Top 1 % of 250 sellers: rank ≤ ceil(2.5) = 3 passes (SPEC §5); the seller is 7th.
    said = sentences.criterion_sentence(
        metric="revenue_top_percent",
        op="<=",
        threshold=Decimal(1),
        actual=Fraction(700, 250),
        currency="KRW",
        exact={"revenue_rank": 7, "ranked_sellers": 250},
    )
    assert said == (
        "A place in the top 1 % of sellers by revenue: rank 3 or better of 250 (you are #7)"
    )


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("18000000"), "KRW", "₩18,000,000"),
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("99.999"), "KRW", "₩100"),  # a gap is rounded up to the currency's unit
        (Decimal("12.5"), "SGD", "12.50 SGD"),
    ],
)
def test_money_is_in_its_currency(english, amount, currency, shown):
    assert sentences.money(amount, currency) == shown


def test_counts_behind_the_rates(english):
    exact: Metrics = {
        "inquiries": 50,
        "answered_in_time": 46,
        "finished_orders": 24,
        "success_rate": Fraction(250, 3),  # 20 of 24
        "delivered_orders": 1,
        "on_time_rate": Fraction(0),
        "window_review_count": 0,
        "average_rating": None,
    }

    def said(key):
        return sentences.rate_counts(key, exact, response_hours=24)

    assert said("response_rate") == "answered 46 of 50 inquiries within 24 h"
    assert said("success_rate") == "completed 20 of 24 finished orders"
    assert said("on_time_rate") == "delivered 0 of 1 order on time"
    assert said("average_rating") is None  # no reviews: nothing to count


def test_counts_in_korean(korean):
    exact: Metrics = {"inquiries": 50, "answered_in_time": 46}
    assert sentences.rate_counts("response_rate", exact, response_hours=24) == (
        "문의 50건 중 46건에 24시간 이내 응답"
    )


def test_grace_says_when_a_demotion_would_take_effect(english):
    # Gold kept by grace in 2026-10 (1 of 2 used): Nov fails → kept (2 of 2); Dec fails →
    # demoted, effective from the December cutoff, 2027-01-01.
    kept, when = sentences.grace_explained(
        level="Gold", computed_level="Bronze", period="2026-10", grace_used=1, grace_months=2
    )
    assert kept == (
        "Your metrics are below Gold's criteria, but you keep Gold thanks to the grace period "
        "(1 of 2 failing evaluations used)."
    )
    assert when == (
        "If they are still below at the evaluation of December 2026, you move to Bronze from "
        "Jan. 1, 2027."
    )


def test_dates_and_months_follow_the_language(korean):
    from metrics.engine.periods import Period

    assert sentences.month("2026-10") == "2026년 10월"
    assert sentences.date(Period.parse("2026-10").cutoff) == "2026년 11월 1일"


@pytest.mark.parametrize(
    ("op", "threshold", "actual", "expected"),
    [(">=", 100, 20, 20), (">=", 100, 150, 100), ("<=", 10, 20, 50), ("<=", 10, 5, 100)],
)
def test_progress_towards_a_threshold(op, threshold, actual, expected):
    assert sentences.progress(op, threshold, actual) == expected


def test_progress_of_a_null_metric_is_empty():
    assert sentences.progress(">=", 90, None) == 0
