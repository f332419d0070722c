"""Evaluation runs (SPEC §6): start, execute, replace, grace, dry run, failure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import pytest

from metrics import runs
from metrics.engine.periods import Period
from metrics.engine.registry import METRIC_KEYS
from metrics.models import (
    Criterion,
    EvaluationRun,
    GradeLevel,
    GradePolicy,
    RunStatus,
    SellerEvaluation,
)
from metrics.policy.services import active_policy, snapshot_of
from orders.models import Seller
from tests.factories import OrderFactory, SellerFactory, aware

pytestmark = pytest.mark.django_db

OCT = Period(2026, 10)


def a_seller(**fields: Any) -> Seller:
    """SellerFactory, typed as the model it creates."""
    return cast(Seller, SellerFactory(**fields))


def given_policy(*, grace: int = 0, window_months: int = 1) -> GradePolicy:
    """Bronze (no criteria) < Silver (>= 1 order completed in the window) < Gold (>= 3).

    A window metric, so a seller can fall back from one month to the next.
    """
    GradePolicy.objects.filter(is_active=True).update(is_active=False)
    policy = GradePolicy.objects.create(
        name="Test policy",
        is_active=True,
        window_months=window_months,
        demotion_grace_months=grace,
    )
    GradeLevel.objects.create(policy=policy, name="Bronze", rank=1)
    silver = GradeLevel.objects.create(policy=policy, name="Silver", rank=2)
    gold = GradeLevel.objects.create(policy=policy, name="Gold", rank=3)
    Criterion.objects.create(
        level=silver, metric="window_completed_orders", op=">=", value=Decimal(1)
    )
    Criterion.objects.create(
        level=gold, metric="window_completed_orders", op=">=", value=Decimal(3)
    )
    return policy


def given_completed_orders(seller, *, count: int, at: str) -> None:
    completed = aware(at)
    for _ in range(count):
        OrderFactory(
            seller=seller,
            created_at=completed - timedelta(days=2),
            delivered_at=completed - timedelta(days=1),
            completed_at=completed,
        )


def given_sellers_with_orders(count: int, *, up_to: int) -> list[Seller]:
    """The test policy and ``count`` sellers, the i-th with i % (up_to + 1) orders completed on
    2026-10-10 (so that, up_to ≥ 3, the sellers of 2026-10 reach every level)."""
    given_policy()
    sellers = [a_seller() for _ in range(count)]
    for index, seller in enumerate(sellers):
        given_completed_orders(seller, count=index % (up_to + 1), at="2026-10-10 10:00")
    return sellers


def when_evaluated(period: Period) -> EvaluationRun:
    return runs.evaluate_period(period=period).run  # type: ignore[return-value]


def levels_of(period: Period) -> dict[str, str | None]:
    return dict(
        SellerEvaluation.objects.filter(period=str(period)).values_list(
            "seller__external_id", "level"
        )
    )


def test_run_stores_one_evaluation_per_seller_with_every_metric():
    given_policy()
    gold, silver, idle = a_seller(), a_seller(), a_seller()
    given_completed_orders(gold, count=3, at="2026-10-15 12:00")
    given_completed_orders(silver, count=1, at="2026-10-31 23:59")

    run = when_evaluated(OCT)

    assert run.status == RunStatus.SUCCEEDED
    assert run.seller_count == 3
    assert run.level_counts == {"Bronze": 1, "Silver": 1, "Gold": 1, "none": 0}
    assert levels_of(OCT) == {
        gold.external_id: "Gold",
        silver.external_id: "Silver",
        idle.external_id: "Bronze",
    }
    stored = SellerEvaluation.objects.get(seller=gold, period="2026-10")
    assert set(stored.metrics) == set(METRIC_KEYS)
    assert stored.metrics["window_completed_orders"] == 3
    assert stored.metrics["revenue"] == "30000.00"
    assert stored.level_rank == 3
    assert stored.next_level is None
    assert [(c["level"], c["passed"]) for c in stored.criteria] == [
        ("Silver", True),
        ("Gold", True),
    ]
    idle_row = SellerEvaluation.objects.get(seller=idle, period="2026-10")
    assert idle_row.metrics["on_time_rate"] is None  # no activity: null rates, Level 1
    assert idle_row.next_level == {
        "level": "Silver",
        "missing": [
            {
                "metric": "window_completed_orders",
                "op": ">=",
                "value": "1.0000",
                "actual": 0,
                "any_of": "",
            }
        ],
    }
    assert run.policy_snapshot["levels"][0]["name"] == "Bronze"


def test_rerun_replaces_the_period_results():
    given_policy()
    sellers = [a_seller() for _ in range(3)]
    first = when_evaluated(OCT)
    given_completed_orders(sellers[0], count=1, at="2026-10-20 09:00")

    second = when_evaluated(OCT)

    rows = SellerEvaluation.objects.filter(period="2026-10")
    assert rows.count() == 3
    assert set(rows.values_list("run_id", flat=True)) == {second.pk}
    assert second.pk != first.pk
    assert levels_of(OCT)[sellers[0].external_id] == "Silver"


def test_executing_a_run_twice_changes_nothing():
    given_policy()
    SellerFactory.create_batch(2)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.execute_run(run_id=run.pk)
    before = list(SellerEvaluation.objects.values_list("id", "level", "created_at"))

    again = runs.execute_run(run_id=run.pk)

    assert again.status == RunStatus.SUCCEEDED
    assert list(SellerEvaluation.objects.values_list("id", "level", "created_at")) == before


def test_a_run_left_running_by_a_killed_worker_is_redone():
    given_policy()
    seller = a_seller()
    run = runs.start_run(period=OCT, trigger="schedule")
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)

    done = runs.execute_run(run_id=run.pk)

    assert done.status == RunStatus.SUCCEEDED
    assert levels_of(OCT) == {seller.external_id: "Bronze"}


def test_second_open_run_of_a_period_is_refused():
    given_policy()
    runs.start_run(period=OCT, trigger="manual")

    with pytest.raises(runs.RunAlreadyOpen):
        runs.start_run(period=OCT, trigger="manual")
    runs.start_run(period=OCT.previous(), trigger="manual")  # another period is fine


def test_a_finished_run_does_not_block_the_next_one():
    given_policy()
    when_evaluated(OCT)

    assert when_evaluated(OCT).status == RunStatus.SUCCEEDED


def test_dry_run_writes_nothing_and_returns_the_changes():
    given_policy()
    climber = a_seller(external_id="climber")
    a_seller(external_id="idle")
    given_completed_orders(climber, count=1, at="2026-09-10 10:00")
    when_evaluated(OCT.previous())  # climber: Silver, idle: Bronze
    given_completed_orders(climber, count=3, at="2026-10-10 10:00")
    runs_before = EvaluationRun.objects.count()

    outcome = runs.evaluate_period(period=OCT, dry_run=True)

    assert outcome.run is None
    assert [str(change) for change in outcome.changes] == ["climber: Silver -> Gold"]
    assert outcome.level_counts == {"Bronze": 1, "Silver": 0, "Gold": 1, "none": 0}
    assert EvaluationRun.objects.count() == runs_before
    assert not SellerEvaluation.objects.filter(period="2026-10").exists()  # idle: no change


def test_grace_keeps_the_held_level_once_then_demotes():
    given_policy(grace=1)
    seller = a_seller()
    given_completed_orders(seller, count=1, at="2026-08-10 10:00")

    for period in (Period(2026, 8), Period(2026, 9), Period(2026, 10)):
        when_evaluated(period)

    rows = SellerEvaluation.objects.filter(seller=seller).order_by("period")
    assert [
        (r.period, r.computed_level, r.level, r.at_risk, r.grace_used, r.previous_level)
        for r in rows
    ] == [
        ("2026-08", "Silver", "Silver", False, 0, None),
        ("2026-09", "Bronze", "Silver", True, 1, "Silver"),
        ("2026-10", "Bronze", "Bronze", False, 0, "Silver"),
    ]


def test_rerun_of_an_older_period_updates_the_next_previous_level():
    given_policy()
    seller = a_seller()
    when_evaluated(Period(2026, 9))
    when_evaluated(OCT)
    given_completed_orders(seller, count=1, at="2026-09-05 10:00")  # late-arriving data

    when_evaluated(Period(2026, 9))

    october = SellerEvaluation.objects.get(seller=seller, period="2026-10")
    assert october.previous_level == "Silver"


def test_a_failing_run_is_marked_failed_and_keeps_the_previous_results():
    given_policy()
    seller = a_seller()
    when_evaluated(OCT)
    broken = runs.start_run(period=OCT, trigger="manual")
    # A snapshot the grading cannot read: the computation raises half-way.
    EvaluationRun.objects.filter(pk=broken.pk).update(
        policy_snapshot={"levels": [{"name": "No rank"}]}
    )

    with pytest.raises(KeyError):
        runs.execute_run(run_id=broken.pk)

    broken.refresh_from_db()
    assert broken.status == RunStatus.FAILED
    assert "rank" in broken.error
    assert broken.finished_at is not None
    assert levels_of(OCT) == {seller.external_id: "Bronze"}


def test_period_must_have_ended_to_be_evaluated():
    now = aware("2026-11-01 00:00")

    assert runs.parse_completed_period(text="2026-10", now=now) == OCT
    with pytest.raises(ValueError, match="has not ended"):
        runs.parse_completed_period(text="2026-11", now=now)
    with pytest.raises(ValueError, match="month must be 01 to 12"):
        runs.parse_completed_period(text="2026-13", now=now)
    with pytest.raises(ValueError, match="YYYY-MM"):
        runs.parse_completed_period(text="October", now=now)


@pytest.mark.parametrize("sellers", [3, 40])
def test_grading_a_period_takes_a_fixed_number_of_queries(
    sellers, django_assert_max_num_queries, settings
):
    given_policy()
    for seller in SellerFactory.create_batch(sellers):
        given_completed_orders(seller, count=1, at="2026-10-02 10:00")
    snapshot = snapshot_of(active_policy())
    settings.EVALUATION_CHUNK_SIZE = 50

    # the totals of every seller once, then per chunk 4 engine queries, the external ids and
    # the held levels.
    with django_assert_max_num_queries(7):
        graded = list(runs.grade_period(period=OCT, snapshot=snapshot))

    assert len(graded) == sellers


def test_without_an_active_policy_the_run_fails_with_a_clear_error():
    GradePolicy.objects.update(is_active=False)
    run = runs.start_run(period=OCT, trigger="manual")

    with pytest.raises(LookupError):
        runs.execute_run(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "NoActivePolicy" in run.error
