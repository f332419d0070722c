"""SPEC §3–§4 end to end: periods, windows and the metric fine points as an integration sees
them — data pushed through the ingestion API on 2027-01-15, a period evaluated through POST
/api/v1/evaluations, figures read back from GET /api/v1/sellers/{id}/grade.

Expected values are computed by hand in each test (comments show the sums). The engine's own
tests of the same rules are test_compute_orders.py and test_compute_inquiries.py.
"""

from __future__ import annotations

import pytest

from tests.api_helpers import (
    evaluate,
    grade_of,
    push_completed_order,
    push_message,
    push_order,
    push_policy,
    push_review,
    push_seller,
    put_ok,
    tiers_policy,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_2027_01_15")]


# --- §3 periods and windows -------------------------------------------------------------------


def test_month_edges_are_in_seoul_time_whatever_offset_the_data_uses(staff_client):
    s = push_seller(staff_client, "edges")
    # 2026-10-31T14:59:59Z = 23:59:59 KST on 31 Oct: October. 15:00:00Z = 1 Nov 00:00 KST: not.
    for ext, completed in (("ed-in", "2026-10-31T14:59:59Z"), ("ed-out", "2026-10-31T15:00:00Z")):
        put_ok(
            staff_client,
            f"orders/{ext}",
            {
                "seller": s,
                "buyer": ext,
                "amount": "100",
                "created_at": "2026-10-20T00:00:00Z",
                "delivered_at": "2026-10-21T00:00:00Z",
                "completed_at": completed,
            },
        )
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["completed_orders"], m["revenue"], m["window_completed_orders"]) == (1, 100, 1)
    assert m["unique_buyers"] == 1


def test_the_three_month_window_starts_on_the_first_of_the_month_two_months_before(staff_client):
    s = push_seller(staff_client, "window")
    push_completed_order(
        staff_client, "w-before", seller=s, day="2026-07-31", completed="2026-07-31 23:59:59"
    )
    push_completed_order(
        staff_client, "w-first", seller=s, day="2026-07-31", completed="2026-08-01 00:00:00"
    )
    evaluate(staff_client, "2026-10")  # window [2026-08-01 00:00, 2026-11-01 00:00)

    m = grade_of(staff_client, s)["metrics"]

    assert (m["completed_orders"], m["window_completed_orders"], m["finished_orders"]) == (2, 1, 1)


def test_window_months_zero_means_all_time(staff_client):
    s = push_seller(staff_client, "alltime", joined="2024-01-01 00:00")
    push_policy(staff_client, tiers_policy(window_months=0))
    push_completed_order(staff_client, "at-1", seller=s, day="2024-03-01")
    push_completed_order(staff_client, "at-2", seller=s, day="2026-10-01")
    evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    assert (body["metrics"]["window_completed_orders"], body["level"]) == (2, "Gold")


def test_a_custom_policy_uses_window_days_and_its_response_window(staff_client):
    s = push_seller(staff_client, "custom")
    push_policy(
        staff_client,
        {
            "name": "Custom",
            "window_months": 3,
            "window_days": 30,  # wins: [2026-10-02 00:00, 2026-11-01 00:00)
            "response_window_hours": 2,
            "demotion_grace_months": 0,
            "levels": [
                {
                    "name": "Silver",
                    "rank": 2,
                    "criteria": [
                        {"metric": "response_rate", "op": ">=", "value": 50, "any_of": "speed"},
                        {
                            "metric": "median_first_response_minutes",
                            "op": "<=",
                            "value": 30,
                            "any_of": "speed",
                        },
                        {"metric": "seller_cancellation_rate", "op": "<=", "value": 10},
                    ],
                },
                {"name": "Bronze", "rank": 1, "criteria": []},
            ],
        },
    )
    # Deadline 10-01 11:00: before the 30-day window (it would count with 3 months).
    push_message(staff_client, "cu-1", s, "cu-c1", "buyer", at="2026-10-01 09:00")
    push_message(staff_client, "cu-2", s, "cu-c1", "seller", at="2026-10-01 09:30")
    # Answered after 3 h: late under a 2-hour response window.
    push_message(staff_client, "cu-3", s, "cu-c2", "buyer", at="2026-10-10 09:00")
    push_message(staff_client, "cu-4", s, "cu-c2", "seller", at="2026-10-10 12:00")
    # Answered after 119 minutes: in time.
    push_message(staff_client, "cu-5", s, "cu-c3", "buyer", at="2026-10-20 09:00")
    push_message(staff_client, "cu-6", s, "cu-c3", "seller", at="2026-10-20 10:59")
    # Deadline 11-01 01:00: at/after the cutoff, so not an inquiry of 2026-10.
    push_message(staff_client, "cu-7", s, "cu-c4", "buyer", at="2026-10-31 23:00")
    # One completed order so that seller_cancellation_rate = 0 / 1 (not null).
    push_completed_order(staff_client, "cu-o1", seller=s, day="2026-10-15")
    evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    m = body["metrics"]
    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (2, 1, 50)
    assert m["median_first_response_minutes"] == 149.5  # (180 + 119) / 2
    assert m["seller_cancellation_rate"] == 0
    # speed passes through response_rate (50 >= 50) though the median (149.5 > 30) fails.
    assert (body["level"], body["rank"], body["next_level"]) == ("Silver", 2, None)
    speed = [c["passed"] for c in body["criteria"] if c["any_of"] == "speed"]
    assert speed == [True, False]


