"""Chunk processes (``metrics.runs.chunks.ChunkProcesses``): a run executed in this process
grades its chunks in processes beside it, and stores exactly what threads store.

Real processes on real connections, so the data is committed (``transaction=True``). The
processes see the test database because the parent hands them its connection settings, never
through the settings module; they do not see the suite's clock shift, so these tests compare
what is stored, never timestamps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import RunChunk, RunStatus, SellerEvaluation
from metrics.runs import chunks
from tests.metrics.test_runs import given_sellers_with_orders

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
OCT = Period(2026, 10)


def stored() -> dict[int, tuple[Any, ...]]:
    return {
        seller_id: (level, metrics, criteria, next_level)
        for seller_id, level, metrics, criteria, next_level in SellerEvaluation.objects.filter(
            period=str(OCT)
        ).values_list("seller_id", "level", "metrics", "criteria", "next_level")
    }


def chunk_pids(run_id: int) -> list[int]:
    """The process of each chunk's taker (its lease owner is host:pid:thread)."""
    owners = RunChunk.objects.filter(run_id=run_id).values_list("lease_owner", flat=True)
    return [int(owner.split(":")[1]) for owner in owners]


@pytest.fixture
def sellers_with_orders() -> list[int]:
    if connection.vendor != "postgresql":
        pytest.skip("chunk processes run on PostgreSQL only")
    return [seller.pk for seller in given_sellers_with_orders(9, up_to=4)]


def test_spawned_chunk_processes_store_what_threads_store(settings, sellers_with_orders):
    settings.EVALUATION_CHUNK_SIZE = 2  # five chunks
    settings.EVALUATION_IN_PROCESS_PROCESSES = 0
    threaded = runs.execute_run(run_id=runs.start_run(period=OCT, trigger="manual").pk)
    by_threads = stored()
    assert set(chunk_pids(threaded.pk)) == {os.getpid()}
    SellerEvaluation.objects.all().delete()

    settings.EVALUATION_IN_PROCESS_PROCESSES = 2
    run = runs.execute_run(run_id=runs.start_run(period=OCT, trigger="manual").pk)

    assert threaded.status == run.status == RunStatus.SUCCEEDED
    pids = chunk_pids(run.pk)
    assert len(pids) == 5
    assert set(pids) - {os.getpid()}, "no chunk was graded in a chunk process"
    assert stored() == by_threads
    assert len(by_threads) == len(sellers_with_orders)
    assert {level for level, *_ in by_threads.values()} == {"Bronze", "Silver", "Gold"}
    assert chunks._processes == {}  # the run's processes are gone with it


def test_the_evaluate_command_forks_its_chunk_processes_before_its_first_query(
    sellers_with_orders,
):
    """``manage.py evaluate`` (its own process, no connection open yet): the chunk processes are
    forked, and they grade chunks beside the command's own thread."""
    db = django_settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gradecraft.settings",
        "DATABASE_URL": (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "EVALUATION_IN_PROCESS_PROCESSES": "1",
        "EVALUATION_CHUNK_SIZE": "2",
        "CELERY_BROKER_URL": "",
    }
    command = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "evaluate", "--period", str(OCT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = command.communicate(timeout=120)
    assert command.returncode == 0, err
    assert f"Evaluated {OCT}" in out

    run = SellerEvaluation.objects.filter(period=str(OCT)).first().run  # type: ignore[union-attr]
    pids = chunk_pids(run.pk)
    assert len(pids) == 5
    assert command.pid in pids  # the command's own thread took chunks
    assert set(pids) - {command.pid}, "no chunk was graded in a forked chunk process"
    assert len(stored()) == len(sellers_with_orders)


def test_no_fork_while_a_connection_is_open(settings, sellers_with_orders):
    """A forked child would inherit the open connection: ``forked_processes`` does not fork,
    and the run spawns its processes instead."""
    settings.EVALUATION_IN_PROCESS_PROCESSES = 1
    connection.ensure_connection()
    with chunks.forked_processes():
        assert chunks._forked is None


def test_a_chunk_failing_in_a_chunk_process_fails_the_run_with_its_error(
    settings, monkeypatch, sellers_with_orders
):
    """The error of a chunk graded in a spawned process reaches this process (raised once every
    chunk ended) and the run, failed with that error; the chunks this process took after the
    failure stop quietly."""
    settings.EVALUATION_CHUNK_SIZE = 2
    settings.EVALUATION_IN_PROCESS_PROCESSES = 2
    # What the chunk processes set up (only they read it): every chunk they take fails.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.chunk_failure.settings")
    run = runs.start_run(period=OCT, trigger="manual")

    with pytest.raises(ValueError, match="is broken in a chunk process"):
        runs.execute_run(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "is broken in a chunk process" in run.error
    assert not SellerEvaluation.objects.filter(period=str(OCT)).exists()
