"""GET grade / grade/preview / evaluations, POST + GET evaluations (SPEC §7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from metrics import runs
from metrics.models import EvaluationRun, GradePolicy, RunStatus
from metrics.periods import Period
from metrics.registry import METRIC_KEYS
from tests.factories import OrderFactory, ReviewFactory, SellerFactory, aware
from tests.metrics.test_runs import given_completed_orders, given_policy

pytestmark = pytest.mark.django_db

SEP, OCT = Period(2026, 9), Period(2026, 10)
AFTER_OCTOBER = aware("2026-11-15 12:00")


def client_of(seller) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=seller.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


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
            "actual": 1,
            "passed": True,
        },
        {
            "level": "Gold",
            "metric": "window_completed_orders",
            "op": ">=",
            "value": 3,
            "any_of": "",
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


# --- POST / GET /api/v1/evaluations ---------------------------------------------------------


@time_machine.travel(AFTER_OCTOBER, tick=False)
def test_staff_start_an_evaluation_and_read_its_status(
    staff_client, seller, django_capture_on_commit_callbacks
):
    given_policy()
    given_completed_orders(seller, count=1, at="2026-10-10 10:00")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/api/v1/evaluations", {"period": "2026-10"}, format="json")

    # The task runs when the request's transaction commits; under the test's own transaction
    # that is at the end of the block above, so the body still says "pending".
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    run_id = response.json()["id"]
    body = staff_client.get(f"/api/v1/evaluations/{run_id}").json()
    assert body["id"] == run_id
    assert body["period"] == "2026-10"
    assert body["status"] == "succeeded"
    assert body["sellers"] == 1
    assert body["level_counts"] == {"Bronze": 0, "Silver": 1, "Gold": 0, "none": 0}


@time_machine.travel(AFTER_OCTOBER, tick=False)
def test_a_period_already_running_is_409(staff_client):
    given_policy()
    runs.start_run(period=OCT, trigger="schedule")

    response = staff_client.post("/api/v1/evaluations", {"period": "2026-10"}, format="json")

    assert response.status_code == 409
    assert "already" in response.json()["detail"]


@time_machine.travel(AFTER_OCTOBER, tick=False)
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"period": "2026-13"}, "month must be 01 to 12"),
        ({"period": "October"}, "YYYY-MM"),
        ({"period": "2026-11"}, "has not ended yet"),
        ({}, "required"),
        ({"period": ["2026-10"]}, "valid string"),
    ],
)
def test_a_bad_period_is_400(staff_client, payload, message):
    response = staff_client.post("/api/v1/evaluations", payload, format="json")

    assert response.status_code == 400
    assert message in response.json()["period"][0]
    assert not EvaluationRun.objects.exists()


def test_evaluation_runs_are_staff_only(api_client, seller_client):
    run = runs.start_run(period=OCT, trigger="manual")

    assert api_client.post("/api/v1/evaluations", {"period": "2026-10"}).status_code == 401
    assert seller_client.post("/api/v1/evaluations", {"period": "2026-10"}).status_code == 403
    assert seller_client.get(f"/api/v1/evaluations/{run.pk}").status_code == 403
    assert EvaluationRun.objects.get().status == RunStatus.PENDING


def test_unknown_run_is_404(staff_client):
    assert staff_client.get("/api/v1/evaluations/999999").status_code == 404


def test_staff_list_runs_newest_first(staff_client, django_assert_max_num_queries):
    given_policy()
    runs.evaluate_period(period=SEP)
    runs.evaluate_period(period=OCT)

    with django_assert_max_num_queries(3):
        body = staff_client.get("/api/v1/evaluations").json()

    assert [run["period"] for run in body["results"]] == ["2026-10", "2026-09"]


def test_preview_without_an_active_policy_is_503_not_500(seller_client, seller):
    GradePolicy.objects.update(is_active=False)

    response = seller_client.get(f"/api/v1/sellers/{seller.external_id}/grade/preview")

    assert response.status_code == 503
    assert "No active grade policy" in response.json()["detail"]
