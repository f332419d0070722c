"""Computing a run's chunks (SPEC §6): each chunk's metrics, grades and staged rows.

A run executes one way: ``metrics.tasks.evaluate_run`` prepares it and sends one
``metrics.tasks.evaluate_chunk`` per chunk, whose body is ``compute_chunk``; on workers, or in
this process (``execute_run``, the ``evaluate`` command; eager tasks): the same tasks, applied
here (``apply_chunks``: on a few threads on PostgreSQL, else one after the other). The dry
run (``period_grades.grade_period``) grades the same chunks with the same ``grade_chunk``, from
figures held in memory instead of stored. Memory stays bounded by a chunk either way.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from common.pgcopy import copy_rows
from metrics import chunk_process
from metrics.engine.compute import InquiryCounts, resolution_figures, stored_run_figures
from metrics.engine.grading import (
    JsonText,
    PolicySnapshot,
    criteria_json_text,
    metrics_json_text,
    next_level_to_json,
)
from metrics.engine.periods import Period
from metrics.engine.windows import snapshot_needs
from metrics.models import (
    EvaluationRun,
    RunChunk,
    RunStatus,
    StagedEvaluation,
)
from metrics.runs.lease import kept, renew
from metrics.runs.lifecycle import (
    EVALUATE_RUN_TASK,
    STAGED_COLUMNS,
    claim_run,
    more_work_mem,
    store_figures,
)
from metrics.runs.period_grades import SellerGrade, chunk_inquiries, grade_chunk, run_windows
from orders.models import Seller

logger = logging.getLogger(__name__)


# Rows per INSERT when a chunk stages its results.
INSERT_BATCH_SIZE = 500


def prepare_run(*, run_id: int, ahead: bool = False) -> list[int]:
    """Claim the run, store its figures, and return the indexes of the chunks still to compute.

    The first call snapshots the policy and cuts the chunks (``claim_run``), then stores every
    seller's order and review figures (``store_figures``) under the run's lease; a later call
    (a retry, a re-queue) keeps all of that and returns the chunks that are not done. A
    succeeded run returns [].

    On PostgreSQL outside a transaction, a second connection computes the resolution figures
    while the figures statement runs without them (``compute.resolution_figures``: most of
    that statement, and all of this, runs on one core). ``ahead`` (a run executed in this
    process): a third walks the chunks' inquiries meanwhile (they need no figures), for
    ``compute_chunk`` to take instead of walking them itself.
    """
    pending = claim_run(run_id=run_id)
    if not pending:
        return pending
    with kept(run_id=run_id):
        if not _threads_allowed():
            store_figures(run_id=run_id)
            return pending
        walker = None
        if ahead:
            walker = threading.Thread(
                target=_walk_ahead, kwargs={"run_id": run_id, "indexes": pending}, name="walk-ahead"
            )
            walker.start()
        with ThreadPoolExecutor(1, thread_name_prefix="resolutions") as beside:
            resolved = beside.submit(_resolution_figures, run_id=run_id)
            try:
                store_figures(run_id=run_id, resolutions=resolved.result)
            finally:
                if walker is not None:
                    walker.join()
    return pending


def _resolution_figures(*, run_id: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The run's resolution figures, on this thread's own connection (``prepare_run``)."""
    try:
        snapshot, period = _snapshot_and_period(run_id=run_id)
        windows = run_windows(period=period, snapshot=snapshot)
        with transaction.atomic():
            more_work_mem()
            return resolution_figures(windows=windows, needs=snapshot_needs(snapshot))
    finally:
        connections.close_all()  # this thread's own connection


def _snapshot_and_period(*, run_id: int) -> tuple[PolicySnapshot, Period]:
    run = EvaluationRun.objects.only("period", "policy_snapshot").get(pk=run_id)
    return PolicySnapshot.from_json(run.policy_snapshot), Period.parse(run.period)


# A chunk's inquiries walked ahead: the sellers walked, and their InquiryCounts.
Walked = tuple[frozenset[int], dict[int, list[InquiryCounts]]]

# Inquiries walked ahead for chunks of a run executed in this process (``prepare_run``'s
# ``ahead``), by (run id, chunk index). Each chunk takes its own once; without one (on workers,
# or when the walk ahead failed) it walks.
_walked_ahead: dict[tuple[int, int], Walked] = {}
_walked_ahead_lock = threading.Lock()


