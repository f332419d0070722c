"""Two workers executing the same run at once (a duplicate delivery): one result set (SPEC §6).

Real threads on real connections, so the data is committed (``transaction=True``).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from metrics import runs
from metrics.engine import compute
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from tests.factories import MessageFactory, aware
from tests.metrics.test_runs import a_seller, given_policy, given_sellers_with_orders

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_run_executed_twice_at_once_stores_one_result_per_seller():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer; the advisory lock is PostgreSQL's")
    given_policy()
    sellers = [a_seller() for _ in range(5)]
    run = runs.start_run(period=Period(2026, 10), trigger="manual")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def execute() -> None:
        try:
            start.wait()
            outcomes.append(runs.execute_run(run_id=run.pk).status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=execute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert SellerEvaluation.objects.filter(period="2026-10").count() == len(sellers)
    assert EvaluationRun.objects.get(pk=run.pk).seller_count == len(sellers)


def test_a_sweep_skips_a_run_another_sweeper_holds_locked():
    """SELECT … FOR UPDATE SKIP LOCKED: while one sweeper holds an expired run's row, another
    sweep re-queues nothing (and does not wait); once released, the run is re-queued once."""
    given_policy()
    run = runs.start_run(period=Period(2026, 10), trigger="manual")
    EvaluationRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    locked, release = threading.Event(), threading.Event()

    def other_sweeper() -> None:
        try:
            with transaction.atomic():
                EvaluationRun.objects.select_for_update().get(pk=run.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=other_sweeper)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        started = time.monotonic()
        assert runs.requeue_expired_runs(period=Period(2026, 10)) == []
        assert time.monotonic() - started < 5  # skipped, not waited for
    finally:
        release.set()
        holder.join(timeout=30)
    # released: re-queued once (eager here: its task has run the whole run at the commit)
    assert [r.pk for r in runs.requeue_expired_runs()] == [run.pk]
    assert runs.requeue_expired_runs() == []
    assert EvaluationRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED


def test_a_worker_keeps_its_lease_renewed_while_it_works(settings):
    """A step longer than the lease does not lose it: a thread renews it while the step runs,
    and stops renewing when the step ends."""
    settings.EVALUATION_LEASE_SECONDS = 1
    given_policy()
    run = runs.start_run(period=Period(2026, 10), trigger="manual")
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)

    with runs.lease.kept(run_id=run.pk):
        time.sleep(2.2)  # two leases long
        assert runs.expired_runs() == []
        renewed = EvaluationRun.objects.get(pk=run.pk).lease_expires_at

    assert renewed is not None and renewed > timezone.now()
    time.sleep(1.2)
    assert [r.pk for r in runs.expired_runs()] == [run.pk]  # nobody renews it any more


def results() -> dict[int, tuple[object, dict[str, object]]]:
    """Seller → (level, stored metrics) of the published 2026-10 evaluations."""
    return {
        e.seller_id: (e.level, e.metrics) for e in SellerEvaluation.objects.filter(period="2026-10")
    }


def test_a_run_in_this_process_applies_its_chunks_on_threads_with_the_serial_result(
    settings, monkeypatch
):
    """``manage.py evaluate`` outside a transaction: the chunk tasks on two threads (each its
    own connection) store exactly what one after the other stores, each chunk once."""
    if connection.vendor != "postgresql":
        pytest.skip("the threads apply only on PostgreSQL")
    sellers = given_sellers_with_orders(7, up_to=3)
    settings.EVALUATION_CHUNK_SIZE = 2  # four chunks
    applied: list[str] = []
    real = runs.chunks.compute_chunk

    def compute(**kwargs: object) -> bool:
        applied.append(threading.current_thread().name)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "compute_chunk", compute)

    settings.EVALUATION_IN_PROCESS_THREADS = 1
    serial = runs.execute_run(run_id=runs.start_run(period=Period(2026, 10), trigger="manual").pk)
    one_by_one = results()
    assert {name for name in applied} == {threading.current_thread().name}
    SellerEvaluation.objects.all().delete()
    applied.clear()

    settings.EVALUATION_IN_PROCESS_THREADS = 2
    threaded = runs.execute_run(run_id=runs.start_run(period=Period(2026, 10), trigger="manual").pk)

    assert serial.status == threaded.status == RunStatus.SUCCEEDED
    assert len(applied) == 4 and all(name.startswith("chunk") for name in applied)
    assert results() == one_by_one
    assert len(one_by_one) == len(sellers)
    assert {level for level, _ in one_by_one.values()} >= {"Silver", "Gold"}


def test_a_failing_chunk_on_a_thread_fails_the_run_with_its_own_error(settings, monkeypatch):
    """The chunk beside the failing one finds its run failed and stops quietly: the run keeps
    the failing chunk's error (it had been replaced by that neighbour's DoesNotExist)."""
    if connection.vendor != "postgresql":
        pytest.skip("the threads apply only on PostgreSQL")
    given_sellers_with_orders(4, up_to=3)
    settings.EVALUATION_CHUNK_SIZE = 2
    real = runs.chunks.compute_chunk

    def compute(**kwargs: object) -> bool:
        if kwargs["index"] == 1:
            raise ValueError("chunk 1 is broken")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "compute_chunk", compute)
    run = runs.start_run(period=Period(2026, 10), trigger="manual")

    with pytest.raises(ValueError, match="chunk 1 is broken"):
        runs.execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "chunk 1 is broken" in run.error
    assert not SellerEvaluation.objects.filter(period="2026-10").exists()


def test_a_run_in_this_process_walks_the_inquiries_ahead_with_the_same_result(
    settings, monkeypatch
):
    """While the figures statement runs, a second connection walks every chunk's inquiries;
    each chunk takes its own instead of walking, and the result is the chunks' own walks'."""
    if connection.vendor != "postgresql":
        pytest.skip("the walk ahead runs only on PostgreSQL")
    for index, seller in enumerate(given_sellers_with_orders(5, up_to=2)):
        for minutes in range(index + 1):  # inquiries, some answered late, one never
            asked = aware("2026-10-05 09:00") + timedelta(minutes=minutes)
            MessageFactory(seller=seller, conversation=f"c{minutes}", sent_at=asked)
            if minutes % 2 == 0:
                MessageFactory(
                    seller=seller,
                    conversation=f"c{minutes}",
                    sender="seller",
                    sent_at=asked + timedelta(hours=2 + 20 * minutes),
                )
    settings.EVALUATION_CHUNK_SIZE = 2  # three chunks
    walkers: list[str] = []
    real_walk = compute.window_inquiry_counts

    def walk(**kwargs: object) -> object:
        walkers.append(threading.current_thread().name)
        return real_walk(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compute, "window_inquiry_counts", walk)

    ahead = runs.execute_run(run_id=runs.start_run(period=Period(2026, 10), trigger="manual").pk)
    walked_ahead = results()
    assert walkers == ["walk-ahead"] * 3
    SellerEvaluation.objects.all().delete()
    walkers.clear()

    monkeypatch.setattr(runs.chunks, "_walk_ahead", lambda **kwargs: None)  # nothing ahead
    itself = runs.execute_run(run_id=runs.start_run(period=Period(2026, 10), trigger="manual").pk)

    assert ahead.status == itself.status == RunStatus.SUCCEEDED
    assert len(walkers) == 3 and all(name.startswith("chunk") for name in walkers)
    assert results() == walked_ahead
    assert {metrics["inquiries"] for _, metrics in walked_ahead.values()} == {1, 2, 3, 4, 5}
    assert runs.chunks._walked_ahead == {}
