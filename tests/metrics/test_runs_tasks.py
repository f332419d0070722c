"""The Celery tasks (eager here; tests/metrics/test_worker.py runs a real worker) and the
django-celery-beat schedule."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import OperationalError
from django_celery_beat.models import PeriodicTask

from metrics import runs, tasks
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from tests.factories import SellerFactory, aware
from tests.metrics.test_runs import a_seller, given_policy

pytestmark = pytest.mark.django_db

FIRST_OF_NOVEMBER = aware("2026-11-01 00:05")


def test_beat_evaluates_the_month_that_just_ended(django_capture_on_commit_callbacks):
    given_policy()
    seller = a_seller()

    with (
        time_machine.travel(FIRST_OF_NOVEMBER, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run_id = tasks.evaluate_previous_month.delay().get()
        # like every start (runs.request_run): the run's task is sent once its row commits
        assert EvaluationRun.objects.get(pk=run_id).status == RunStatus.PENDING

    run = EvaluationRun.objects.get(pk=run_id)
    assert (run.period, run.trigger, run.status) == ("2026-10", "schedule", RunStatus.SUCCEEDED)
    assert SellerEvaluation.objects.get(seller=seller).period == "2026-10"


def test_beat_skips_a_period_whose_run_is_already_open():
    given_policy()
    with time_machine.travel(FIRST_OF_NOVEMBER, tick=False):
        open_run = runs.start_run(period=Period(2026, 10), trigger="manual")

        assert tasks.evaluate_previous_month.delay().get() is None

    open_run.refresh_from_db()
    assert open_run.status == RunStatus.PENDING
    assert EvaluationRun.objects.count() == 1


def test_beat_redoes_a_run_abandoned_by_a_killed_worker(django_capture_on_commit_callbacks):
    given_policy()
    a_seller()
    with time_machine.travel(FIRST_OF_NOVEMBER, tick=False):
        abandoned = runs.start_run(period=Period(2026, 10), trigger="schedule")
    EvaluationRun.objects.filter(pk=abandoned.pk).update(
        status=RunStatus.RUNNING, lease_expires_at=FIRST_OF_NOVEMBER + timedelta(minutes=2)
    )

    with (
        time_machine.travel(FIRST_OF_NOVEMBER + timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.evaluate_previous_month.delay().get() == abandoned.pk

    abandoned.refresh_from_db()
    assert abandoned.status == RunStatus.SUCCEEDED
    assert SellerEvaluation.objects.filter(run=abandoned).count() == 1


def test_evaluate_run_task_executes_the_run():
    given_policy()
    SellerFactory.create_batch(2)
    run = runs.start_run(period=Period(2026, 10), trigger="manual")

    assert tasks.evaluate_run.delay(run.pk).get() == "succeeded"
    assert SellerEvaluation.objects.filter(run=run).count() == 2


def test_evaluate_run_marks_the_run_failed_when_retries_are_exhausted(monkeypatch):
    """A database that stays unreachable: on the last allowed attempt the run is failed."""
    given_policy()
    run = runs.start_run(period=Period(2026, 10), trigger="manual")

    def unreachable(*, run_id, ahead=False):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(runs, "prepare_run", unreachable)

    with pytest.raises(OperationalError):
        tasks.evaluate_run.apply(args=[run.pk], retries=tasks.MAX_RETRIES).get()

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Gave up after 3 retries: could not connect to server" in run.error


def test_evaluate_run_is_configured_for_redelivery_and_retries():
    task = tasks.evaluate_run

    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
    assert task.autoretry_for == (OperationalError,)
    assert task.max_retries == 3


def test_the_monthly_evaluation_is_scheduled_at_0005_on_the_1st():
    task = PeriodicTask.objects.get(name="Monthly seller evaluation")

    assert task.task == "metrics.tasks.evaluate_previous_month"
    assert task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month) == ("5", "0", "1")
    assert (crontab.day_of_week, crontab.month_of_year) == ("*", "*")
    assert str(crontab.timezone) == "Asia/Seoul"


def test_the_schedule_migration_is_reversible_and_idempotent():
    migration = importlib.import_module("metrics.migrations.0003_beat_schedule")

    migration.unschedule(apps, None)
    assert not PeriodicTask.objects.filter(name="Monthly seller evaluation").exists()
    migration.schedule(apps, None)
    migration.schedule(apps, None)
    assert PeriodicTask.objects.filter(name="Monthly seller evaluation").count() == 1
