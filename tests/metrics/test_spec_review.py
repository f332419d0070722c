"""Outside-in probes of the grade / evaluation / policy API against SPEC §3–§7.

Every scenario is built through the HTTP API only (PUT sellers/orders/messages/reviews,
PUT /api/v1/policy, POST /api/v1/evaluations) and read back through it, the way an external
integrator would. Expected values are computed by hand in each test (comments show the sums).
The seller's token is what ``manage.py drf_create_token <username>`` hands out.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import time_machine
from django.test import TestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders.models import Seller

pytestmark = pytest.mark.django_db

# Every test runs on 2027-01-15 (KST), so 2026-09 … 2026-12 have ended and 2027-01 has not.
TODAY = "2027-01-15T12:00:00+09:00"

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
CRITERION_KEYS = {"level", "metric", "op", "value", "any_of", "actual", "passed"}
MISSING_KEYS = {"metric", "op", "value", "actual"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


# --- given: data through the ingestion API -------------------------------------------------


def ts(text: str) -> str:
    """'2026-10-05 10:00[:ss[.ffffff]]' in KST as an ISO 8601 string with its offset."""
    return text.replace(" ", "T") + ("" if text.count(":") == 2 else ":00") + "+09:00"


def put(client: APIClient, path: str, body: dict[str, Any]) -> None:
    response = client.put(f"/api/v1/{path}", body, format="json")
    assert response.status_code in (200, 201), (path, response.status_code, response.content)


def given_seller(staff: APIClient, external_id: str, joined: str = "2026-01-01 00:00") -> str:
    put(staff, f"sellers/{external_id}", {"username": external_id, "joined_at": ts(joined)})
    return external_id


def client_of(external_id: str) -> APIClient:
    user = Seller.objects.get(external_id=external_id).user
    token, _ = Token.objects.get_or_create(user=user)  # = manage.py drf_create_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def given_order(
    staff: APIClient,
    external_id: str,
    *,
    seller: str,
    created: str,
    buyer: str = "buyer-1",
    amount: str = "10000",
    due: str | None = None,
    delivered: str | None = None,
    completed: str | None = None,
    cancelled: str | None = None,
    cancelled_by: str | None = None,
    excluded: bool = False,
) -> str:
    body: dict[str, Any] = {
        "seller": seller,
        "buyer": buyer,
        "amount": amount,
        "created_at": ts(created),
        "due_at": ts(due) if due else None,
        "delivered_at": ts(delivered) if delivered else None,
        "completed_at": ts(completed) if completed else None,
        "cancelled_at": ts(cancelled) if cancelled else None,
        "cancelled_by": cancelled_by,
        "excluded_from_metrics": excluded,
    }
    put(staff, f"orders/{external_id}", body)
    return external_id


def given_completed_order(
    staff: APIClient, external_id: str, *, seller: str, day: str, **kwargs: Any
) -> str:
    """Created at 10:00 on ``day``, due in 3 days, delivered 1 h and completed 2 h later."""
    return given_order(
        staff,
        external_id,
        seller=seller,
        created=f"{day} 10:00",
        due=kwargs.pop("due", f"{day} 23:00"),
        delivered=kwargs.pop("delivered", f"{day} 11:00"),
        completed=kwargs.pop("completed", f"{day} 12:00"),
        **kwargs,
    )


def given_message(
    staff: APIClient, external_id: str, seller: str, conversation: str, sender: str, *, at: str
) -> None:
    put(
        staff,
        f"messages/{external_id}",
        {
            "conversation": conversation,
            "seller": seller,
            "buyer": "buyer-1",
            "sender": sender,
            "sent_at": ts(at),
        },
    )


def given_review(staff: APIClient, external_id: str, *, order: str, rating: int, at: str) -> None:
    put(
        staff,
        f"reviews/{external_id}",
        {"order": order, "rating": rating, "created_at": ts(at)},
    )


def given_policy(staff: APIClient, body: dict[str, Any]) -> dict[str, Any]:
    response = staff.put("/api/v1/policy", body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def tiers_policy(**fields: Any) -> dict[str, Any]:
    """Bronze (no criteria) < Silver (1 order completed in the window) < Gold (2)."""
    return {
        "name": "Tiers",
        "window_months": 1,
        "window_days": None,
        "response_window_hours": 24,
        "demotion_grace_months": 0,
        "levels": [
            {"name": "Bronze", "rank": 1, "criteria": []},
            {
                "name": "Silver",
                "rank": 2,
                "criteria": [{"metric": "window_completed_orders", "op": ">=", "value": 1}],
            },
            {
                "name": "Gold",
                "rank": 3,
                "criteria": [{"metric": "window_completed_orders", "op": ">=", "value": 2}],
            },
        ],
        **fields,
    }


# --- when: evaluations and reads ------------------------------------------------------------


def post_run(staff: APIClient, period: Any) -> Any:
    """POST /api/v1/evaluations. The test's own transaction holds back on_commit: run the
    (eager) task at the end of the request as a server outside a test transaction does."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return staff.post("/api/v1/evaluations", {"period": period}, format="json")


