"""Operating the runs (issue 10 #4, issue 23): the JSON log of each run's life, the deadline,
re-queueing a run or a chunk whose lease expired, and the timing settings' check."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from metrics import checks, runs, tasks
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
        "same"
        if row.level == row.previous_level
        else ("up" if RANKS[str(row.level)] > RANKS[str(row.previous_level)] else "down")
        for row in rows
    )
    assert october["sellers"] == rows.count() == len(climbers) + len(fallers) + 1
    assert {k: v for k, v in october["level_changes"].items() if v} == dict(expected)
    assert expected == {"up": 3, "down": 2, "same": 1}
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


def running_since(started, *, lease_until) -> EvaluationRun:
    with time_machine.travel(started, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=started, lease_expires_at=lease_until
    )
    return run


def test_a_run_open_past_the_deadline_is_marked_failed_and_its_period_can_run_again(
    settings, run_log, django_capture_on_commit_callbacks
):
    given_policy()
    a_seller()
    started = NOW - timedelta(seconds=settings.EVALUATION_DEADLINE_SECONDS + 1)
    stuck = running_since(started, lease_until=NOW + timedelta(seconds=60))  # a live lease

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


def test_a_run_just_under_the_deadline_is_left_running(settings):
    given_policy()
    started = NOW - timedelta(seconds=settings.EVALUATION_DEADLINE_SECONDS - 1)
    run = running_since(started, lease_until=NOW + timedelta(seconds=60))

    with time_machine.travel(NOW, tick=False):
        assert runs.fail_runs_past_deadline() == []

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_pending_run_no_worker_claimed_is_sent_again_once_its_lease_expires(
    settings, django_capture_on_commit_callbacks
):
    """The broker restarted empty: the run's message is gone, nothing would ever claim it."""
    given_policy()
    a_seller()
    with time_machine.travel(NOW, tick=False):
        lost = runs.start_run(period=Period(2026, 10), trigger="schedule")  # never enqueued
    delay = settings.EVALUATION_LEASE_SECONDS

    with time_machine.travel(NOW + timedelta(seconds=delay - 1), tick=False):
        assert runs.expired_runs() == []
        assert tasks.sweep_stale_runs.delay().get() == []
    with (
        time_machine.travel(NOW + timedelta(seconds=delay + 1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep_stale_runs.delay().get() == [lost.pk]

    lost.refresh_from_db()
    assert lost.status == RunStatus.SUCCEEDED


def test_the_check_refuses_a_deadline_below_the_visibility_timeout(settings):
    settings.EVALUATION_DEADLINE_SECONDS = 200
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}

    with pytest.raises(SystemCheckError, match="metrics.E001"):
        call_command("check")


def test_the_check_refuses_a_deadline_below_the_lease(settings):
    settings.EVALUATION_LEASE_SECONDS = 900
    settings.EVALUATION_DEADLINE_SECONDS = 600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}

    with pytest.raises(SystemCheckError, match="EVALUATION_LEASE_SECONDS \\(900\\)"):
        call_command("check")


def test_the_check_says_an_old_timing_name_is_deprecated(settings):
    settings.EVALUATION_DEPRECATED_TIMINGS = ["EVALUATION_STALE_AFTER_SECONDS"]

    warnings = [m for m in checks.run_timings() if m.id == "metrics.W001"]

    assert [m.msg for m in warnings] == ["EVALUATION_STALE_AFTER_SECONDS is deprecated."]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "120 3600 -"),
        (
            {"EVALUATION_STALE_AFTER_SECONDS": "90", "EVALUATION_STUCK_AFTER_SECONDS": "900"},
            "90 900 EVALUATION_STALE_AFTER_SECONDS,EVALUATION_STUCK_AFTER_SECONDS",
        ),
        (
            {"EVALUATION_STALE_AFTER_SECONDS": "90", "EVALUATION_LEASE_SECONDS": "30"},
            "30 3600 EVALUATION_STALE_AFTER_SECONDS",
        ),
        (
            {"EVALUATION_REQUEUE_PENDING_SECONDS": "5"},
            "120 3600 EVALUATION_REQUEUE_PENDING_SECONDS",
        ),
    ],
)
def test_the_old_timing_names_are_read_when_the_new_ones_are_not_set(environment, expected):
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings');"
        "django.setup(); from django.conf import settings as s;"
        "print(s.EVALUATION_LEASE_SECONDS, s.EVALUATION_DEADLINE_SECONDS,"
        " ','.join(s.EVALUATION_DEPRECATED_TIMINGS) or '-')"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVALUATION_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        env={**clean, **environment},
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.strip().splitlines()[-1] == expected


