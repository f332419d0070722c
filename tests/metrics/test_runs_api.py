"""POST /api/v1/evaluations and GET /api/v1/evaluations[/{id}]: staff start a period's run and
read it back (SPEC §6, §7)."""

from __future__ import annotations

import pytest
import time_machine

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunStatus
from tests.api_helpers import (
    evaluate,
    evaluations_of,
    post_evaluation,
    push_completed_order,
    push_order,
    push_policy,
    push_seller,
    tiers_policy,
)
from tests.factories import aware
from tests.metrics.test_runs import given_completed_orders, given_policy

pytestmark = pytest.mark.django_db

SEP, OCT = Period(2026, 9), Period(2026, 10)
AFTER_OCTOBER = aware("2026-11-15 12:00")


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
        ({"period": "2026-13"}, "from 1900-01 to 2999-12"),
        ({"period": "October"}, "YYYY-MM"),
        ({"period": " 2026-10"}, "YYYY-MM"),
        ({}, "required"),
        ({"period": ["2026-10"]}, "YYYY-MM"),
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

    with django_assert_max_num_queries(4):  # with the staff user's permissions
        body = staff_client.get("/api/v1/evaluations").json()

    assert [run["period"] for run in body["results"]] == ["2026-10", "2026-09"]


# --- outside in: on 2027-01-15, data pushed through the ingestion API ---------------------------


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_evaluation_run_shows_sellers_and_level_counts(staff_client):
    for name in ("r-1", "r-2", "r-3"):
        push_seller(staff_client, name)

    run = evaluate(staff_client, "2026-10")

    assert set(run) >= {"id", "period", "status", "sellers", "level_counts"}
    assert (run["period"], run["status"], run["sellers"]) == ("2026-10", "succeeded", 3)
    # No activity: Level 1 (no criteria) for all three, nobody higher.
    assert run["level_counts"]["Level 1"] == 3
    assert sum(run["level_counts"].values()) == 3


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "body",
    [
        {"period": "2026-00"},
        {"period": "2026-1"},
        {"period": ""},
        {"period": None},
        {"period": 202610},
        {"period": "0001-01"},  # its window would start before year 1
        {"period": "1899-12"},
        {"period": "3000-01"},
    ],
)
def test_a_bad_period_is_400_with_its_message(staff_client, body):
    response = staff_client.post("/api/v1/evaluations", body, format="json")

    assert response.status_code == 400
    assert "period" in response.json()


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize("period", ["2027-01", "2031-05", "2999-12"])
def test_a_period_that_has_not_ended_is_400_and_says_when(staff_client, period):
    response = staff_client.post("/api/v1/evaluations", {"period": period}, format="json")

    assert response.status_code == 400
    assert "has not ended yet" in response.json()["period"][0]
    assert not EvaluationRun.objects.exists()


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize("body", [["2026-10"], "2026-10", {"period": {"y": 2026}}])
def test_an_odd_evaluation_request_body_is_400(staff_client, body):
    response = staff_client.post("/api/v1/evaluations", body, format="json")

    assert response.status_code == 400


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize("run_id", ["0", "99999999999999999999999", "9223372036854775808"])
def test_an_unknown_or_huge_run_id_is_404(staff_client, run_id):
    assert staff_client.get(f"/api/v1/evaluations/{run_id}").status_code == 404


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_evaluating_a_period_twice_in_a_row_is_fine_once_the_first_is_done(staff_client):
    push_seller(staff_client, "twice")

    first = post_evaluation(staff_client, "2026-10")
    second = post_evaluation(staff_client, "2026-10")

    assert first.status_code == 202
    assert second.status_code in (202, 409)
    assert len(evaluations_of(staff_client, "twice")) == 1


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_previous_level_follows_a_rerun_of_an_older_period(staff_client):
    s = push_seller(staff_client, "rerun")
    push_policy(staff_client, tiers_policy())
    push_completed_order(staff_client, "rr-1", seller=s, day="2026-09-10")
    evaluate(staff_client, "2026-09")  # Silver
    evaluate(staff_client, "2026-10")  # Bronze, previous Silver
    # The September order turns out to have been cancelled by the buyer, not completed.
    push_order(
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


def test_an_evaluation_request_with_an_unknown_field_is_refused(staff_client):
    response = staff_client.post(
        "/api/v1/evaluations", {"period": "2026-10", "dry_run": True}, format="json"
    )
    assert response.status_code == 400
    assert "Unknown field 'dry_run'" in response.json()["dry_run"][0]
    assert not EvaluationRun.objects.exists()