def evaluate(staff: APIClient, period: str) -> dict[str, Any]:
    response = post_run(staff, period)
    assert response.status_code == 202, response.content
    assert set(response.json()) >= {"id", "status"}
    run = staff.get(f"/api/v1/evaluations/{response.json()['id']}").json()
    assert run["status"] == "succeeded", run
    return run


def grade_of(client: APIClient, seller: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/sellers/{seller}/grade")
    assert response.status_code == 200, response.content
    return response.json()


def evaluations_of(client: APIClient, seller: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/sellers/{seller}/evaluations")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def evidence_of(client: APIClient, seller: str, period: str, metric: str) -> list[dict[str, Any]]:
    """Every evidence item, following the pages (SPEC §7: the JSON is paginated)."""
    url: str | None = f"/api/v1/sellers/{seller}/evidence?period={period}&metric={metric}"
    items: list[dict[str, Any]] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        url = body["next"]
    return items


# --- §7 shapes ------------------------------------------------------------------------------


@pytest.fixture
def one_busy_october(staff_client) -> str:
    """One seller joined 2026-01-01 with, in 2026-10: one order (10,000, on time, completed),
    a 5-star review, one inquiry answered after 60 minutes."""
    s = given_seller(staff_client, "shop-a")
    given_completed_order(staff_client, "a-1", seller=s, day="2026-10-05")
    given_review(staff_client, "a-r1", order="a-1", rating=5, at="2026-10-06 09:00")
    given_message(staff_client, "a-m1", s, "a-c1", "buyer", at="2026-10-10 09:00")
    given_message(staff_client, "a-m2", s, "a-c1", "seller", at="2026-10-10 10:00")
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


def test_evaluation_run_shows_sellers_and_level_counts(staff_client):
    for name in ("r-1", "r-2", "r-3"):
        given_seller(staff_client, name)

    run = evaluate(staff_client, "2026-10")

    assert set(run) >= {"id", "period", "status", "sellers", "level_counts"}
    assert (run["period"], run["status"], run["sellers"]) == ("2026-10", "succeeded", 3)
    # No activity: Level 1 (no criteria) for all three, nobody higher.
    assert run["level_counts"]["Level 1"] == 3
    assert sum(run["level_counts"].values()) == 3


def test_grade_before_any_evaluation_has_null_level_and_every_metric_key(staff_client):
    s = given_seller(staff_client, "fresh")

    body = grade_of(client_of(s), s)

    assert set(body) == GRADE_KEYS
    assert (body["level"], body["period"], body["effective_from"]) == (None, None, None)
    assert set(body["metrics"]) >= SPEC_METRIC_KEYS
    assert all(value is None for value in body["metrics"].values())


# --- rounding and nulls -----------------------------------------------------------------------


def test_rates_are_rounded_half_up_to_two_decimals(staff_client):
    s = given_seller(staff_client, "rounding")
    # Three delivered orders, one late: on time 2/3 = 66.666… → 66.67.
    given_completed_order(staff_client, "rd-1", seller=s, day="2026-10-05")
    given_completed_order(staff_client, "rd-2", seller=s, day="2026-10-06")
    given_completed_order(staff_client, "rd-3", seller=s, day="2026-10-07", due="2026-10-07 10:30")
    # Three reviews rated 5, 4, 2: negative 1/3 = 33.333… → 33.33; average 11/3 → 3.67.
    given_review(staff_client, "rd-r1", order="rd-1", rating=5, at="2026-10-08 09:00")
    given_review(staff_client, "rd-r2", order="rd-2", rating=4, at="2026-10-08 09:00")
    given_review(staff_client, "rd-r3", order="rd-3", rating=2, at="2026-10-08 09:00")
    evaluate(staff_client, "2026-10")

    metrics = grade_of(staff_client, s)["metrics"]

    assert metrics["on_time_rate"] == 66.67
    assert metrics["negative_review_rate"] == 33.33
    assert metrics["average_rating"] == 3.67


def test_a_value_of_exactly_89_995_rounds_up_to_90(staff_client):
    s = given_seller(staff_client, "half-up")
    # Two inquiries answered after 5399.4 s (89.99 min) and 5400 s (90 min): the median is
    # their mean, 5399.7 s = 89.995 min exactly → 90.0 half-up (a float round gives 89.99).
    given_message(staff_client, "h-1", s, "h-c1", "buyer", at="2026-10-10 09:00:00")
    given_message(staff_client, "h-2", s, "h-c1", "seller", at="2026-10-10 10:29:59.400000")
    given_message(staff_client, "h-3", s, "h-c2", "buyer", at="2026-10-11 09:00:00")
    given_message(staff_client, "h-4", s, "h-c2", "seller", at="2026-10-11 10:30:00")
    evaluate(staff_client, "2026-10")

    metrics = grade_of(staff_client, s)["metrics"]

    assert metrics["median_first_response_minutes"] == 90.0
    assert (metrics["inquiries"], metrics["answered_in_time"], metrics["response_rate"]) == (
        2,
        2,
        100,
    )


def test_a_seller_with_no_activity_has_null_rates_and_no_rank(staff_client):
    s = given_seller(staff_client, "idle")
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


def test_a_rating_average_of_exactly_the_threshold_passes(staff_client):
    s = given_seller(staff_client, "exact")
    # Ten reviews: 7 × 5 + 3 × 4 = 47 → 4.7 exactly; the criterion is average_rating >= 4.7.
    for i in range(10):
        given_completed_order(staff_client, f"ex-{i}", seller=s, day="2026-10-05")
        given_review(
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


# --- custom policy through the API ------------------------------------------------------------


def test_a_custom_policy_uses_window_days_and_its_response_window(staff_client):
    s = given_seller(staff_client, "custom")
    given_policy(
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
    given_message(staff_client, "cu-1", s, "cu-c1", "buyer", at="2026-10-01 09:00")
    given_message(staff_client, "cu-2", s, "cu-c1", "seller", at="2026-10-01 09:30")
    # Answered after 3 h: late under a 2-hour response window.
    given_message(staff_client, "cu-3", s, "cu-c2", "buyer", at="2026-10-10 09:00")
    given_message(staff_client, "cu-4", s, "cu-c2", "seller", at="2026-10-10 12:00")
    # Answered after 119 minutes: in time.
    given_message(staff_client, "cu-5", s, "cu-c3", "buyer", at="2026-10-20 09:00")
    given_message(staff_client, "cu-6", s, "cu-c3", "seller", at="2026-10-20 10:59")
    # Deadline 11-01 01:00: at/after the cutoff, so not an inquiry of 2026-10.
    given_message(staff_client, "cu-7", s, "cu-c4", "buyer", at="2026-10-31 23:00")
    # One completed order so that seller_cancellation_rate = 0 / 1 (not null).
    given_completed_order(staff_client, "cu-o1", seller=s, day="2026-10-15")
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


def test_policy_get_lists_levels_by_rank_with_numbers(staff_client, seller_client):
    given_policy(staff_client, tiers_policy(levels=list(reversed(tiers_policy()["levels"]))))

    body = seller_client.get("/api/v1/policy").json()

    assert [level["name"] for level in body["levels"]] == ["Bronze", "Silver", "Gold"]
    assert [level["rank"] for level in body["levels"]] == [1, 2, 3]
    assert (body["window_months"], body["window_days"]) == (1, None)
    assert (body["response_window_hours"], body["demotion_grace_months"]) == (24, 0)
    assert body["levels"][2]["criteria"] == [
        {"metric": "window_completed_orders", "op": ">=", "value": 2, "any_of": ""}
    ]


def test_grace_keeps_the_level_one_month_then_demotes_straight_down(staff_client):
    s = given_seller(staff_client, "graceful")
    given_policy(staff_client, tiers_policy(demotion_grace_months=1))
    given_completed_order(staff_client, "g-1", seller=s, day="2026-09-10")
    given_completed_order(staff_client, "g-2", seller=s, day="2026-09-11")
    given_completed_order(staff_client, "g-3", seller=s, day="2026-12-10")

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


def test_revenue_top_percent_uses_the_ceil_of_the_share_of_ranked_sellers(staff_client):
    for name, amount in (("top-a", "300"), ("top-b", "200"), ("top-c", "100")):
        given_seller(staff_client, name)
        given_completed_order(
            staff_client, f"{name}-o", seller=name, day="2026-10-05", amount=amount
        )
    given_seller(staff_client, "top-d")  # nothing completed: no rank
    given_policy(
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
        given_seller(staff_client, name)
        given_completed_order(
            staff_client, f"{name}-o", seller=name, day="2026-10-05", amount=amount
        )
    evaluate(staff_client, "2026-10")

    ranks = [
        grade_of(staff_client, n)["metrics"]["revenue_rank"] for n in ("tie-a", "tie-b", "tie-c")
    ]

    assert ranks == [1, 1, 3]


def test_previous_level_follows_a_rerun_of_an_older_period(staff_client):
    s = given_seller(staff_client, "rerun")
    given_policy(staff_client, tiers_policy())
    given_completed_order(staff_client, "rr-1", seller=s, day="2026-09-10")
    evaluate(staff_client, "2026-09")  # Silver
    evaluate(staff_client, "2026-10")  # Bronze, previous Silver
    # The September order turns out to have been cancelled by the buyer, not completed.
    given_order(
        staff_client,
        "rr-1",
        seller=s,
        created="2026-09-10 10:00",
        cancelled="2026-09-10 12:00",
        cancelled_by="buyer",
    )

    evaluate(staff_client, "2026-09")  # now Bronze

    history = [
        (e["period"], e["level"], e["previous_level"]) for e in evaluations_of(staff_client, s)
    ]
    assert history == [("2026-10", "Bronze", "Bronze"), ("2026-09", "Bronze", None)]


def test_an_inquiry_is_a_buyer_message_opening_or_following_the_seller(staff_client):
    s = given_seller(staff_client, "threads")
    # buyer, buyer, seller, buyer: inquiries are messages 1 and 4 (2 follows a buyer message).
    given_message(staff_client, "t-1", s, "t-c", "buyer", at="2026-10-10 09:00")
    given_message(staff_client, "t-2", s, "t-c", "buyer", at="2026-10-10 09:10")
    given_message(staff_client, "t-3", s, "t-c", "seller", at="2026-10-10 09:30")
    given_message(staff_client, "t-4", s, "t-c", "buyer", at="2026-10-12 09:00")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    # Message 1 answered after 30 min; message 4 never answered.
    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (2, 1, 50)
    assert m["median_first_response_minutes"] == 30


# --- policy PUT validation --------------------------------------------------------------------


def _bad(policy: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {**policy, **change}


def _with_criterion(metric: str, op: str, value: Any) -> dict[str, Any]:
    body = tiers_policy()
    body["levels"][1]["criteria"] = [{"metric": metric, "op": op, "value": value}]
    return body


@pytest.mark.parametrize(
    "body",
    [
        _with_criterion("no_such_metric", ">=", 1),
        _with_criterion("response_rate", ">=", 120),
        _with_criterion("average_rating", ">=", 6),
        _with_criterion("completed_orders", ">=", -1),
        _with_criterion("response_rate", ">", 90),
        _with_criterion("response_rate", ">=", "ninety"),
        _bad(tiers_policy(), window_months=None, window_days=None),
        _bad(
            tiers_policy(),
            levels=[
                {"name": "Same", "rank": 1, "criteria": []},
                {"name": "Same", "rank": 2, "criteria": []},
            ],
        ),
        _bad(
            tiers_policy(),
            levels=[
                {"name": "One", "rank": 1, "criteria": []},
                {"name": "Two", "rank": 1, "criteria": []},
            ],
        ),
        _bad(tiers_policy(), levels=[]),
        _bad(tiers_policy(), levels="Gold"),
    ],
    ids=[
        "unknown-metric",
        "rate-over-100",
        "rating-over-5",
        "negative-count",
        "bad-op",
        "non-numeric-value",
        "no-window",
        "duplicate-names",
        "duplicate-ranks",
        "no-levels",
        "levels-not-a-list",
    ],
)
def test_an_invalid_policy_is_400_and_the_old_policy_stays_active(staff_client, body):
    before = staff_client.get("/api/v1/policy").json()

    response = staff_client.put("/api/v1/policy", body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert errors and all(
        isinstance(messages, list) and all(isinstance(m, str) and m for m in messages)
        for messages in errors.values()
    ), errors
    assert staff_client.get("/api/v1/policy").json() == before


def test_a_seller_cannot_put_a_policy(seller_client):
    assert seller_client.put("/api/v1/policy", tiers_policy(), format="json").status_code == 403


# --- POST evaluations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"period": "2026-13"},
        {"period": "2026-00"},
        {"period": "2026-1"},
        {"period": "October"},
        {"period": ""},
        {"period": None},
        {"period": 202610},
        {},
        {"period": "2027-01"},  # the current month has not ended
        {"period": "2031-05"},
        {"period": "0001-01"},  # its window would start before year 1
        {"period": "1899-12"},
    ],
)
def test_a_bad_or_unfinished_period_is_400(staff_client, body):
    response = staff_client.post("/api/v1/evaluations", body, format="json")

    assert response.status_code == 400
    assert "period" in response.json()


def test_evaluating_a_period_twice_in_a_row_is_fine_once_the_first_is_done(staff_client):
    given_seller(staff_client, "twice")

    first = post_run(staff_client, "2026-10")
    second = post_run(staff_client, "2026-10")

    assert first.status_code == 202
    assert second.status_code in (202, 409)
    assert len(evaluations_of(staff_client, "twice")) == 1


def test_a_seller_cannot_start_or_read_runs(staff_client, seller_client):
    run = evaluate(staff_client, "2026-10")

    assert seller_client.post("/api/v1/evaluations", {"period": "2026-10"}).status_code == 403
    assert seller_client.get(f"/api/v1/evaluations/{run['id']}").status_code == 403


# --- other sellers' data ----------------------------------------------------------------------


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
    a = given_seller(staff_client, "seller-a")
    b = given_seller(staff_client, "seller-b")
    evaluate(staff_client, "2026-10")

    assert client_of(a).get(f"/api/v1/sellers/{b}/{path}").status_code == 404
    assert client_of(a).get(f"/api/v1/sellers/{a}/{path}").status_code == 200


# --- evidence ---------------------------------------------------------------------------------


@pytest.fixture
def late_order_and_missed_inquiry(staff_client) -> str:
    s = given_seller(staff_client, "evid")
    given_completed_order(staff_client, "ev-ok", seller=s, day="2026-10-05")
    given_completed_order(
        staff_client, "ev-late", seller=s, day="2026-10-06", due="2026-10-06 10:30"
    )
    given_review(staff_client, "ev-r1", order="ev-ok", rating=5, at="2026-10-07 09:00")
    given_review(staff_client, "ev-r2", order="ev-late", rating=1, at="2026-10-07 10:00")
    given_message(staff_client, "ev-m1", s, "ev-c1", "buyer", at="2026-10-10 09:00")
    given_message(staff_client, "ev-m2", s, "ev-c1", "seller", at="2026-10-10 09:05")
    given_message(staff_client, "ev-m3", s, "ev-c2", "buyer", at="2026-10-12 09:00")
    evaluate(staff_client, "2026-10")
    return s


def test_order_evidence_shows_the_late_order_first(staff_client, late_order_and_missed_inquiry):
    items = evidence_of(
        client_of(late_order_and_missed_inquiry),
        late_order_and_missed_inquiry,
        "2026-10",
        "on_time_rate",
    )

    assert [(i["external_id"], i["on_time"]) for i in items] == [
        ("ev-late", False),
        ("ev-ok", True),
    ]
    assert set(items[0]) >= {
        "external_id",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "on_time",
    }
    assert items[0]["due_at"] == "2026-10-06T10:30:00+09:00"
    assert items[0]["delivered_at"] == "2026-10-06T11:00:00+09:00"
    assert items[0]["cancelled_by"] is None


def test_inquiry_evidence_shows_the_missed_inquiry_first(
    staff_client, late_order_and_missed_inquiry
):
    items = evidence_of(staff_client, late_order_and_missed_inquiry, "2026-10", "response_rate")

    assert set(items[0]) >= {"conversation", "sent_at", "deadline", "answered_at", "in_time"}
    assert [(i["conversation"], i["in_time"]) for i in items] == [
        ("ev-c2", False),
        ("ev-c1", True),
    ]
    assert items[0]["deadline"] == "2026-10-13T09:00:00+09:00"
    assert items[0]["answered_at"] is None
    assert items[1]["answered_at"] == "2026-10-10T09:05:00+09:00"


def test_review_evidence_shows_the_negative_review_first(
    staff_client, late_order_and_missed_inquiry
):
    items = evidence_of(
        staff_client, late_order_and_missed_inquiry, "2026-10", "negative_review_rate"
    )

    assert items == [
        {"external_id": "ev-r2", "order": "ev-late", "rating": 1},
        {"external_id": "ev-r1", "order": "ev-ok", "rating": 5},
    ]


@pytest.mark.parametrize("how", ["query", "accept"])
def test_evidence_as_csv_has_a_header_and_one_row_per_item(
    staff_client, late_order_and_missed_inquiry, how
):
    seller = late_order_and_missed_inquiry
    url = f"/api/v1/sellers/{seller}/evidence?period=2026-10&metric=on_time_rate"
    if how == "query":
        response = staff_client.get(url + "&format=csv")
    else:
        response = staff_client.get(url, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["external_id"], r["on_time"]) for r in rows] == [
        ("ev-late", "false"),
        ("ev-ok", "true"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "period=2026-13&metric=on_time_rate",
        "period=2026-10&metric=nope",
        "period=2026-10",
        "metric=on_time_rate",
        "period=9999-12&metric=on_time_rate",
        "period=0001-01&metric=response_rate",
    ],
)
def test_a_bad_evidence_query_is_400_never_500(staff_client, query):
    s = given_seller(staff_client, "evq")

    response = staff_client.get(f"/api/v1/sellers/{s}/evidence?{query}")

    assert response.status_code in (200, 400)
    if "9999" not in query and "0001" not in query:
        assert response.status_code == 400


# --- preview ----------------------------------------------------------------------------------


def test_preview_has_the_grade_shape_for_the_month_so_far(staff_client):
    s = given_seller(staff_client, "preview")
    # On 2027-01-15 the current month is 2027-01 and the default window is 2026-11-01 → now.
    given_completed_order(staff_client, "pv-1", seller=s, day="2027-01-10")
    given_order(staff_client, "pv-2", seller=s, created="2027-01-16 10:00")  # the future

    response = client_of(s).get(f"/api/v1/sellers/{s}/grade/preview")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == GRADE_KEYS | {"as_of"}
    assert body["as_of"] == TODAY
    assert (body["period"], body["effective_from"]) == ("2027-01", "2027-02-01T00:00:00+09:00")
    assert (body["level"], body["rank"], body["at_risk"]) == ("Level 1", 1, False)
    assert set(body["metrics"]) >= SPEC_METRIC_KEYS
    assert body["metrics"]["completed_orders"] == 1
    assert body["metrics"]["window_completed_orders"] == 1
    assert all(set(item) == CRITERION_KEYS for item in body["criteria"])
    assert body["next_level"]["level"] == "Level 2"
    # Nothing stored: the seller still has no evaluation.
    assert grade_of(staff_client, s)["level"] is None


# --- §3 boundaries through the API -------------------------------------------------------------


def test_month_edges_are_in_seoul_time_whatever_offset_the_data_uses(staff_client):
    s = given_seller(staff_client, "edges")
    # 2026-10-31T14:59:59Z = 23:59:59 KST on 31 Oct: October. 15:00:00Z = 1 Nov 00:00 KST: not.
    for ext, completed in (("ed-in", "2026-10-31T14:59:59Z"), ("ed-out", "2026-10-31T15:00:00Z")):
        put(
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
    s = given_seller(staff_client, "window")
    given_completed_order(
        staff_client, "w-before", seller=s, day="2026-07-31", completed="2026-07-31 23:59:59"
    )
    given_completed_order(
        staff_client, "w-first", seller=s, day="2026-07-31", completed="2026-08-01 00:00:00"
    )
    evaluate(staff_client, "2026-10")  # window [2026-08-01 00:00, 2026-11-01 00:00)

    m = grade_of(staff_client, s)["metrics"]

    assert (m["completed_orders"], m["window_completed_orders"], m["finished_orders"]) == (2, 1, 1)


def test_window_months_zero_means_all_time(staff_client):
    s = given_seller(staff_client, "alltime", joined="2024-01-01 00:00")
    given_policy(staff_client, tiers_policy(window_months=0))
    given_completed_order(staff_client, "at-1", seller=s, day="2024-03-01")
    given_completed_order(staff_client, "at-2", seller=s, day="2026-10-01")
    evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    assert (body["metrics"]["window_completed_orders"], body["level"]) == (2, "Gold")


def test_a_reply_exactly_at_the_deadline_is_in_time_one_second_later_is_not(staff_client):
    s = given_seller(staff_client, "deadline")
    given_message(staff_client, "dl-1", s, "dl-c1", "buyer", at="2026-10-10 09:00:00")
    given_message(staff_client, "dl-2", s, "dl-c1", "seller", at="2026-10-11 09:00:00")
    given_message(staff_client, "dl-3", s, "dl-c2", "buyer", at="2026-10-12 09:00:00")
    given_message(staff_client, "dl-4", s, "dl-c2", "seller", at="2026-10-13 09:00:01")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (2, 1, 50)
    # (1440 + 1440 + 1/60) / 2 minutes = 1440.00833… → 1440.01
    assert m["median_first_response_minutes"] == 1440.01


def test_an_inquiry_belongs_to_the_period_its_deadline_falls_in(staff_client):
    s = given_seller(staff_client, "belongs")
    # Deadline exactly at the cutoff (2026-11-01 00:00): a November inquiry.
    given_message(staff_client, "bl-1", s, "bl-c1", "buyer", at="2026-10-31 00:00")
    # Deadline 2026-08-01 00:00, exactly the window start: in October's 3-month window.
    given_message(staff_client, "bl-2", s, "bl-c2", "buyer", at="2026-07-31 00:00")
    # A reply after the cutoff: unanswered for October, out of the median.
    given_message(staff_client, "bl-3", s, "bl-c2", "seller", at="2026-11-02 00:00")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["inquiries"], m["answered_in_time"], m["response_rate"]) == (1, 0, 0)
    assert m["median_first_response_minutes"] is None


def test_excluded_orders_count_in_sales_but_in_no_rate(staff_client):
    s = given_seller(staff_client, "excluded")
    given_completed_order(staff_client, "x-ok", seller=s, day="2026-10-05", buyer="b1")
    given_completed_order(
        staff_client,
        "x-ex",
        seller=s,
        day="2026-10-06",
        buyer="b2",
        excluded=True,
        due="2026-10-06 10:30",
    )
    given_review(staff_client, "x-r1", order="x-ex", rating=1, at="2026-10-07 09:00")
    evaluate(staff_client, "2026-10")

    m = grade_of(staff_client, s)["metrics"]

    assert (m["completed_orders"], m["revenue"], m["unique_buyers"]) == (2, 20000, 2)
    assert (m["window_completed_orders"], m["window_revenue"]) == (2, 20000)
    assert (m["finished_orders"], m["delivered_orders"], m["on_time_rate"]) == (1, 1, 100)
    assert (m["window_review_count"], m["average_rating"], m["review_count"]) == (0, None, 1)


def test_cancellations_split_by_who_cancelled(staff_client):
    s = given_seller(staff_client, "cancels")
    given_completed_order(staff_client, "cx-1", seller=s, day="2026-10-05")
    for ext, by in (("cx-2", "seller"), ("cx-3", "buyer"), ("cx-4", "admin")):
        given_order(
            staff_client,
            ext,
            seller=s,
            created="2026-10-06 10:00",
            cancelled="2026-10-07 10:00",
            cancelled_by=by,
        )
    # Delivered, then cancelled: delivered (on time) and cancelled (finished).
    given_order(
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
    s = given_seller(staff_client, "repeat")
    # b1: completed in June, orders again in October → repeat.
    given_completed_order(staff_client, "rp-1", seller=s, day="2026-06-05", buyer="b1")
    given_order(staff_client, "rp-2", seller=s, created="2026-10-05 10:00", buyer="b1")
    # b2: two window orders; the first completes before the second is created → repeat.
    given_completed_order(staff_client, "rp-3", seller=s, day="2026-09-05", buyer="b2")
    given_order(staff_client, "rp-4", seller=s, created="2026-10-06 10:00", buyer="b2")
    # b3: the earlier order completes after the later one is created → not repeat.
    given_completed_order(
        staff_client, "rp-5", seller=s, day="2026-09-10", buyer="b3", completed="2026-09-20 12:00"
    )
    given_order(staff_client, "rp-6", seller=s, created="2026-09-15 10:00", buyer="b3")
    # b4: a single cancelled window order → in the denominator, not repeat.
    given_order(
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
    early = given_seller(staff_client, "early", joined="2026-10-30 00:00:01")
    late = given_seller(staff_client, "late", joined="2026-12-01 00:00")
    evaluate(staff_client, "2026-10")

    # 2026-10-30 00:00:01 → 2026-11-01 00:00: 1 day 23:59:59 → 1.
    assert grade_of(staff_client, early)["metrics"]["tenure_days"] == 1
    late_grade = grade_of(staff_client, late)
    assert (late_grade["metrics"]["tenure_days"], late_grade["level"]) == (0, "Level 1")


# --- §5 ladder edges ---------------------------------------------------------------------------


def test_a_seller_failing_the_lowest_level_has_no_level(staff_client):
    s = given_seller(staff_client, "nolevel")
    given_policy(
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


def test_a_higher_level_needs_every_lower_level_to_pass(staff_client):
    s = given_seller(staff_client, "ladder")
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
    given_policy(staff_client, tiers_policy(levels=levels))
    given_completed_order(staff_client, "ld-1", seller=s, day="2026-10-05")
    evaluate(staff_client, "2026-10")

    body = grade_of(staff_client, s)

    # Gold's criteria pass but Silver's do not: Bronze.
    assert body["level"] == "Bronze"
    assert body["next_level"]["level"] == "Silver"


def test_grace_resets_when_the_level_is_met_again(staff_client):
    s = given_seller(staff_client, "reset")
    given_policy(staff_client, tiers_policy(demotion_grace_months=1))
    given_completed_order(staff_client, "rs-1", seller=s, day="2026-09-10")
    given_completed_order(staff_client, "rs-2", seller=s, day="2026-11-10")
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


def test_no_grace_for_a_level_absent_from_the_new_policy(staff_client):
    s = given_seller(staff_client, "renamed")
    given_policy(staff_client, tiers_policy(demotion_grace_months=2))
    given_completed_order(staff_client, "rn-1", seller=s, day="2026-09-10")
    evaluate(staff_client, "2026-09")  # Silver
    renamed = tiers_policy(demotion_grace_months=2)
    renamed["levels"][1]["name"] = "Argent"
    given_policy(staff_client, renamed)

    evaluate(staff_client, "2026-10")  # computed Bronze; "Silver" no longer exists

    body = grade_of(staff_client, s)
    assert (body["level"], body["at_risk"]) == ("Bronze", False)


# --- odd requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [["2026-10"], "2026-10", {"period": ["2026-10"]}, {"period": {"y": 2026}}]
)
def test_an_odd_evaluation_request_body_is_400(staff_client, body):
    response = staff_client.post("/api/v1/evaluations", body, format="json")

    assert response.status_code == 400


@pytest.mark.parametrize("run_id", ["0", "99999999999999999999999", "9223372036854775808"])
def test_an_unknown_or_huge_run_id_is_404(staff_client, run_id):
    assert staff_client.get(f"/api/v1/evaluations/{run_id}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "policy",
        {"levels": [{"name": "A", "rank": "x"}]},
        {"levels": [{"name": "A", "rank": 1, "criteria": [None]}]},
        {"levels": [{"name": "A", "rank": 1, "criteria": "x"}]},
        {"levels": [{"name": "A", "rank": 1}], "window_days": "1e999999"},
        {"levels": [{"name": "A", "rank": 1}], "response_window_hours": 0},
        {"levels": [{"name": "A", "rank": 1}], "window_months": -1},
        {
            "levels": [
                {
                    "name": "A",
                    "rank": 1,
                    "criteria": [{"metric": "revenue_top_percent", "op": "<=", "value": 0}],
                }
            ]
        },
    ],
)
def test_a_malformed_policy_is_400_not_500(staff_client, body):
    response = staff_client.put("/api/v1/policy", body, format="json")

    assert response.status_code == 400


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


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Tiers\x00"},
        {"levels": [{"name": "Bronze\x00", "rank": 1, "criteria": []}]},
        {
            "levels": [
                {
                    "name": "Bronze",
                    "rank": 1,
                    "criteria": [{"metric": "revenue", "op": ">=", "value": 1, "any_of": "\x00"}],
                }
            ]
        },
    ],
    ids=["policy-name", "level-name", "any-of"],
)
def test_a_nul_character_in_a_policy_is_400_not_500(staff_client, change):
    response = staff_client.put("/api/v1/policy", {**tiers_policy(), **change}, format="json")

    assert response.status_code == 400
    assert "NUL" in str(response.json())


def test_the_policy_read_back_can_be_put_again_unchanged(staff_client):
    before = staff_client.get("/api/v1/policy").json()

    response = staff_client.put("/api/v1/policy", before, format="json")

    assert response.status_code == 200
    after = staff_client.get("/api/v1/policy").json()
    assert after["id"] != before["id"]  # a new active policy; the old one is kept
    assert {k: v for k, v in after.items() if k != "id"} == {
        k: v for k, v in before.items() if k != "id"
    }


def test_an_average_of_4_625_shows_4_63_half_up_not_bankers_4_62(staff_client):
    s = given_seller(staff_client, "bankers")
    # 8 reviews: 5 × 5 + 3 × 4 = 37 → 37 / 8 = 4.625 (exact in binary: round() gives 4.62).
    for i in range(8):
        given_completed_order(
            staff_client, f"bk-{i}", seller=s, day="2026-10-05", amount="0.10" if i else "0.20"
        )
        given_review(
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