def _threads_allowed() -> bool:
    """Threads with connections of their own: on PostgreSQL, outside a transaction (a test's
    would hide its rows from them)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _walk_ahead(*, run_id: int, indexes: Sequence[int]) -> None:
    try:
        snapshot, period = _snapshot_and_period(run_id=run_id)
        todo = list(RunChunk.objects.filter(run_id=run_id, index__in=indexes).order_by("index"))
        every = list(  # the chunks' sellers, in one query
            Seller.objects.filter(pk__gte=todo[0].first_seller_id, pk__lte=todo[-1].last_seller_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for chunk in todo:
            first = bisect_left(every, chunk.first_seller_id)
            sellers = every[first : bisect_right(every, chunk.last_seller_id)]
            walked = chunk_inquiries(seller_ids=sellers, period=period, snapshot=snapshot)
            with _walked_ahead_lock:
                _walked_ahead[(run_id, chunk.index)] = (frozenset(sellers), walked)
    except Exception:  # an optimisation only: the chunks walk for themselves
        logger.warning("Could not walk the inquiries of run %s ahead", run_id, exc_info=True)
    finally:
        connections.close_all()  # this thread's own connection
        processes = _processes.get(run_id)
        if processes is not None:  # the rest of the figures statement runs on one core
            processes.start()


def _pop_walked_ahead(*, run_id: int, index: int) -> Walked | None:
    with _walked_ahead_lock:
        return _walked_ahead.pop((run_id, index), None)


def _take_walked_ahead(
    *, run_id: int, index: int, sellers: Sequence[int]
) -> dict[int, list[InquiryCounts]] | None:
    """The chunk's inquiries walked ahead, if they were, for exactly these sellers."""
    found = _pop_walked_ahead(run_id=run_id, index=index)
    if found is None or found[0] != frozenset(sellers):
        return None
    return found[1]


def forget_walked_ahead(*, run_id: int) -> None:
    """Drop what is left of a run's walks ahead (a chunk done by another delivery, a failure)."""
    with _walked_ahead_lock:
        for key in [key for key in _walked_ahead if key[0] == run_id]:
            del _walked_ahead[key]


def compute_chunk(*, run_id: int, index: int) -> bool:
    """Compute, grade and stage one chunk of the run under its lease; True when every chunk of
    the run is done.

    Idempotent: a chunk already done is left alone; a chunk of a run that is no longer running
    (failed, or published by a duplicate) does nothing; a chunk two deliveries compute at once
    is staged once (under its row's lock).
    """
    run = EvaluationRun.objects.only(
        "period", "status", "policy_snapshot", "figures_stored_at"
    ).get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return False
    chunk = RunChunk.objects.filter(run_id=run_id, index=index).first()
    if chunk is None:  # the run failed meanwhile (its chunks are dropped with it)
        return False
    if chunk.done_at is None:
        with kept(run_id=run_id, chunk_id=chunk.pk):
            if run.figures_stored_at is None:  # never graded without them (idempotent)
                store_figures(run_id=run_id)
            snapshot = PolicySnapshot.from_json(run.policy_snapshot)
            figures, own_figures = stored_run_figures(
                run_id=run_id, first=chunk.first_seller_id, last=chunk.last_seller_id
            )
            period = Period.parse(run.period)
            graded = grade_chunk(
                seller_ids=list(figures),
                period=period,
                snapshot=snapshot,
                figures=figures,
                own_figures=own_figures,
                inquiries=_take_walked_ahead(run_id=run_id, index=index, sellers=list(figures)),
            )
            rows = [_staged_values(run_id=run_id, item=item, snapshot=snapshot) for item in graded]
            with transaction.atomic():
                locked = RunChunk.objects.select_for_update().filter(pk=chunk.pk).first()
                if locked is None:  # the run failed meanwhile: nothing of it is staged any more
                    return False
                if locked.done_at is None:  # not finished meanwhile by a duplicate delivery
                    StagedEvaluation.objects.filter(
                        run_id=run_id,
                        seller_id__gte=chunk.first_seller_id,
                        seller_id__lte=chunk.last_seller_id,
                    ).delete()
                    _stage(rows)
                    locked.done_at = timezone.now()
                    locked.save(update_fields=["done_at"])
        renew(run_id=run_id)
    return not RunChunk.objects.filter(run_id=run_id, done_at__isnull=True).exists()