def test_a_chunk_whose_worker_died_is_sent_again_while_the_run_goes_on(
    settings, run_log, django_capture_on_commit_callbacks
):
    """Three chunks on three workers: one worker dies mid-chunk, the others keep renewing the
    run's lease, so the run lives on; the sweep re-queues that one chunk."""
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    sellers = [a_seller() for _ in range(3)]
    for seller in sellers:
        given_completed_orders(seller, count=1, at="2026-10-10 12:00")
    lease = timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)
    with time_machine.travel(NOW - lease - timedelta(seconds=5), tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
        assert runs.prepare_run(run_id=run.pk) == [0, 1, 2]
        runs.compute_chunk(run_id=run.pk, index=0)
    lost = RunChunk.objects.get(run=run, index=1)  # taken by a worker that died, lease expired
    RunChunk.objects.filter(pk=lost.pk).update(
        lease_owner="dead:1:1", lease_expires_at=NOW - timedelta(seconds=1)
    )
    with time_machine.travel(NOW - timedelta(seconds=1), tick=False):
        runs.compute_chunk(run_id=run.pk, index=2)  # the live worker renews the run's lease
    with time_machine.travel(NOW, tick=False):
        assert runs.expired_runs() == []  # the run as a whole is alive

        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.sweep_stale_runs.delay().get() == []  # no takeover needed

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert SellerEvaluation.objects.filter(period="2026-10").count() == 3
    sent = [e for e in run_log() if e["event"] == "run.chunk_sent_again"]
    assert [(e["run"], e["chunk"]) for e in sent] == [(run.pk, 1)]


def test_a_chunk_whose_lease_has_not_expired_is_left_to_its_worker(settings):
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    a_seller()
    a_seller()
    with time_machine.travel(NOW, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
        runs.prepare_run(run_id=run.pk)
    lease = timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)
    with time_machine.travel(NOW, tick=False):  # a worker takes chunk 0: its lease begins
        chunk = RunChunk.objects.get(run=run, index=0)
        runs.lease.renew(run_id=run.pk, chunk_id=chunk.pk, take=True)
    # Another worker keeps the run alive meanwhile.
    EvaluationRun.objects.filter(pk=run.pk).update(lease_expires_at=NOW + 2 * lease)

    with time_machine.travel(NOW + lease - timedelta(seconds=1), tick=False):
        assert runs.requeue_expired_chunks() == []
    with time_machine.travel(NOW + lease + timedelta(seconds=1), tick=False):
        assert runs.requeue_expired_chunks() == [(run.pk, 0)]
        assert runs.requeue_expired_chunks() == []  # re-queued once: not sent twice
    chunk.refresh_from_db()
    assert (chunk.lease_owner, chunk.lease_expires_at, chunk.done_at) == ("", None, None)


def test_the_chunks_of_a_run_gone_silent_are_left_to_the_run_s_requeue(settings):
    """No worker alive at all: the run is re-queued whole (its task sends every chunk not done,
    once), not chunk by chunk."""
    settings.EVALUATION_CHUNK_SIZE = 1
    given_policy()
    a_seller()
    with time_machine.travel(NOW, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
        runs.prepare_run(run_id=run.pk)
        runs.lease.renew(run_id=run.pk, chunk_id=RunChunk.objects.get(run=run).pk, take=True)
    lease = timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)

    with time_machine.travel(NOW + lease + timedelta(seconds=1), tick=False):
        assert runs.requeue_expired_chunks() == []
        assert [silent.pk for silent in runs.expired_runs()] == [run.pk]


def test_a_requeued_run_has_a_new_lease_and_the_next_sweep_leaves_it(
    settings, django_capture_on_commit_callbacks
):
    given_policy()
    with time_machine.travel(NOW, tick=False):
        run = runs.start_run(period=Period(2026, 10), trigger="schedule")
    later = NOW + timedelta(seconds=settings.EVALUATION_LEASE_SECONDS + 1)

    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks() as sent:
        first = runs.requeue_expired_runs()
        second = runs.requeue_expired_runs()

    assert [r.pk for r in first] == [run.pk] and second == []
    assert len(sent) == 1  # one task sent
    run.refresh_from_db()
    assert run.lease_expires_at == later + timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)


def test_a_worker_refuses_to_start_when_the_deadline_is_below_the_visibility_timeout(settings):
    from django.core.exceptions import ImproperlyConfigured

    from gradecraft.celery import refuse_inconsistent_run_timings

    refuse_inconsistent_run_timings()  # the defaults: it starts
    settings.EVALUATION_DEADLINE_SECONDS = 200
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}

    with pytest.raises(ImproperlyConfigured, match="metrics.E001"):
        refuse_inconsistent_run_timings()
