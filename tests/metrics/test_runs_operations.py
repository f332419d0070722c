"""Operating the runs (issue 10 #4): the JSON log of each run's life, the stuck-run detector,
re-sending a run whose message was lost, and the timing settings' check."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from metrics import runs, tasks
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunChunk, RunStatus, SellerEvaluation
from tests.factories import aware
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = pytest.mark.django_db

NOW = aware("2026-11-03 10:00")
RANKS = {"Bronze": 1, "Silver": 2, "Gold": 3}


@pytest.fixture
def run_log():
    """The run events as the deployed logging writes them: JSON lines on their handler."""
    handler = logging.getLogger("metrics.runs.events").handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]

    def events() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield events
    handler.setStream(previous)  # type: ignore[attr-defined]


def test_each_published_run_logs_one_json_line_with_its_sellers_duration_and_level_changes(
    run_log, django_capture_on_commit_callbacks
):
    given_policy()
    climbers = [a_seller() for _ in range(3)]
    fallers = [a_seller() for _ in range(2)]
    for seller in climbers:
        given_completed_orders(seller, count=3, at="2026-10-10 12:00")
    for seller in fallers:
        given_completed_orders(seller, count=1, at="2026-09-10 12:00")
    a_seller()  # idle: evaluated too (Bronze, unchanged)
    with (
        time_machine.travel(NOW, tick=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        runs.request_run(period=Period(2026, 9), trigger="manual")
    with (
        time_machine.travel(NOW, tick=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        runs.request_run(period=Period(2026, 10), trigger="manual")

    events = run_log()

    published = [e for e in events if e["event"] == "run.published"]
    assert [e["period"] for e in published] == ["2026-09", "2026-10"]
    october = published[-1]
    rows = SellerEvaluation.objects.filter(period="2026-10")
    expected = Counter(
        "unchanged"
        if row.level == row.previous_level
        else ("up" if RANKS[str(row.level)] > RANKS[str(row.previous_level)] else "down")
        for row in rows
    )
    assert october["sellers"] == rows.count() == len(climbers) + len(fallers) + 1
    assert {k: v for k, v in october["level_changes"].items() if v} == dict(expected)
    assert expected == {"up": 3, "down": 2, "unchanged": 1}
    assert october["level_counts"] == {"Bronze": 3, "Silver": 0, "Gold": 3, "none": 0}
    assert october["status"] == "succeeded" and october["logger"] == "metrics.runs.events"
    assert isinstance(october["duration_seconds"], float) and october["duration_seconds"] >= 0
    assert {"run.claimed", "run.published"} <= {e["event"] for e in events}


def test_a_failed_run_logs_its_error(run_log):
    given_policy()
    with time_machine.travel(NOW, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="manual")
        runs.mark_failed(run_id=run.pk, error="RuntimeError: disk full")

    failed = [e for e in run_log() if e["event"] == "run.failed"]

    assert failed == [failed[0]] and failed[0]["error"] == "RuntimeError: disk full"
    assert failed[0]["run"] == run.pk and failed[0]["status"] == "failed"


def running_since(started, *, heartbeat) -> EvaluationRun:
    with time_machine.travel(started, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=started, heartbeat_at=heartbeat
    )
    return run


def test_a_run_open_past_the_stuck_limit_is_marked_failed_and_its_period_can_run_again(
    settings, run_log, django_capture_on_commit_callbacks
):
    given_policy()
    a_seller()
    started = NOW - timedelta(seconds=settings.EVALUATION_STUCK_AFTER_SECONDS + 1)
    stuck = running_since(started, heartbeat=NOW)  # a heartbeat, yet open for too long

    with time_machine.travel(NOW, tick=False):
        tasks.sweep_stale_runs.delay().get()

    stuck.refresh_from_db()
    assert stuck.status == RunStatus.FAILED and stuck.error.startswith("Stuck:")
    assert [e["run"] for e in run_log() if e["event"] == "run.failed"] == [stuck.pk]
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = runs.request_run(period=Period(2026, 10), trigger="manual")
    again.refresh_from_db()
    assert again.pk != stuck.pk and again.status == RunStatus.SUCCEEDED


def test_a_run_just_under_the_stuck_limit_is_left_running(settings):
    given_policy()
    started = NOW - timedelta(seconds=settings.EVALUATION_STUCK_AFTER_SECONDS - 1)
    run = running_since(started, heartbeat=NOW)

    with time_machine.travel(NOW, tick=False):
        assert runs.fail_stuck_runs() == []

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_pending_run_no_worker_claimed_is_sent_again_after_the_requeue_delay(
    settings, django_capture_on_commit_callbacks
):
    """The broker restarted empty: the run's message is gone, nothing would ever claim it."""
    given_policy()
    a_seller()
    with time_machine.travel(NOW, tick=False):
        lost = runs.start_run(period=Period(2026, 10), trigger="schedule")  # never enqueued
    delay = settings.EVALUATION_REQUEUE_PENDING_SECONDS

    with time_machine.travel(NOW + timedelta(seconds=delay - 1), tick=False):
        assert runs.stale_runs() == []
    with (
        time_machine.travel(NOW + timedelta(seconds=delay + 1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep_stale_runs.delay().get() == [lost.pk]

    lost.refresh_from_db()
    assert lost.status == RunStatus.SUCCEEDED


def test_the_check_refuses_a_stuck_limit_below_the_visibility_timeout(settings):
    settings.EVALUATION_STUCK_AFTER_SECONDS = 200
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}

    with pytest.raises(SystemCheckError, match="metrics.E001"):
        call_command("check")


def test_the_default_timings_pass_the_check():
    call_command("check")


def test_a_chunk_whose_worker_died_is_sent_again_while_the_run_goes_on(
    settings, run_log, django_capture_on_commit_callbacks
):
    """Three chunks on three workers: one worker dies mid-chunk, the others keep the run's
    heartbeat fresh, so the run is never stale; the sweep sends that one chunk again."""
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    sellers = [a_seller() for _ in range(3)]
    for seller in sellers:
        given_completed_orders(seller, count=1, at="2026-10-10 12:00")
    stale = timedelta(seconds=settings.EVALUATION_STALE_AFTER_SECONDS)
    with time_machine.travel(NOW - stale - timedelta(seconds=5), tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
        assert runs.prepare_run(run_id=run.pk) == [0, 1, 2]
        runs.compute_chunk(run_id=run.pk, index=0)
    lost = RunChunk.objects.get(run=run, index=1)
    RunChunk.objects.filter(pk=lost.pk).update(started_at=NOW - stale - timedelta(seconds=1))
    with time_machine.travel(NOW - timedelta(seconds=1), tick=False):
        runs.compute_chunk(run_id=run.pk, index=2)  # the live worker: fresh heartbeat
    with time_machine.travel(NOW, tick=False):
        assert runs.stale_runs() == []  # the run as a whole looks alive

        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.sweep_stale_runs.delay().get() == []  # no takeover needed

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert SellerEvaluation.objects.filter(period="2026-10").count() == 3
    sent = [e for e in run_log() if e["event"] == "run.chunk_sent_again"]
    assert [(e["run"], e["chunk"]) for e in sent] == [(run.pk, 1)]


def test_a_chunk_begun_just_under_the_stale_limit_is_left_to_its_worker(settings):
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    a_seller()
    a_seller()
    with time_machine.travel(NOW, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
        runs.prepare_run(run_id=run.pk)
    stale = timedelta(seconds=settings.EVALUATION_STALE_AFTER_SECONDS)
    RunChunk.objects.filter(run=run, index=0).update(started_at=NOW)
    # Another worker keeps the run alive meanwhile.
    EvaluationRun.objects.filter(pk=run.pk).update(heartbeat_at=NOW + stale)

    with time_machine.travel(NOW + stale - timedelta(seconds=1), tick=False):
        assert runs.redispatch_stalled_chunks() == []
    with time_machine.travel(NOW + stale + timedelta(seconds=1), tick=False):
        assert runs.redispatch_stalled_chunks() == [(run.pk, 0)]
        assert runs.redispatch_stalled_chunks() == []  # claimed once: not sent twice


def test_the_chunks_of_a_run_gone_silent_are_left_to_the_takeover(settings):
    """No worker alive at all: taking the run over sends every chunk not done, once."""
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    a_seller()
    with time_machine.travel(NOW, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
        runs.prepare_run(run_id=run.pk)
    RunChunk.objects.filter(run=run, index=0).update(started_at=NOW)
    stale = timedelta(seconds=settings.EVALUATION_STALE_AFTER_SECONDS)

    with time_machine.travel(NOW + stale + timedelta(seconds=1), tick=False):
        assert runs.redispatch_stalled_chunks() == []
        assert [silent.pk for silent in runs.stale_runs()] == [run.pk]