def apply_chunks(task: Task, *, run_id: int, indexes: Sequence[int]) -> None:
    """Apply ``task`` (the chunk task) to each chunk here, eagerly: this process and the run's
    chunk processes (``execute_run`` started them) take the chunks one at a time from one
    queue; without them, ``EVALUATION_IN_PROCESS_THREADS`` threads (each with its own
    connection) on PostgreSQL outside a transaction, else one after the other. Each chunk is
    the same task workers run, under its own lease; the one that completes the run publishes
    it (``finalize_run`` is idempotent, as with two workers). The first error is raised here
    once every chunk ended."""
    processes = _processes.get(run_id)
    if processes is not None:
        processes.apply(task, run_id=run_id, indexes=indexes)
        return
    threads = min(settings.EVALUATION_IN_PROCESS_THREADS, len(indexes))
    if threads <= 1 or not _threads_allowed():
        for index in indexes:
            task.apply(args=[run_id, index], throw=True)
        return

    def apply(index: int) -> None:
        try:
            task.apply(args=[run_id, index], throw=True)
        finally:
            connections.close_all()  # this thread's own connections

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="chunk") as pool:
        futures = [pool.submit(apply, index) for index in indexes]
    _raise_first(futures)


def _raise_first(futures: Sequence[Future[Any]]) -> None:
    wait(futures)
    for future in futures:
        future.result()


def execute_run(*, run_id: int) -> EvaluationRun:
    """Every step of the run in this process: the run's task and each of its chunk tasks,
    applied here (exactly what workers run; errors are raised here); on PostgreSQL outside a
    transaction, with ``EVALUATION_IN_PROCESS_PROCESSES`` chunk processes beside this one:
    those forked earlier (``forked_processes``), else spawned for this run."""
    processes = None  # spawned for this run, shut down with it
    if settings.EVALUATION_IN_PROCESS_PROCESSES > 0 and _threads_allowed():
        if _forked is not None:
            _processes[run_id] = _forked
        else:
            count = settings.EVALUATION_IN_PROCESS_PROCESSES
            processes = _processes[run_id] = ChunkProcesses(count=count, method="spawn")
    try:
        current_app.tasks[EVALUATE_RUN_TASK].apply(
            args=[run_id], kwargs={"in_process": True}, throw=True
        )
    finally:
        _processes.pop(run_id, None)
        if processes is not None:
            processes.shutdown()
    return EvaluationRun.objects.get(pk=run_id)