# --- §4 inquiries -----------------------------------------------------------------------------


def test_an_inquiry_is_a_buyer_message_opening_or_following_the_seller(staff_client):
    s = push_seller(staff_client, "threads")
    # buyer, buyer, seller, buyer: inquiries are messages 1 and 4 (2 follows a buyer message).
    push_message(staff_client, "t-1", s, "t-c", "buyer", at="2026-10-10 09:00")
    push_message(staff_client, "t-2", s, "t-c", "buyer", at="2026-10-10 09:10")
    push_message(staff_client, "t-3", s, "t-c", "seller", at="2026-10-10 09:30")
    push_message(staff_client, "t-4", s, "t-c", "buyer", at="2026-10-12 09:00")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    # Message 1 answered after 30 min; message 4 never answered.
    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (2, 1, 50)
    assert m["median_first_response_minutes"] == 30


def test_a_reply_exactly_at_the_deadline_is_in_time_one_second_later_is_not(staff_client):
    s = push_seller(staff_client, "deadline")
    push_message(staff_client, "dl-1", s, "dl-c1", "buyer", at="2026-10-10 09:00:00")
    push_message(staff_client, "dl-2", s, "dl-c1", "seller", at="2026-10-11 09:00:00")
    push_message(staff_client, "dl-3", s, "dl-c2", "buyer", at="2026-10-12 09:00:00")
    push_message(staff_client, "dl-4", s, "dl-c2", "seller", at="2026-10-13 09:00:01")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (2, 1, 50)
    # (1440 + 1440 + 1/60) / 2 minutes = 1440.00833… → 1440.01
    assert m["median_first_response_minutes"] == 1440.01


def test_an_inquiry_belongs_to_the_period_its_deadline_falls_in(staff_client):
    s = push_seller(staff_client, "belongs")
    # Deadline exactly at the cutoff (2026-11-01 00:00): a November inquiry.
    push_message(staff_client, "bl-1", s, "bl-c1", "buyer", at="2026-10-31 00:00")
    # Deadline 2026-08-01 00:00, exactly the window start: in October's 3-month window.
    push_message(staff_client, "bl-2", s, "bl-c2", "buyer", at="2026-07-31 00:00")
    # A reply after the cutoff: unanswered for October, out of the median.
    push_message(staff_client, "bl-3", s, "bl-c2", "seller", at="2026-11-02 00:00")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (1, 0, 0)
    assert m["median_first_response_minutes"] is None


# --- §4 orders, reviews, buyers, sellers ------------------------------------------------------


def test_excluded_orders_count_in_sales_but_in_no_rate(staff_client):
    s = push_seller(staff_client, "excluded")
    push_completed_order(staff_client, "x-ok", seller=s, day="2026-10-05", buyer="b1")
    push_completed_order(
        staff_client,
        "x-ex",
        seller=s,
        day="2026-10-06",
        buyer="b2",
        excluded=True,
        due="2026-10-06 10:30",
    )
    push_review(staff_client, "x-r1", order="x-ex", rating=1, at="2026-10-07 09:00")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["completed_orders"], m["revenue"], m["unique_buyers"]) == (2, 20000, 2)
    assert (m["window_completed_orders"], m["window_revenue"]) == (2, 20000)
    assert (m["finished_orders"], m["delivered_orders"], m["on_time_rate"]) == (1, 1, 100)
    assert (m["window_review_count"], m["average_rating"], m["review_count"]) == (0, None, 1)


def test_cancellations_split_by_who_cancelled(staff_client):
    s = push_seller(staff_client, "cancels")
    push_completed_order(staff_client, "cx-1", seller=s, day="2026-10-05")
    for ext, by in (("cx-2", "seller"), ("cx-3", "buyer"), ("cx-4", "admin")):
        push_order(
            staff_client,
            ext,
            seller=s,
            created="2026-10-06 10:00",
            cancelled="2026-10-07 10:00",
            cancelled_by=by,
        )
    # Delivered, then cancelled: delivered (on time) and cancelled (finished).
    push_order(
        staff_client,
        "cx-5",
        seller=s,
        created="2026-10-06 10:00",
        due="2026-10-08 10:00",
        delivered="2026-10-07 10:00",
        cancelled="2026-10-09 10:00",
        cancelled_by="buyer",
    )
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    # finished 5 = 1 completed + 4 cancelled (1 by the seller).
    assert m["finished_orders"] == 5
    assert (m["success_rate"], m["cancellation_rate"], m["seller_cancellation_rate"]) == (
        20,
        80,
        20,
    )
    assert (m["delivered_orders"], m["on_time_rate"]) == (2, 100)


