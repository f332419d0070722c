"""``manage.py runs``: the runs, newest first, with status, progress and duration."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from metrics import runs
from metrics.engine.periods import Period
from tests.factories import aware
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = pytest.mark.django_db


def output(*args: str) -> list[str]:
    out = StringIO()
    call_command("runs", *args, stdout=out)
    return out.getvalue().splitlines()


def test_no_runs_is_said_plainly():
    assert output() == ["No evaluation runs."]


def test_runs_are_listed_newest_first_with_progress_and_the_open_one(settings):
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    for _ in range(2):
        given_completed_orders(a_seller(), count=1, at="2026-09-10 10:00")
    with time_machine.travel(aware("2026-10-01 00:05"), tick=False):
        runs.evaluate_period(period=Period(2026, 9))
    open_run = runs.start_run(period=Period(2026, 10), trigger="schedule")
    runs.claim_run(run_id=open_run.pk)

    lines = output()

    assert lines[0].split()[:4] == ["id", "period", "status", "trigger"]
    newest, older = lines[1].split(), lines[2].split()
    assert newest[1:5] == ["2026-10", "running", "schedule", "0/2"]
    assert older[1:6] == ["2026-09", "succeeded", "manual", "2/2", "2"]
    assert older[7] == "0.0s"  # started and finished at the same frozen instant


def test_the_list_can_be_narrowed_to_a_period():
    given_policy()
    runs.start_run(period=Period(2026, 8), trigger="manual")
    runs.start_run(period=Period(2026, 9), trigger="manual")

    lines = output("--period", "2026-08")

    assert len(lines) == 2
    assert lines[1].split()[1] == "2026-08"
