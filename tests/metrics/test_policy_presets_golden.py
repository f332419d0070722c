"""Golden scenarios: each preset loaded (``manage.py load_policy``) and evaluated on sellers
written from the program's published rules (issue 12).

For every preset: a seller who just passes every criterion of a level (at the threshold where
the counts allow it exactly), and for each criterion one seller who fails only that one by the
smallest step (one order, one review a star lower, one reply a second late, one cent, one day).
The expected levels are worked out by hand from the rules, not from the preset files: a preset
whose thresholds drift from its program fails here.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from tests.api_helpers import evaluate, grade_of
from tests.metrics.preset_scenarios import Profile, push_world, ratings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_2027_01_15")]

PERIOD = "2026-12"
RESPONSE_90: dict[str, Any] = {"answered": 9, "unanswered": 1}  # 9 of 10 in time: 90 % exactly
ONE_REPLY_LATE: dict[str, Any] = {"answered": 8, "answered_late": 1, "unanswered": 1}  # 80 %


def load(name: str) -> None:
    call_command("load_policy", name, stdout=io.StringIO())


def levels_after_run(staff_client, world: dict[str, Profile], sellers: list[str]) -> dict:
    push_world(staff_client, world)
    evaluate(staff_client, PERIOD)
    return {seller: grade_of(staff_client, seller)["level"] for seller in sellers}


def check(staff_client, preset: str, cases: dict[str, tuple[Profile, str | None]]) -> None:
    load(preset)
    world = {seller: profile for seller, (profile, _) in cases.items()}
    expected = {seller: level for seller, (_, level) in cases.items()}
    assert levels_after_run(staff_client, world, list(cases)) == expected


def test_etsy_star_seller(staff_client):
    # 20 orders of 15 = 300 in sales; 1 of 20 late = 95 % on time; 8×5 + 2×4 = 4.8;
    # 19 of 20 inquiries in time = 95 %.
    star = Profile(
        completed=20,
        amount="15",
        late=1,
        ratings=ratings(five=8, four=2),
        answered=19,
        unanswered=1,
    )
    few = Profile(completed=5, amount="60", ratings=ratings(five=4, four=1), answered=1)
    check(
        staff_client,
        "etsy_star_seller",
        {
            "star": (star, "Star Seller"),
            "sales-299.99": (star.but(last_amount="14.99"), "Seller"),
            "on-time-90": (star.but(late=2), "Seller"),
            "rating-4.7": (star.but(ratings=ratings(five=8, four=1, three=1)), "Seller"),
            "response-90": (star.but(answered=18, answered_late=1), "Seller"),
            "five-orders": (few, "Star Seller"),
            "four-orders": (few.but(completed=4, amount="75", ratings=(5, 5, 5, 5)), "Seller"),
            # Etsy ignores the message rule when no message arrived.
            "no-messages": (star.but(answered=0, unanswered=0), "Star Seller"),
        },
    )


def test_ebay_top_rated(staff_client):
    # 90 days; 200 orders of 5 = 1,000; 6 of 200 late = 97 %; 1 seller cancellation in 201
    # finished (0.4975 %); 1 negative review of 200 = 0.5 %.
    top = Profile(
        tenure_days=90,
        completed=200,
        amount="5",
        late=6,
        seller_cancelled=1,
        ratings=ratings(five=199, one=1),
    )
    hundred = Profile(tenure_days=400, completed=100, amount="10", late=2)
    check(
        staff_client,
        "ebay_top_rated",
        {
            "top": (top, "Top Rated"),
            "tenure-89": (top.but(tenure_days=89), "Seller"),
            "sales-999.99": (top.but(last_amount="4.99"), "Seller"),
            "late-3.5": (top.but(late=7), "Seller"),
            "cancel-0.99": (top.but(seller_cancelled=2), "Seller"),
            "defects-0.5025": (top.but(ratings=ratings(five=198, one=1)), "Seller"),
            # 100 orders, no review: no defect.
            "hundred": (hundred, "Top Rated"),
            "ninety-nine": (hundred.but(completed=99, amount="10.11"), "Seller"),
        },
    )


def test_airbnb_superhost(staff_client):
    # 100 stays and 1 host cancellation: 1 of 101 = 0.99 % (< 1 %); 8×5 + 2×4 = 4.8; 90 %.
    superhost = Profile(
        completed=100, seller_cancelled=1, ratings=ratings(five=8, four=2), **RESPONSE_90
    )
    ten = Profile(completed=10, ratings=ratings(five=10), **RESPONSE_90)
    check(
        staff_client,
        "airbnb_superhost",
        {
            "superhost": (superhost, "Superhost"),
            # 1 of 100 = 1 % exactly: not "less than 1 %".
            "cancel-1.0": (superhost.but(completed=99), "Host"),
            "rating-4.7": (superhost.but(ratings=ratings(five=8, four=1, three=1)), "Host"),
            "response-80": (superhost.but(**ONE_REPLY_LATE), "Host"),
            "ten-stays": (ten, "Superhost"),
            "nine-stays": (ten.but(completed=9, ratings=ratings(five=9)), "Host"),
        },
    )


def test_fiverr_levels(staff_client):
    # Level 1: 60 days, 5 orders, 3 buyers, 5 × 80 = 400, (5+5+4+4+4)/5 = 4.4, 90 %.
    one = Profile(
        tenure_days=60,
        completed=5,
        buyers=3,
        amount="80",
        ratings=(5, 5, 4, 4, 4),
        **RESPONSE_90,
    )
    # Level 2: 120 days, 25 orders, 10 buyers, 25 × 200 = 5,000, 23/5 = 4.6, 90 %.
    two = Profile(
        tenure_days=120,
        completed=25,
        buyers=10,
        amount="200",
        ratings=(5, 5, 5, 4, 4),
        **RESPONSE_90,
    )
    # Top Rated: 180 days, 100 orders, 10 buyers, 100 × 200 = 20,000, 47/10 = 4.7, 90 %.
    top = Profile(
        tenure_days=180,
        completed=100,
        buyers=10,
        amount="200",
        ratings=ratings(five=7, four=3),
        **RESPONSE_90,
    )
    check(
        staff_client,
        "fiverr_levels",
        {
            "l1": (one, "Level 1"),
            "l1-tenure-59": (one.but(tenure_days=59), "New Seller"),
            "l1-orders-4": (one.but(completed=4, amount="100", ratings=(5, 5, 4, 4)), "New Seller"),
            "l1-buyers-2": (one.but(buyers=2), "New Seller"),
            "l1-earnings": (one.but(last_amount="79.99"), "New Seller"),
            "l1-rating-4.2": (one.but(ratings=(5, 5, 4, 4, 3)), "New Seller"),
            "l1-response": (one.but(**ONE_REPLY_LATE), "New Seller"),
            "l2": (two, "Level 2"),
            "l2-tenure-119": (two.but(tenure_days=119), "Level 1"),
            "l2-orders-24": (two.but(completed=24, amount="208.34"), "Level 1"),
            "l2-buyers-9": (two.but(buyers=9), "Level 1"),
            "l2-earnings": (two.but(last_amount="199.99"), "Level 1"),
            "l2-rating-4.4": (two.but(ratings=(5, 5, 4, 4, 4)), "Level 1"),
            "l2-response": (two.but(**ONE_REPLY_LATE), "New Seller"),
            "top": (top, "Top Rated"),
            "top-tenure-179": (top.but(tenure_days=179), "Level 2"),
            "top-orders-99": (top.but(completed=99, amount="202.03"), "Level 2"),
            # Level 2 also asks for 10 unique buyers.
            "top-buyers-9": (top.but(buyers=9), "Level 1"),
            "top-earnings": (top.but(last_amount="199.99"), "Level 2"),
            "top-rating-4.6": (top.but(ratings=ratings(five=6, four=4)), "Level 2"),
            "top-response": (top.but(**ONE_REPLY_LATE), "New Seller"),
        },
    )


def test_amazon_account_health(staff_client):
    # 125 delivered, 5 late = 96 % on time; 3 seller cancellations of 128 finished (2.34 %);
    # 1 negative review of 101 = 0.99 % (< 1 %); 90 % answered in 24 h.
    healthy = Profile(
        completed=125,
        late=5,
        seller_cancelled=3,
        ratings=ratings(five=100, one=1),
        **RESPONSE_90,
    )
    # 3 of 120 finished = 2.5 % exactly.
    cancels = Profile(completed=117, seller_cancelled=3)
    check(
        staff_client,
        "amazon_account_health",
        {
            "healthy": (healthy, "Healthy"),
            "late-4.8": (healthy.but(late=6), "At risk"),
            # 1 of 100 = 1 % exactly: not "under 1 %".
            "defects-1.0": (healthy.but(ratings=ratings(five=99, one=1)), "At risk"),
            "response-80": (healthy.but(**ONE_REPLY_LATE), "At risk"),
            "cancel-2.5": (cancels, "Healthy"),
            "cancel-2.52": (cancels.but(completed=116), "At risk"),
            # No orders, reviews or messages: no defect of any kind.
            "idle": (Profile(), "Healthy"),
        },
    )


def test_facebook_responsive(staff_client):
    # 9 of 10 answered in 15 minutes: 90 %, median 15 minutes exactly.
    responsive = Profile(answered=9, unanswered=1, reply_seconds=15 * 60)
    check(
        staff_client,
        "facebook_responsive",
        {
            "responsive": (responsive, "Very responsive"),
            # The late reply still counts in the median (15 min), not in the rate (80 %).
            "response-80": (responsive.but(answered=8, answered_late=1), "Page"),
            "median-15m01s": (responsive.but(reply_seconds=15 * 60 + 1), "Page"),
            "no-inquiries": (Profile(), "Page"),
        },
    )


def test_kmong_levels_2_and_3(staff_client):
    # Level 2: 15 orders (or 5,000,000), 7×5 + 3×4 = 4.7, 90 %.
    two = Profile(completed=15, ratings=ratings(five=7, four=3), **RESPONSE_90)
    two_by_revenue = Profile(completed=1, amount="5000000", ratings=(5,), **RESPONSE_90)
    # Level 3: 102 orders (or 20,000,000), 4.7, 102 of 120 finished = 85 % success.
    three = two.but(completed=102, buyer_cancelled=18)
    three_by_revenue = two_by_revenue.but(amount="20000000")
    check(
        staff_client,
        "kmong",
        {
            "l2": (two, "Level 2"),
            "l2-volume": (two.but(completed=14), "Level 1"),
            "l2-rating-4.6": (two.but(ratings=ratings(five=6, four=4)), "Level 1"),
            "l2-response": (two.but(**ONE_REPLY_LATE), "Level 1"),
            "l2-revenue": (two_by_revenue, "Level 2"),
            "l2-revenue-short": (two_by_revenue.but(amount="4999999.99"), "Level 1"),
            "l3": (three, "Level 3"),
            # 99 orders (and 17 cancellations, so the success rate still passes: 85.3 %).
            "l3-volume": (three.but(completed=99, buyer_cancelled=17), "Level 2"),
            "l3-success-84.3": (three.but(buyer_cancelled=19), "Level 2"),
            "l3-rating-4.6": (three.but(ratings=ratings(five=6, four=4)), "Level 1"),
            "l3-response": (three.but(**ONE_REPLY_LATE), "Level 1"),
            "l3-revenue": (three_by_revenue, "Level 3"),
            "l3-revenue-short": (three_by_revenue.but(amount="19999999.99"), "Level 2"),
        },
    )


def test_kmong_master(staff_client):
    # Master: top 1 % by revenue, 85 % on time, 1,300 reviews. With 250 ranked sellers the top
    # 1 % is the best ceil(2.5) = 3: the three candidates ranked 1-3 pass it, rank 4 does not.
    master = Profile(
        completed=1300,
        amount="40000",
        late=195,  # 1,105 of 1,300 on time = 85 %
        ratings=ratings(five=910, four=390),  # 6,110 / 1,300 = 4.7
        **RESPONSE_90,
    )
    cases = {
        "master": (master, "Master"),
        # 6,106 / 1,299 = 4.7005: only the review count fails.
        "reviews-1299": (
            master.but(amount="39000", ratings=ratings(five=910, four=389)),
            "Level 3",
        ),
        "on-time-84.9": (master.but(amount="38000", late=196), "Level 3"),
        "rank-4": (master.but(amount="37000"), "Level 3"),
    }
    fillers = {
        f"filler-{i:03d}": (Profile(completed=1, amount="1000"), "Level 1") for i in range(246)
    }
    load("kmong")
    world = {seller: profile for seller, (profile, _) in {**cases, **fillers}.items()}
    checked = [*cases, "filler-000"]
    expected = {seller: level for seller, (_, level) in {**cases, **fillers}.items()}
    levels = levels_after_run(staff_client, world, checked)
    assert levels == {seller: expected[seller] for seller in checked}
    grade = grade_of(staff_client, "rank-4")
    assert (grade["metrics"]["revenue_rank"], grade["metrics"]["ranked_sellers"]) == (4, 250)