def test_repeat_buyers_need_an_order_completed_before_their_latest_window_order(staff_client):
    s = push_seller(staff_client, "repeat")
    # b1: completed in June, orders again in October → repeat.
    push_completed_order(staff_client, "rp-1", seller=s, day="2026-06-05", buyer="b1")
    push_order(staff_client, "rp-2", seller=s, created="2026-10-05 10:00", buyer="b1")
    # b2: two window orders; the first completes before the second is created → repeat.
    push_completed_order(staff_client, "rp-3", seller=s, day="2026-09-05", buyer="b2")
    push_order(staff_client, "rp-4", seller=s, created="2026-10-06 10:00", buyer="b2")
    # b3: the earlier order completes after the later one is created → not repeat.
    push_completed_order(
        staff_client, "rp-5", seller=s, day="2026-09-10", buyer="b3", completed="2026-09-20 12:00"
    )
    push_order(staff_client, "rp-6", seller=s, created="2026-09-15 10:00", buyer="b3")
    # b4: a single cancelled window order → in the denominator, not repeat.
    push_order(
        staff_client,
        "rp-7",
        seller=s,
        created="2026-10-07 10:00",
        cancelled="2026-10-08 10:00",
        cancelled_by="buyer",
        buyer="b4",
    )
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert m["repeat_buyer_rate"] == 50  # b1, b2 of b1..b4


def test_tenure_days_are_whole_days_and_zero_for_a_seller_joining_later(staff_client):
    early = push_seller(staff_client, "early", joined="2026-10-30 00:00:01")
    late = push_seller(staff_client, "late", joined="2026-12-01 00:00")
    evaluate(staff_client, "2026-10")

    # 2026-10-30 00:00:01 → 2026-11-01 00:00: 1 day 23:59:59 → 1.
    assert grade_of(staff_client, early)["metrics"]["tenure_days"] == 1
    late_grade = grade_of(staff_client, late)
    assert (late_grade["metrics"]["tenure_days"], late_grade["level"]) == (0, "Level 1")


# --- §4 revenue rank --------------------------------------------------------------------------


def test_revenue_top_percent_uses_the_ceil_of_the_share_of_ranked_sellers(staff_client):
    for name, amount in (("top-a", "300"), ("top-b", "200"), ("top-c", "100")):
        push_seller(staff_client, name)
        push_completed_order(
            staff_client, f"{name}-o", seller=name, day="2026-10-05", amount=amount
        )
    push_seller(staff_client, "top-d")  # nothing completed: no rank
    push_policy(
        staff_client,
        tiers_policy(
            levels=[
                {"name": "Bronze", "rank": 1, "criteria": []},
                {
                    "name": "Top",
                    "rank": 2,
                    "criteria": [{"metric": "revenue_top_percent", "op": "<=", "value": 50}],
                },
            ]
        ),
    )
    evaluate(staff_client, "2026-10")

    grades = {name: grade_of(staff_client, name) for name in ("top-a", "top-b", "top-c", "top-d")}

    # 3 ranked sellers; top 50 % → rank ≤ ceil(0.5 × 3) = 2, although 100 × 2 / 3 = 66.67 > 50.
    assert {name: g["level"] for name, g in grades.items()} == {
        "top-a": "Top",
        "top-b": "Top",
        "top-c": "Bronze",
        "top-d": "Bronze",
    }
    assert [grades[n]["metrics"]["revenue_top_percent"] for n in grades] == [
        33.33,
        66.67,
        100,
        None,
    ]
    assert [grades[n]["metrics"]["revenue_rank"] for n in grades] == [1, 2, 3, None]


def test_revenue_rank_ties_share_the_best_rank(staff_client):
    for name, amount in (("tie-a", "500"), ("tie-b", "500"), ("tie-c", "100")):
        push_seller(staff_client, name)
        push_completed_order(
            staff_client, f"{name}-o", seller=name, day="2026-10-05", amount=amount
        )
    evaluate(staff_client, "2026-10")

    ranks = [
        grade_of(staff_client, n)["metrics"]["revenue_rank"] for n in ("tie-a", "tie-b", "tie-c")
    ]

    assert ranks == [1, 1, 3]
