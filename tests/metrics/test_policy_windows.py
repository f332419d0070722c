"""Per-criterion windows (SPEC §5): a criterion's own ``window_days`` overrides the policy window
for its metric, in runs, explanations, the live preview and the what-if; cumulative metrics
ignore it; each distinct window is computed once.

The world (period 2026-12, cutoff 2027-01-01 00:00 KST, policy window 3 months = Oct–Dec):
every seller completed 8 orders on 2026-10-10 and 2 on 2026-12-27, and cancelled one order
itself at a time that differs per seller. By hand:

* policy window: 10 completed + 1 cancelled = 11 finished → seller_cancellation_rate 100/11
  = 9.09 % for everyone (≤ 10: "Good");
* 7 days, [2026-12-25 00:00, 2027-01-01 00:00): 2 completed, plus the cancellation when it falls
  in them: 1/3 = 33.33 % (> 25: not "Best"), else 0/2 = 0 % ("Best").
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from metrics.engine import compute
from metrics.models import MonthToDate
from metrics.runs import preview
from tests.api_helpers import (
    evaluate,
    grade_of,
    push_completed_order,
    push_order,
    push_policy,
    push_seller,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_2027_01_15")]

PERIOD = "2026-12"


def windowed_policy(**best: Any) -> dict[str, Any]:
    return {
        "name": "Windows",
        "window_months": 3,
        "window_days": None,
        "response_window_hours": 24,
        "demotion_grace_months": 0,
        "levels": [
            {"name": "Basic", "rank": 1, "criteria": []},
            {
                "name": "Good",
                "rank": 2,
                "criteria": [{"metric": "seller_cancellation_rate", "op": "<=", "value": 10}],
            },
            {
                "name": "Best",
                "rank": 3,
                "criteria": [
                    {
                        "metric": "seller_cancellation_rate",
                        "op": "<=",
                        "value": 25,
                        "window_days": 7,
                        **best,
                    },
                    # Cumulative: its window_days is ignored (10 completed orders all time).
                    {"metric": "completed_orders", "op": ">=", "value": 10, "window_days": 7},
                ],
            },
        ],
    }


def push_world(staff, cancellations: dict[str, str]) -> None:
    for seller, cancelled in cancellations.items():
        push_seller(staff, seller)
        for i in range(8):
            push_completed_order(staff, f"{seller}-oct-{i}", seller=seller, day="2026-10-10")
        for i in range(2):
            push_completed_order(staff, f"{seller}-dec-{i}", seller=seller, day="2026-12-27")
        push_order(
            staff,
            f"{seller}-cancelled",
            seller=seller,
            created="2026-10-01 09:00",
            cancelled=cancelled,
            cancelled_by="seller",
        )


WORLD = {
    "recent": "2026-12-28 10:00",  # in the last 7 days: 1/3
    "edge-in": "2026-12-25 00:00:00",  # the first instant of the 7 days: 1/3
    "edge-out": "2026-12-24 23:59:59",  # one second before them: 0/2
    "older": "2026-11-05 10:00",  # in the policy window only: 0/2
}


def spy_on_passes(monkeypatch: Any) -> tuple[list[list[Any]], list[list[Any]]]:
    """(figures statements, message walks) from now on, each as the starts of its windows."""
    statements: list[list[Any]] = []
    walks: list[list[Any]] = []
    real_figures, real_walk = compute._figures_sql, compute.window_inquiry_counts

    def figures(**kwargs: Any) -> Any:
        statements.append([w.start for w in kwargs["windows"]])
        return real_figures(**kwargs)

    def walk(**kwargs: Any) -> Any:
        walks.append([w.start for w in kwargs["windows"]])
        return real_walk(**kwargs)

    monkeypatch.setattr(compute, "_figures_sql", figures)
    monkeypatch.setattr(compute, "window_inquiry_counts", walk)
    return statements, walks


def criterion(grade: dict[str, Any], level: str, metric: str) -> dict[str, Any]:
    return next(c for c in grade["criteria"] if c["level"] == level and c["metric"] == metric)


def test_a_criterion_over_7_days_decides_on_those_days_and_says_so(staff_client):
    push_world(staff_client, WORLD)
    push_policy(staff_client, windowed_policy())

    evaluate(staff_client, PERIOD)

    levels = {seller: grade_of(staff_client, seller)["level"] for seller in WORLD}
    assert levels == {"recent": "Good", "edge-in": "Good", "edge-out": "Best", "older": "Best"}
    recent = grade_of(staff_client, "recent")
    assert recent["metrics"]["seller_cancellation_rate"] == 9.09  # 100/11, the policy window
    good = criterion(recent, "Good", "seller_cancellation_rate")
    assert (good["window_days"], good["actual"], good["passed"]) == (None, 9.09, True)
    best = criterion(recent, "Best", "seller_cancellation_rate")
    assert (best["window_days"], best["actual"], best["passed"]) == (7, 33.33, False)
    cumulative = criterion(recent, "Best", "completed_orders")
    assert (cumulative["window_days"], cumulative["actual"]) == (None, 10)
    older = criterion(grade_of(staff_client, "older"), "Best", "seller_cancellation_rate")
    assert (older["actual"], older["passed"]) == (0, True)


def test_without_its_own_window_the_same_criterion_uses_the_policy_window(staff_client):
    push_world(staff_client, WORLD)
    push_policy(staff_client, windowed_policy(window_days=None))

    evaluate(staff_client, PERIOD)

    assert {s: grade_of(staff_client, s)["level"] for s in WORLD} == dict.fromkeys(WORLD, "Best")


def test_a_run_reads_every_window_in_one_figures_pass_and_one_walk_per_chunk(
    staff_client, monkeypatch
):
    push_world(staff_client, {"recent": WORLD["recent"]})
    policy = windowed_policy()
    policy["levels"][2]["criteria"] += [
        {"metric": "cancellation_rate", "op": "<=", "value": 50, "window_days": 7},
        {"metric": "success_rate", "op": ">=", "value": 10, "window_days": 30},
        {"metric": "finished_orders", "op": ">=", "value": 1, "window_days": 30},
    ]
    push_policy(staff_client, policy)
    figure_passes, walks = spy_on_passes(monkeypatch)

    evaluate(staff_client, PERIOD)

    # One chunk; the policy window and windows 7 and 30 (four criteria): one figures statement
    # over the three distinct windows, and one message walk, over the policy window only (no
    # criterion with a window of its own reads an inquiry metric).
    assert len(figure_passes) == 1 and len(walks) == 1
    assert len(figure_passes[0]) == 3 == len(set(figure_passes[0]))
    assert walks[0] == figure_passes[0][:1]


def test_the_what_if_recomputes_a_new_window_and_regrades_a_stored_one(staff_client):
    push_world(staff_client, WORLD)
    push_policy(staff_client, windowed_policy(window_days=None))
    evaluate(staff_client, PERIOD)  # everyone Best over the policy window

    with TestCase.captureOnCommitCallbacks(execute=True):
        queued = staff_client.post("/api/v1/policy/preview", windowed_policy(), format="json")
    # A window the run did not store: recomputed by the preview task.
    assert queued.status_code == 202, queued.content
    job = staff_client.get(f"/api/v1/policy/preview/{queued.json()['id']}").json()
    assert job["status"] == "succeeded", job
    assert job["draft"]["level_counts"] == {"Basic": 0, "Good": 2, "Best": 2, "none": 0}

    push_policy(staff_client, windowed_policy())
    evaluate(staff_client, PERIOD)
    # Same windows as the run (its criteria results hold the 7-day actuals): re-graded at once,
    # and a threshold that lets the 33 % sellers pass moves them up.
    looser = windowed_policy(value=34)
    answer = staff_client.post("/api/v1/policy/preview", looser, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["draft"]["level_counts"] == {"Basic": 0, "Good": 0, "Best": 4, "none": 0}


def test_the_live_preview_reads_a_criterion_over_its_own_days(staff_client):
    # The live preview at 2027-01-15 12:00: 7 days = [2027-01-08 12:00, now): nothing, so
    # the rate is null there and the criterion fails, while 3 months (Nov–Jan) have 1/3.
    push_world(staff_client, {"recent": "2026-12-28 10:00"})
    push_policy(staff_client, windowed_policy())

    body = staff_client.get("/api/v1/sellers/recent/grade/preview").json()

    assert body["level"] == "Basic"  # 1/3 over Nov–Jan 15 > 10
    assert criterion(body, "Good", "seller_cancellation_rate")["actual"] == 33.33
    best = criterion(body, "Best", "seller_cancellation_rate")
    assert (best["window_days"], best["actual"], best["passed"]) == (7, None, False)


def test_the_live_preview_reads_its_criterion_windows_from_the_month_to_date_row(
    staff_client, monkeypatch
):
    # A request must not compute the criterion windows: the beat's refresh (or a first preview
    # of the seller) stores them beside the month-to-date metrics, every window in one figures
    # statement; a request that finds a fitting row runs neither that nor a message walk.
    push_world(staff_client, {"recent": "2026-12-28 10:00", "older": WORLD["older"]})
    push_policy(staff_client, windowed_policy())
    statements, walks = spy_on_passes(monkeypatch)

    first = staff_client.get("/api/v1/sellers/recent/grade/preview").json()
    # A first preview: the month so far and its 7 days in one statement; one walk, of the
    # month only (the 7-day criterion reads no inquiry metric).
    assert len(statements) == 1 and len(statements[0]) == 2, statements
    assert [w for w in walks if w] == [statements[0][:1]], walks
    stored = MonthToDate.objects.get(seller__external_id="recent").windows
    assert set(stored) == {"7"} and set(stored["7"]) == {"seller_cancellation_rate"}

    statements.clear()
    walks.clear()
    again = staff_client.get("/api/v1/sellers/recent/grade/preview").json()
    assert (statements, [w for w in walks if w]) == ([], [])
    assert criterion(again, "Best", "seller_cancellation_rate") == criterion(
        first, "Best", "seller_cancellation_rate"
    )

    # The beat's refresh stores them for every seller, in its one statement.
    preview.refresh_month_to_date()
    assert len(statements) == 1 and len(statements[0]) == 2, statements
    assert set(MonthToDate.objects.get(seller__external_id="older").windows) == {"7"}

    # Another policy's windows (14 days): the row no longer fits, the request recomputes.
    statements.clear()
    push_policy(staff_client, windowed_policy(window_days=14))
    body = staff_client.get("/api/v1/sellers/older/grade/preview").json()
    assert len(statements) == 1, statements
    assert criterion(body, "Best", "seller_cancellation_rate")["window_days"] == 14


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"window_days": 0}, "between 1 and 3650"),
        ({"window_days": 3651}, "between 1 and 3650"),
        ({"metric": "success_score", "op": ">=", "value": 50, "window_days": 7}, "success_score"),
    ],
)
def test_an_out_of_range_or_score_window_is_refused_by_the_api(staff_client, extra, fragment):
    response = staff_client.put("/api/v1/policy", windowed_policy(**extra), format="json")
    assert response.status_code == 400
    message = " ".join(response.json()["levels[2].criteria[0].window_days"])
    assert fragment in message


def test_a_policy_score_round_trips_through_the_api(staff_client):
    score = [{"metric": "response_rate", "weight": 30, "zero": 50, "full": 100}]
    shown = push_policy(staff_client, {**windowed_policy(), "score": score})
    assert shown["score"] == score
    assert staff_client.get("/api/v1/policy").json()["score"] == score
    zero_is_full = [{"metric": "response_rate", "weight": 30, "zero": 50, "full": 50}]
    refused = staff_client.put(
        "/api/v1/policy", {**windowed_policy(), "score": zero_is_full}, format="json"
    )
    assert refused.status_code == 400
    assert "must differ" in refused.json()["score[0].full"][0]
