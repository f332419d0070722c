"""GET /api/v1/sellers/{id}/grade, grade/preview and evaluations (SPEC §5, §7): the shape, the
rounding, the levels and who may read them. (POST / GET /api/v1/evaluations:
test_runs_api.py; the metric rules seen through this API: test_metric_rules_api.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from metrics import runs
from metrics.engine.periods import Period
from metrics.engine.registry import METRIC_KEYS
from metrics.models import EvaluationRun, GradePolicy
from tests.api_helpers import (
    JAN_15_2027,
    client_of,
    evaluate,
    evaluations_of,
    grade_of,
    preview_of,
    push_completed_order,
    push_message,
    push_order,
    push_policy,
    push_review,
    push_seller,
    tiers_policy,
)
from tests.factories import OrderFactory, ReviewFactory, SellerFactory, aware
from tests.metrics.test_runs import given_completed_orders, given_policy

pytestmark = pytest.mark.django_db

SEP, OCT = Period(2026, 9), Period(2026, 10)

# The keys SPEC §4 and §7 name, written out here rather than taken from the code under test.
SPEC_METRIC_KEYS = {
    "completed_orders",
    "revenue",
    "review_count",
    "revenue_rank",
    "revenue_top_percent",
    "unique_buyers",
    "tenure_days",
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
}
GRADE_KEYS = {
    "seller",
    "level",
    "rank",
    "period",
    "effective_from",
    "at_risk",
    "metrics",
    "criteria",
    "next_level",
}
CRITERION_KEYS = {"level", "metric", "op", "value", "any_of", "window_days", "actual", "passed"}
MISSING_KEYS = {"metric", "op", "value", "actual"}


def test_grade_requires_authentication(api_client, seller):
    response = api_client.get(f"/api/v1/sellers/{seller.external_id}/grade")

    assert response.status_code == 401


def test_a_seller_cannot_read_another_sellers_grade(seller_client):
    other = SellerFactory()

    for path in ("grade", "grade/preview", "evaluations", "evidence?period=2026-10&metric=x"):
        response = seller_client.get(f"/api/v1/sellers/{other.external_id}/{path}")
        assert response.status_code == 404, path


def test_unknown_seller_is_404_for_staff(staff_client):
    assert staff_client.get("/api/v1/sellers/nobody/grade").status_code == 404


def test_grade_before_any_evaluation_has_no_level(seller_client, seller):
    response = seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade")

    assert response.status_code == 200
    assert response.json() == {
        "seller": seller.external_id,
        "level": None,
        "rank": None,
        "period": None,
        "effective_from": None,
        "at_risk": False,
        "metrics": dict.fromkeys(METRIC_KEYS),
        "criteria": [],
        "next_level": None,
    }


def test_grade_shows_the_latest_evaluated_period(seller_client, seller):
    given_policy()
    given_completed_orders(seller, count=3, at="2026-09-10 10:00")
    runs.evaluate_period(period=SEP)
    given_completed_orders(seller, count=1, at="2026-10-10 10:00")
    runs.evaluate_period(period=OCT)

    body = seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade/").json()

    assert body["period"] == "2026-10"
    assert body["effective_from"] == "2026-11-01T00:00:00+09:00"
    assert (body["level"], body["rank"], body["at_risk"]) == ("Silver", 2, False)
    assert set(body["metrics"]) == set(METRIC_KEYS)
    assert body["metrics"]["completed_orders"] == 4
    assert body["metrics"]["window_completed_orders"] == 1
    assert body["metrics"]["revenue"] == 40000.0
    assert body["metrics"]["response_rate"] is None
    assert body["criteria"] == [
        {
            "level": "Silver",
            "metric": "window_completed_orders",
            "op": ">=",
            "value": 1,
            "any_of": "",
            "window_days": None,
            "actual": 1,
            "passed": True,
        },
        {
            "level": "Gold",
            "metric": "window_completed_orders",
            "op": ">=",
            "value": 3,
            "any_of": "",
            "window_days": None,
            "actual": 1,
            "passed": False,
        },
    ]
    assert body["next_level"] == {
        "level": "Gold",
        "missing": [{"metric": "window_completed_orders", "op": ">=", "value": 3, "actual": 1}],
    }


def test_grade_rates_and_thresholds_are_rounded_json_numbers(staff_client, seller):
    """Under the seeded Kmong policy: 2 of 3 delivered on time = 66.67 %; 4.7 stays 4.7."""
    assert GradePolicy.objects.get(is_active=True).levels.count() == 4
    due = aware("2026-10-10 00:00")
    for delivered in ("2026-10-09 10:00", "2026-10-10 00:00", "2026-10-10 00:01"):
        order = OrderFactory(
            seller=seller,
            created_at=aware("2026-10-01 10:00"),
            due_at=due,
            delivered_at=aware(delivered),
            completed_at=aware(delivered) + timedelta(hours=1),
        )
    ReviewFactory(order=order, rating=4, created_at=aware("2026-10-12 10:00"))
    runs.evaluate_period(period=OCT)

    body = staff_client.get(f"/api/v1/sellers/{seller.external_id}/grade").json()

    assert body["metrics"]["on_time_rate"] == 66.67
    assert body["metrics"]["average_rating"] == 4.0
    rating = next(c for c in body["criteria"] if c["metric"] == "average_rating")
    assert (rating["value"], rating["actual"], rating["passed"]) == (4.7, 4.0, False)
    assert body["level"] == "Level 1"


def test_preview_projects_the_month_so_far(seller_client, seller):
    given_policy()
    given_completed_orders(seller, count=1, at="2026-10-05 10:00")
    given_completed_orders(seller, count=2, at="2026-10-25 10:00")  # after "now"

    with time_machine.travel(aware("2026-10-20 12:00"), tick=False):
        body = seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade/preview").json()

    assert body["period"] == "2026-10"
    assert body["effective_from"] == "2026-11-01T00:00:00+09:00"
    assert (body["level"], body["rank"]) == ("Silver", 2)
    assert body["metrics"]["window_completed_orders"] == 1
    assert body["next_level"]["level"] == "Gold"
    assert EvaluationRun.objects.count() == 0  # nothing stored


def test_preview_applies_grace_from_the_latest_evaluation(seller_client, seller):
    given_policy(grace=1)
    given_completed_orders(seller, count=1, at="2026-09-05 10:00")
    runs.evaluate_period(period=SEP)  # Silver

    with time_machine.travel(aware("2026-10-20 12:00"), tick=False):
        body = seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade/preview").json()

    assert (body["level"], body["at_risk"]) == ("Silver", True)


def test_evaluations_are_newest_first_with_the_previous_level(seller_client, seller):
    given_policy()
    given_completed_orders(seller, count=1, at="2026-09-10 10:00")
    for period in (Period(2026, 8), SEP, OCT):
        runs.evaluate_period(period=period)

    body = seller_client.get(f"/api/v1/sellers/{seller.external_id}/evaluations").json()

    assert [(e["period"], e["level"], e["previous_level"]) for e in body] == [
        ("2026-10", "Bronze", "Silver"),
        ("2026-09", "Silver", "Bronze"),
        ("2026-08", "Bronze", None),
    ]
    assert set(body[0]["metrics"]) == set(METRIC_KEYS)
    assert body[0]["criteria"][0]["metric"] == "window_completed_orders"


@pytest.mark.parametrize("months", [1, 6])
def test_grade_and_evaluations_take_constant_queries(
    months, seller_client, seller, django_assert_max_num_queries
):
    given_policy()
    for offset in range(months, 0, -1):
        runs.evaluate_period(period=Period(2026, 11).shifted(-offset))

    # token + user, seller, evaluation(s)
    with django_assert_max_num_queries(3):
        assert seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade").status_code == 200
    with django_assert_max_num_queries(3):
        response = seller_client.get(f"/api/v1/sellers/{seller.external_id}/evaluations")
    assert len(response.json()) == months


def test_preview_without_an_active_policy_is_503_not_500(seller_client, seller):
    GradePolicy.objects.update(is_active=False)

    response = seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade/preview")

    assert response.status_code == 503
    assert "No active grade policy" in response.json()["detail"]


# --- outside in: on 2027-01-15, data pushed through the ingestion API ---------------------------
# Expected values are computed by hand in each test (comments show the sums).


@pytest.fixture
def one_busy_october(clock_at_2027_01_15, staff_client) -> str:
    """One seller joined 2026-01-01 with, in 2026-10: one order (10,000, on time, completed),
    a 5-star review, one inquiry answered after 60 minutes; October evaluated."""
    s = push_seller(staff_client, "shop-a")
    push_completed_order(staff_client, "a-1", seller=s, day="2026-10-05")
    push_review(staff_client, "a-r1", order="a-1", rating=5, at="2026-10-06 09:00")
    push_message(staff_client, "a-m1", s, "a-c1", "buyer", at="2026-10-10 09:00")
    push_message(staff_client, "a-m2", s, "a-c1", "seller", at="2026-10-10 10:00")
    evaluate(staff_client, "2026-10")
    return s


def test_grade_has_exactly_the_spec_keys_and_every_metric(staff_client, one_busy_october):
    body = grade_of(client_of(one_busy_october), one_busy_october)

    assert set(body) == GRADE_KEYS
    assert set(body["metrics"]) >= SPEC_METRIC_KEYS
    assert (body["seller"], body["level"], body["rank"], body["period"]) == (
        "shop-a",
        "Level 1",
        1,
        "2026-10",
    )
    assert body["effective_from"] == "2026-11-01T00:00:00+09:00"
    assert body["at_risk"] is False


def test_grade_metrics_of_a_simple_month_match_a_hand_count(staff_client, one_busy_october):
    metrics = grade_of(staff_client, one_busy_october)["metrics"]

    expected = {
        "completed_orders": 1,
        "revenue": 10000,
        "review_count": 1,
        "revenue_rank": 1,
        "revenue_top_percent": 100,  # 100 × 1 / 1
        "unique_buyers": 1,
        "tenure_days": 304,  # 2026-01-01 → 2026-11-01: 31+28+31+30+31+30+31+31+30+31
        "inquiries": 1,
        "answered_in_time": 1,
        "response_rate": 100,
        "window_completed_orders": 1,
        "window_revenue": 10000,
        "finished_orders": 1,
        "success_rate": 100,
        "cancellation_rate": 0,
        "seller_cancellation_rate": 0,
        "delivered_orders": 1,
        "on_time_rate": 100,
        "window_review_count": 1,
        "average_rating": 5,
        "negative_review_rate": 0,
        "median_first_response_minutes": 60,
        "repeat_buyer_rate": 0,  # the buyer's only order had nothing completed before it
    }
    assert {key: metrics[key] for key in expected} == expected
    for key in expected:
        assert isinstance(metrics[key], int | float) and not isinstance(metrics[key], bool), key


def test_grade_criteria_list_every_criterion_of_every_level(staff_client, one_busy_october):
    criteria = grade_of(staff_client, one_busy_october)["criteria"]

    assert all(set(item) == CRITERION_KEYS for item in criteria)
    # Default policy: Level 1 none, Level 2 four, Level 3 four, Master three.
    assert [item["level"] for item in criteria] == ["Level 2"] * 4 + ["Level 3"] * 4 + [
        "Master"
    ] * 3
    assert criteria[0] == {
        "level": "Level 2",
        "metric": "completed_orders",
        "op": ">=",
        "value": 15,
        "any_of": "volume",
        "window_days": None,
        "actual": 1,
        "passed": False,
    }
    rating = next(
        c for c in criteria if c["level"] == "Level 2" and c["metric"] == "average_rating"
    )
    assert (rating["value"], rating["actual"], rating["passed"]) == (4.7, 5, True)
    top = next(c for c in criteria if c["metric"] == "revenue_top_percent")
    assert (top["op"], top["value"], top["actual"], top["passed"]) == ("<=", 1, 100, True)


def test_next_level_lists_the_failing_any_of_group_members_only(staff_client, one_busy_october):
    next_level = grade_of(staff_client, one_busy_october)["next_level"]

    # Level 2: volume group fails (1 < 15 and 10,000 < 5,000,000); rating 5 and response
    # 100 % pass, so they are not missing.
    assert next_level == {
        "level": "Level 2",
        "missing": [
            {"metric": "completed_orders", "op": ">=", "value": 15, "actual": 1},
            {"metric": "revenue", "op": ">=", "value": 5000000, "actual": 10000},
        ],
    }
    assert all(set(item) == MISSING_KEYS for item in next_level["missing"])


def test_evaluations_items_have_the_spec_keys(staff_client, one_busy_october):
    items = evaluations_of(client_of(one_busy_october), one_busy_october)

    assert len(items) == 1
    assert set(items[0]) >= {"period", "level", "previous_level", "metrics", "criteria"}
    assert (items[0]["period"], items[0]["level"], items[0]["previous_level"]) == (
        "2026-10",
        "Level 1",
        None,
    )
    assert set(items[0]["metrics"]) >= SPEC_METRIC_KEYS
    assert all(set(item) == CRITERION_KEYS for item in items[0]["criteria"])


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_grade_before_any_evaluation_has_null_level_and_every_metric_key(staff_client):
    s = push_seller(staff_client, "fresh")

    body = grade_of(client_of(s), s)

    assert set(body) == GRADE_KEYS
    assert (body["level"], body["period"], body["effective_from"]) == (None, None, None)
    assert set(body["metrics"]) >= SPEC_METRIC_KEYS
    assert all(value is None for value in body["metrics"].values())


# --- rounding and nulls -----------------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_rates_are_rounded_half_up_to_two_decimals(staff_client):
    s = push_seller(staff_client, "rounding")
    # Three delivered orders, one late: on time 2/3 = 66.666… → 66.67.
    push_completed_order(staff_client, "rd-1", seller=s, day="2026-10-05")
    push_completed_order(staff_client, "rd-2", seller=s, day="2026-10-06")
    push_completed_order(staff_client, "rd-3", seller=s, day="2026-10-07", due="2026-10-07 10:30")
    # Three reviews rated 5, 4, 2: negative 1/3 = 33.333… → 33.33; average 11/3 → 3.67.
    push_review(staff_client, "rd-r1", order="rd-1", rating=5, at="2026-10-08 09:00")
    push_review(staff_client, "rd-r2", order="rd-2", rating=4, at="2026-10-08 09:00")
    push_review(staff_client, "rd-r3", order="rd-3", rating=2, at="2026-10-08 09:00")
    evaluate(staff_client, "2026-10")

    metrics = grade_of(staff_client, s)["metrics"]

    assert metrics["on_time_rate"] == 66.67
    assert metrics["negative_review_rate"] == 33.33
    assert metrics["average_rating"] == 3.67


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_a_value_of_exactly_89_995_rounds_up_to_90(staff_client):
    s = push_seller(staff_client, "half-up")
    # Two inquiries answered after 5399.4 s (89.99 min) and 5400 s (90 min): the median is
    # their mean, 5399.7 s = 89.995 min exactly → 90.0 half-up (a float round gives 89.99).
    push_message(staff_client, "h-1", s, "h-c1", "buyer", at="2026-10-10 09:00:00")
    push_message(staff_client, "h-2", s, "h-c1", "seller", at="2026-10-10 10:29:59.400000")
    push_message(staff_client, "h-3", s, "h-c2", "buyer", at="2026-10-11 09:00:00")
    push_message(staff_client, "h-4", s, "h-c2", "seller", at="2026-10-11 10:30:00")
    evaluate(staff_client, "2026-10")

    metrics = grade_of(staff_client, s)["metrics"]

    assert metrics["median_first_response_minutes"] == 90.0
    assert (metrics["inquiries"], metrics["answered_in_time"], metrics["response_rate"]) == (
        2,
        2,
        100,
    )


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_an_average_of_4_625_shows_4_63_half_up_not_bankers_4_62(staff_client):
    s = push_seller(staff_client, "bankers")
    # 8 reviews: 5 × 5 + 3 × 4 = 37 → 37 / 8 = 4.625 (exact in binary: round() gives 4.62).
    for i in range(8):
        push_completed_order(
            staff_client, f"bk-{i}", seller=s, day="2026-10-05", amount="0.10" if i else "0.20"
        )
        push_review(
            staff_client,
            f"bk-r{i}",
            order=f"bk-{i}",
            rating=5 if i < 5 else 4,
            at="2026-10-06 09:00",
        )
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert m["average_rating"] == 4.63
    assert (m["revenue"], m["window_revenue"]) == (0.9, 0.9)  # 0.20 + 7 × 0.10


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_a_seller_with_no_activity_has_null_rates_and_no_rank(staff_client):
    s = push_seller(staff_client, "idle")
    evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    assert body["level"] == "Level 1"
    for key in (
        "response_rate",
        "success_rate",
        "cancellation_rate",
        "seller_cancellation_rate",
        "on_time_rate",
        "average_rating",
        "negative_review_rate",
        "median_first_response_minutes",
        "repeat_buyer_rate",
        "revenue_rank",
        "revenue_top_percent",
    ):
        assert body["metrics"][key] is None, key
    assert body["metrics"]["completed_orders"] == 0
    assert body["metrics"]["revenue"] == 0
    # A criterion on a null metric fails: Level 2's response_rate criterion.
    response = next(
        c for c in body["criteria"] if c["level"] == "Level 2" and c["metric"] == "response_rate"
    )
    assert (response["actual"], response["passed"]) == (None, False)


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_a_rating_average_of_exactly_the_threshold_passes(staff_client):
    s = push_seller(staff_client, "exact")
    # Ten reviews: 7 × 5 + 3 × 4 = 47 → 4.7 exactly; the criterion is average_rating >= 4.7.
    for i in range(10):
        push_completed_order(staff_client, f"ex-{i}", seller=s, day="2026-10-05")
        push_review(
            staff_client,
            f"ex-r{i}",
            order=f"ex-{i}",
            rating=5 if i < 7 else 4,
            at="2026-10-06 09:00",
        )
    evaluate(staff_client, "2026-10")

    criteria = grade_of(staff_client, s)["criteria"]

    rating = next(
        c for c in criteria if c["level"] == "Level 2" and c["metric"] == "average_rating"
    )
    assert (rating["actual"], rating["passed"]) == (4.7, True)


# --- §5 ladder and grace ----------------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_a_seller_failing_the_lowest_level_has_no_level(staff_client):
    s = push_seller(staff_client, "nolevel")
    push_policy(
        staff_client,
        tiers_policy(
            levels=[
                {
                    "name": "Silver",
                    "rank": 1,
                    "criteria": [{"metric": "window_completed_orders", "op": ">=", "value": 1}],
                }
            ]
        ),
    )
    run = evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    assert (body["level"], body["rank"], body["at_risk"]) == (None, None, False)
    assert body["period"] == "2026-10"
    assert body["next_level"] == {
        "level": "Silver",
        "missing": [{"metric": "window_completed_orders", "op": ">=", "value": 1, "actual": 0}],
    }
    assert run["level_counts"]["Silver"] == 0
    assert sum(run["level_counts"].values()) == 1


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_a_higher_level_needs_every_lower_level_to_pass(staff_client):
    s = push_seller(staff_client, "ladder")
    levels = [
        {"name": "Bronze", "rank": 1, "criteria": []},
        {
            "name": "Silver",
            "rank": 2,
            "criteria": [{"metric": "inquiries", "op": ">=", "value": 1}],
        },
        {
            "name": "Gold",
            "rank": 3,
            "criteria": [{"metric": "completed_orders", "op": ">=", "value": 1}],
        },
    ]
    push_policy(staff_client, tiers_policy(levels=levels))
    push_completed_order(staff_client, "ld-1", seller=s, day="2026-10-05")
    evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    # Gold's criteria pass but Silver's do not: Bronze.
    assert body["level"] == "Bronze"
    assert body["next_level"]["level"] == "Silver"


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_grace_keeps_the_level_one_month_then_demotes_straight_down(staff_client):
    s = push_seller(staff_client, "graceful")
    push_policy(staff_client, tiers_policy(demotion_grace_months=1))
    push_completed_order(staff_client, "g-1", seller=s, day="2026-09-10")
    push_completed_order(staff_client, "g-2", seller=s, day="2026-09-11")
    push_completed_order(staff_client, "g-3", seller=s, day="2026-12-10")

    evaluate(staff_client, "2026-09")  # 2 orders: Gold
    evaluate(staff_client, "2026-10")  # 0: computed Bronze, Gold kept at risk
    october = grade_of(staff_client, s)
    evaluate(staff_client, "2026-11")  # 0 again: demoted straight to Bronze (not Silver)
    november = grade_of(staff_client, s)
    evaluate(staff_client, "2026-12")  # 1: promoted at once to Silver

    assert (october["period"], october["level"], october["at_risk"]) == ("2026-10", "Gold", True)
    assert october["rank"] == 3
    assert (november["level"], november["at_risk"]) == ("Bronze", False)
    history = [
        (e["period"], e["level"], e["previous_level"]) for e in evaluations_of(client_of(s), s)
    ]
    assert history == [
        ("2026-12", "Silver", "Bronze"),
        ("2026-11", "Bronze", "Gold"),
        ("2026-10", "Gold", "Gold"),
        ("2026-09", "Gold", None),
    ]


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_grace_resets_when_the_level_is_met_again(staff_client):
    s = push_seller(staff_client, "reset")
    push_policy(staff_client, tiers_policy(demotion_grace_months=1))
    push_completed_order(staff_client, "rs-1", seller=s, day="2026-09-10")
    push_completed_order(staff_client, "rs-2", seller=s, day="2026-11-10")
    for period in ("2026-09", "2026-10", "2026-11", "2026-12"):
        evaluate(staff_client, period)

    history = [(e["period"], e["level"], e["at_risk"]) for e in evaluations_of(staff_client, s)]

    # Silver; fail → kept at risk; met again (count reset); fail → kept at risk again.
    assert history == [
        ("2026-12", "Silver", True),
        ("2026-11", "Silver", False),
        ("2026-10", "Silver", True),
        ("2026-09", "Silver", False),
    ]


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_no_grace_for_a_level_absent_from_the_new_policy(staff_client):
    s = push_seller(staff_client, "renamed")
    push_policy(staff_client, tiers_policy(demotion_grace_months=2))
    push_completed_order(staff_client, "rn-1", seller=s, day="2026-09-10")
    evaluate(staff_client, "2026-09")  # Silver
    renamed = tiers_policy(demotion_grace_months=2)
    renamed["levels"][1]["name"] = "Argent"
    push_policy(staff_client, renamed)

    evaluate(staff_client, "2026-10")  # computed Bronze; "Silver" no longer exists

    body = grade_of(staff_client, s)
    assert (body["level"], body["at_risk"]) == ("Bronze", False)


# --- the month so far -------------------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_preview_has_the_grade_shape_for_the_month_so_far(staff_client):
    s = push_seller(staff_client, "preview")
    # On 2027-01-15 the current month is 2027-01 and the default window is 2026-11-01 → now.
    push_completed_order(staff_client, "pv-1", seller=s, day="2027-01-10")
    push_order(staff_client, "pv-2", seller=s, created="2027-01-16 10:00")  # the future

    body = preview_of(client_of(s), s)

    assert set(body) == GRADE_KEYS | {"as_of"}
    assert body["as_of"] == JAN_15_2027
    assert (body["period"], body["effective_from"]) == ("2027-01", "2027-02-01T00:00:00+09:00")
    assert (body["level"], body["rank"], body["at_risk"]) == ("Level 1", 1, False)
    assert set(body["metrics"]) >= SPEC_METRIC_KEYS
    assert body["metrics"]["completed_orders"] == 1
    assert body["metrics"]["window_completed_orders"] == 1
    assert all(set(item) == CRITERION_KEYS for item in body["criteria"])
    assert body["next_level"]["level"] == "Level 2"
    # Nothing stored: the seller still has no evaluation.
    assert grade_of(staff_client, s)["level"] is None


# --- other sellers' data, odd ids -------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "path",
    [
        "grade",
        "grade/preview",
        "evaluations",
        "evidence?period=2026-10&metric=on_time_rate",
        "evidence?period=2026-10&metric=on_time_rate&format=csv",
    ],
)
def test_seller_a_reading_seller_b_gets_404(staff_client, path):
    a = push_seller(staff_client, "seller-a")
    b = push_seller(staff_client, "seller-b")
    evaluate(staff_client, "2026-10")

    assert client_of(a).get(f"/api/v1/sellers/{b}/{path}").status_code == 404
    assert client_of(a).get(f"/api/v1/sellers/{a}/{path}").status_code == 200


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "path",
    [
        "grade",
        "grade/preview",
        "evaluations",
        "evidence?period=2026-10&metric=on_time_rate",
        "evidence?period=2026-10&metric=on_time_rate&format=csv",
    ],
)
@pytest.mark.parametrize("external_id", ["a%00b", "%F0%9F%98%80", "x" * 3000, "a%0Ab"])
def test_an_odd_seller_id_is_404_never_500(staff_client, path, external_id):
    assert staff_client.get(f"/api/v1/sellers/{external_id}/{path}").status_code == 404
