"""manage.py evaluate / evaluate_history (SPEC §6)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from tests.factories import aware
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def after_october(time_machine):
    time_machine.move_to(aware("2026-11-15 12:00"), tick=False)


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_dry_run_prints_the_changes_and_saves_nothing():
    given_policy()
    climber = a_seller(external_id="climber")
    a_seller(external_id="steady")
    given_completed_orders(climber, count=1, at="2026-10-10 10:00")

    output = run_command("evaluate", "--period", "2026-10", "--dry-run")

    assert output.splitlines() == [
        "climber: - -> Silver",
        "steady: - -> Bronze",
        "Dry run of 2026-10: 2 sellers, 2 grade changes "
        "(Bronze: 1, Silver: 1, Gold: 0, none: 0). Nothing was saved.",
    ]
    assert not EvaluationRun.objects.exists()
    assert not SellerEvaluation.objects.exists()


def test_evaluate_saves_the_period():
    given_policy()
    seller = a_seller(external_id="s-1")

    output = run_command("evaluate", "--period", "2026-10")

    run = EvaluationRun.objects.get()
    assert (run.period, run.status, run.trigger) == ("2026-10", RunStatus.SUCCEEDED, "manual")
    assert SellerEvaluation.objects.get(seller=seller).level == "Bronze"
    assert f"Evaluated 2026-10 (run {run.pk}): 1 sellers, 1 grade changes" in output


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", "month must be 01 to 12"),
        ("10/2026", "expected YYYY-MM"),
        ("2026-11", "has not ended yet"),
    ],
)
def test_a_bad_period_is_a_command_error(period, message):
    with pytest.raises(CommandError, match=message):
        run_command("evaluate", "--period", period)
    assert not EvaluationRun.objects.exists()


def test_a_period_already_running_is_a_command_error():
    given_policy()
    runs.start_run(period=Period(2026, 10), trigger="schedule")

    with pytest.raises(CommandError, match="already pending or running"):
        run_command("evaluate", "--period", "2026-10")


def test_history_evaluates_the_last_months_oldest_first():
    given_policy()
    a_seller()

    output = run_command("evaluate_history", "--months", "3")

    assert [line.split(":")[0] for line in output.splitlines()] == [
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    assert list(EvaluationRun.objects.order_by("id").values_list("period", flat=True)) == [
        "2026-08",
        "2026-09",
        "2026-10",
    ]


def test_history_if_missing_skips_evaluated_months():
    given_policy()
    a_seller()
    runs.evaluate_period(period=Period(2026, 9))

    output = run_command("evaluate_history", "--months", "2", "--if-missing")

    assert output.splitlines()[0] == "2026-09: already evaluated, skipped"
    assert EvaluationRun.objects.filter(period="2026-09").count() == 1
    assert EvaluationRun.objects.filter(period="2026-10", status="succeeded").count() == 1