class ChunkProcesses:
    """Processes that apply chunk tasks for runs executed in this process (``execute_run``).

    A chunk is mostly Python (grading, its JSON), which threads run one at a time; processes
    run it side by side. This process grades chunks too: each of its threads hands one chunk
    at a time to a process, and its own thread applies chunks itself, all from one queue. A
    process that dies breaks the pool: its chunks are then applied here (idempotent).

    Two ways to start them, never a fork of a process that holds database connections (a
    forked child inherits them; in the full test suite one used them: garbled rows, "server
    closed the connection"):

    - ``fork`` (``forked_processes``): before this process opens any connection, with one
      thread: the children start with Django set up, at no cost.
    - ``spawn``: a new Python that sets Django up (~0.7 s of one core), given this process's
      databases (a test database's name is set at run time, not in the settings module);
      started when the walk ahead is done, while the figures statement finishes on one core.

    bench/README.md has the figures.
    """

    def __init__(self, *, count: int, method: str) -> None:
        self.count = count
        self.method = method
        # What a spawned process connects to (a forked one inherits it).
        self.databases = (
            {alias: dict(connections[alias].settings_dict) for alias in connections}
            if method == "spawn"
            else {}
        )
        self.pool: ProcessPoolExecutor | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the processes (once; from any thread)."""
        with self.lock:
            if self.pool is not None:
                return
            context = multiprocessing.get_context(self.method)
            if self.method == "spawn":
                self.pool = ProcessPoolExecutor(
                    max_workers=self.count,
                    mp_context=context,
                    initializer=chunk_process.start,
                    initargs=(_settings_module(), self.databases),
                )
            else:  # forked: Django is set up already, and no connection is open
                self.pool = ProcessPoolExecutor(max_workers=self.count, mp_context=context)
            for _ in range(self.count):  # start each now: a spawning pool starts them on demand
                self.pool.submit(int)

    def shutdown(self) -> None:
        with self.lock:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def apply(self, task: Task, *, run_id: int, indexes: Sequence[int]) -> None:
        self.start()
        queue = deque(indexes)
        taken = threading.Lock()

        def take() -> int | None:
            with taken:
                return queue.popleft() if queue else None

        def hand_over() -> None:  # one thread per process: a chunk at a time
            while (index := take()) is not None:
                walked = _pop_walked_ahead(run_id=run_id, index=index)
                try:
                    assert self.pool is not None
                    self.pool.submit(
                        apply_here, task.name, run_id=run_id, index=index, walked=walked
                    ).result()
                except BrokenProcessPool:
                    logger.warning("A chunk process broke: chunk %s of run %s runs here",
                                   index, run_id)  # fmt: skip
                    try:
                        task.apply(args=[run_id, index], throw=True)
                    finally:
                        connections.close_all()  # this thread's own connections

        with ThreadPoolExecutor(max_workers=self.count, thread_name_prefix="chunk") as threads:
            futures = [threads.submit(hand_over) for _ in range(self.count)]
            try:
                while (index := take()) is not None:
                    task.apply(args=[run_id, index], throw=True)
            finally:
                wait(futures)
        _raise_first(futures)


def _settings_module() -> str:
    """This process's settings module (``SETTINGS_MODULE`` is None under a test's overrides)."""
    return os.environ.get("DJANGO_SETTINGS_MODULE") or str(settings.SETTINGS_MODULE)


# The chunk processes of the runs this process executes (``execute_run``), by run id; and
# those forked before any connection was opened (``forked_processes``).
_processes: dict[int, ChunkProcesses] = {}
_forked: ChunkProcesses | None = None


@contextmanager
def forked_processes() -> Iterator[None]:
    """Fork the chunk processes of the runs this process will execute, now: call it before
    this process opens a database connection (the ``evaluate`` command does, first thing).
    Forked only when that is so: one thread, no open connection; otherwise ``execute_run``
    spawns them."""
    global _forked
    count = int(settings.EVALUATION_IN_PROCESS_PROCESSES)
    opened = [c for c in connections.all(initialized_only=True) if c.connection is not None]
    if count <= 0 or connection.vendor != "postgresql" or opened or threading.active_count() > 1:
        yield
        return
    processes = ChunkProcesses(count=count, method="fork")
    processes.start()
    _forked = processes
    try:
        yield
    finally:
        _forked = None
        processes.shutdown()


def apply_here(
    task_name: str,
    *,
    run_id: int,
    index: int,
    walked: Walked | None,
) -> None:
    """In a chunk process: the chunk task, with the inquiries the run's parent walked ahead."""
    if walked is not None:
        with _walked_ahead_lock:
            _walked_ahead[(run_id, index)] = walked
    try:
        current_app.tasks[task_name].apply(args=[run_id, index], throw=True)
    finally:
        forget_walked_ahead(run_id=run_id)


def _stage(rows: list[tuple[Any, ...]]) -> None:
    """Insert a chunk's staged rows (``_staged_values``, in ``("run_id", *STAGED_COLUMNS)``
    order): COPY on PostgreSQL (``common.pgcopy``; at scale S, 10,000 rows of ~2.8 kB of JSON
    took 1.75 s as CSV COPY of model instances), bulk INSERTs elsewhere."""
    columns = ("run_id", *STAGED_COLUMNS)
    if connection.vendor != "postgresql":
        decoded = [
            [json.loads(value) if isinstance(value, JsonText) else value for value in row]
            for row in rows
        ]
        StagedEvaluation.objects.bulk_create(
            [StagedEvaluation(**dict(zip(columns, row, strict=True))) for row in decoded],
            batch_size=INSERT_BATCH_SIZE,
        )
        return
    copy_rows(StagedEvaluation._meta.db_table, columns, rows)


def _staged_values(*, run_id: int, item: SellerGrade, snapshot: PolicySnapshot) -> tuple[Any, ...]:
    """A graded seller as a staged row: ``("run_id", *STAGED_COLUMNS)`` in order; its metrics
    and criteria as JSON text written directly (``JsonText``: ~55 values a seller)."""
    result = item.result
    values = {
        "seller_id": item.seller_id,
        "level": result.level,
        "level_rank": snapshot.rank_of(result.level),
        "computed_level": result.computed_level,
        "previous_level": item.previous_level,
        "at_risk": result.at_risk,
        "grace_used": result.grace_used,
        "metrics": metrics_json_text(item.metrics),
        "criteria": criteria_json_text(result, snapshot),
        "next_level": next_level_to_json(result.next_level),
    }
    return (run_id, *(values[column] for column in STAGED_COLUMNS))
