"""Golden scenarios: each preset loaded (``manage.py load_policy``) and evaluated on sellers
written from the program's published rules (issue 12).

For every preset: a seller who just passes every criterion of a level (at the threshold where
the counts allow it exactly), and for each criterion one seller who fails only that one by the
smallest step (one order, one review a star lower, one reply a second late, one cent, one day).
The expected levels are worked out by hand from the rules, not from the preset files: a preset
whose thresholds drift from its program fails here.

The Etsy, eBay and Amazon presets are decided on dispatch fields and cases, which the
ingestion API does not take yet: their scenarios are in test_policy_presets_program_golden.py.
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


def test_airbnb_superhost(staff_client):
    # 100 stays and 1 host cancellation: 1 of 101 = 0.99 %; 8×5 + 2×4 = 4.8; 90 %.
    superhost = Profile(
        completed=100, seller_cancelled=1, ratings=ratings(five=8, four=2), **RESPONSE_90
    )
    ten = Profile(completed=10, ratings=ratings(five=10), **RESPONSE_90)
    check(
        staff_client,
        "airbnb_superhost",
        {
            "superhost": (superhost, "Superhost"),
            # 1 of 100 = 1 % exactly: "1 % or lower" passes.
            "cancel-1.0": (superhost.but(completed=99), "Superhost"),
            # 2 of 199 = 1.005 %: one cancellation more fails.
            "cancel-1.005": (superhost.but(completed=197, seller_cancelled=2), "Host"),
            "rating-4.7": (superhost.but(ratings=ratings(five=8, four=1, three=1)), "Host"),
            "response-80": (superhost.but(**ONE_REPLY_LATE), "Host"),
            "ten-stays": (ten, "Superhost"),
            "nine-stays": (ten.but(completed=9, ratings=ratings(five=9)), "Host"),
        },
    )


def test_fiverr_levels(staff_client):
    # Level 1 over 90 days: 5 orders, 3 buyers, 5 × 80 = 400, (5+5+4+4+4)/5 = 4.4, 8 of 10
    # inquiries in 24 h = 80 %.
    one = Profile(
        completed=5, buyers=3, amount="80", ratings=(5, 5, 4, 4, 4), answered=8, unanswered=2
    )
    check(
        staff_client,
        "fiverr_levels",
        {
            "l1": (one, "Level 1"),
            # Days as a seller are not a requirement of the current system.
            "l1-tenure-59": (one.but(tenure_days=59), "Level 1"),
            "l1-orders-4": (one.but(completed=4, amount="100", ratings=(5, 5, 4, 4)), "New Seller"),
            "l1-buyers-2": (one.but(buyers=2), "New Seller"),
            "l1-earnings": (one.but(last_amount="79.99"), "New Seller"),
            "l1-rating-4.2": (one.but(ratings=(5, 5, 4, 4, 3)), "New Seller"),
            "l1-response-70": (one.but(answered=7, answered_late=1), "New Seller"),
        },
    )
    # Its success score (weights of the preset's notes), by hand for "l1": rating 4.4 → 0.7 of
    # 30; response 80 % → 0.6 of 15; no case on its 5 orders, case_rate 0 → 1 of 20;
    # cancellations 0 % → 1 of 20; on time 100 % → 1 of 15: 21 + 9 + 20 + 20 + 15 = 85.
    assert grade_of(staff_client, "l1")["metrics"]["success_score"] == 85


def test_customer_success_score(staff_client):
    # Without orders, surveys or conversations only the response part counts (weight 10 of
    # 100, the others null): the score is 100 × (rate − 50) / 50.
    check(
        staff_client,
        "customer_success_score",
        {
            # 17 of 20 = 85 % → 70 exactly: Healthy.
            "healthy": (Profile(answered=17, unanswered=3), "Healthy"),
            # 16 of 19 = 84.21 % → 68.42: one inquiry fewer answered in time.
            "at-risk": (Profile(answered=16, unanswered=3), "At risk"),
            # 37 of 40 = 92.5 % → 85 exactly: Champion.
            "champion": (Profile(answered=37, unanswered=3), "Champion"),
            "no-data": (Profile(), "At risk"),
        },
    )
    assert grade_of(staff_client, "healthy")["metrics"]["success_score"] == 70


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
