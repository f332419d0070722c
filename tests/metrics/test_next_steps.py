"""Next steps as actions (metrics/web/next_steps.py), compared with brute force on every small
case: the smallest number of further items, found by trying k = 0, 1, 2, … directly on the
SPEC §4 definition of the metric, with the criterion decided exactly (SPEC §4 "Exactness")."""

from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import translation

from metrics.engine.grading import Missing, NextLevel
from metrics.web import next_steps, sentences

THRESHOLDS = [Fraction(t) for t in ("0", "50", "85", "90", "95.5", "99", "100")]
RATINGS = [Fraction(t) for t in ("1", "3.5", "4.7", "4.95", "5")]
LIMIT = 5000


def brute_rate(part, total, op, t):
    for k in range(LIMIT):
        n = total + k
        if n == 0:
            continue
        p = part + k if op == ">=" else part
        if (Fraction(100 * p, n) >= t) if op == ">=" else (Fraction(100 * p, n) <= t):
            return k
    return None


def brute_rating(stars, reviews, t):
    for k in range(LIMIT):
        n = reviews + k
        if n and Fraction(stars + 5 * k, n) >= t:
            return k
    return None


@pytest.mark.parametrize("op", [">=", "<="])
def test_items_for_a_rate_match_brute_force_on_every_small_case(op):
    for total in range(0, 13):
        for part in range(0, total + 1):
            for t in THRESHOLDS:
                expected = brute_rate(part, total, op, t)
                got = next_steps.items_for_rate(part=part, total=total, op=op, threshold=t)
                assert got == expected, (part, total, op, t)


def test_five_star_reviews_for_a_rating_match_brute_force():
    for reviews in range(0, 10):
        for stars in range(reviews, 5 * reviews + 1):
            for t in RATINGS:
                expected = brute_rating(stars, reviews, t)
                got = next_steps.five_stars_for_rating(
                    stars=Fraction(stars), reviews=reviews, threshold=t
                )
                assert got == expected, (stars, reviews, t)


def test_the_issue_example_answer_your_next_34_inquiries():
    # 46 of 50 answered (92 %) against >= 99 %: (46 + k)·100 >= 99·(50 + k) → k >= 350.
    # 80 of 100 (80 %) against 90 %: (80 + k)·100 >= 90·(100 + k) → 10k >= 1000 → k = 100.
    # 56 of 66 (84.85 %) against 90 %: 10k >= 90·66 − 5600 = 340 → k = 34.
    step = next_steps.action(
        metric="response_rate",
        op=">=",
        threshold=Decimal(90),
        exact={"response_rate": Fraction(5600, 66), "inquiries": 66},
    )
    assert step == next_steps.Action("response_rate", "items", 34)


def test_actions_are_said_in_english_and_korean():
    level = NextLevel(
        level="Level 2",
        missing=(
            Missing("response_rate", ">=", Decimal(90), Fraction(5600, 66)),
            Missing("on_time_rate", ">=", Decimal(85), Fraction(800, 10)),
            Missing("average_rating", ">=", Decimal("4.7"), Fraction(46, 10)),
        ),
    )
    exact: dict[str, int | Decimal | Fraction | None] = {
        "response_rate": Fraction(5600, 66),
        "inquiries": 66,
        "on_time_rate": Fraction(800, 10),  # 8 of 10 on time: (8 + k)/(10 + k) >= .85 → k = 4
        "delivered_orders": 10,
        "average_rating": Fraction(46, 10),  # 46 stars / 10: (46 + 5k) >= 4.7 (10 + k) → k = 4
        "window_review_count": 10,
    }
    with translation.override("en"):
        said = [
            r.sentence
            for r in sentences.missing_requirements(
                next_level=level, exact=exact, currency="KRW", response_hours=24
            )
        ]
    assert said == [
        "Answer your next 34 inquiries within 24 hours "
        "(Response rate: 84.85 % now, at least 90 % needed)",
        "4 more orders delivered on time (On-time rate: 80 % now, at least 85 % needed)",
        "4 more 5-star reviews (Average rating: 4.60 now, at least 4.70 needed)",
    ]
    with translation.override("ko"):
        first = sentences.missing_requirements(
            next_level=level, exact=exact, currency="KRW", response_hours=24
        )[0].sentence
    assert first.startswith("다음 문의 34건에 24시간 안에 답변하세요")


def test_a_rate_that_cannot_reach_100_says_misses_must_leave_first():
    step = next_steps.action(
        metric="on_time_rate",
        op=">=",
        threshold=Decimal(100),
        exact={"on_time_rate": Fraction(90), "delivered_orders": 10},
    )
    assert step == next_steps.Action("on_time_rate", "impossible")


def test_lower_is_better_rate_counts_clean_orders():
    # 2 of 20 finished orders cancelled (10 %) against <= 5 %: 200 <= 5·(20 + k) → k = 20.
    step = next_steps.action(
        metric="cancellation_rate",
        op="<=",
        threshold=Decimal(5),
        exact={"cancellation_rate": Fraction(10), "finished_orders": 20},
    )
    assert step == next_steps.Action("cancellation_rate", "items", 20)


def test_money_is_the_amount_missing():
    step = next_steps.action(
        metric="revenue",
        op=">=",
        threshold=Decimal(5000000),
        exact={"revenue": Decimal("3800000.00")},
    )
    assert step is not None and step.amount == Decimal(1200000)
