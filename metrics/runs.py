"""Evaluation runs (SPEC §6): start, fan out, finalize and take over one period's run.

Services, so they write. The life of a run:

1. ``start_run`` creates it ``pending``. The partial unique constraint
   ``one_open_run_per_period`` makes the database refuse a second open run of a period
   (``RunAlreadyOpen``): concurrency lives in the database, not in process memory.
2. ``prepare_run`` (one transaction) marks it ``running``, snapshots the policy, stores every
   seller's all-time figures once (``compute.store_run_totals``: one INSERT ... SELECT) and cuts
   the sellers into ``RunChunk`` rows of ``chunk_size()`` sellers by primary key.
3. ``compute_chunk`` computes and grades one chunk and stages its rows (``StagedEvaluation``)
   in one short transaction that also marks the chunk done; a redelivered chunk finds itself
   done, or replaces its own staged rows, so it never duplicates one. Chunks are independent:
   the Celery task ``metrics.tasks.evaluate_chunk`` runs them on any number of workers.
4. ``finalize_run``, once every chunk is done, publishes the period in ONE transaction: the
   period's old ``SellerEvaluation`` rows out, the staged rows in (INSERT ... SELECT), the run
   ``succeeded``. A reader never sees two rows per seller and period nor a half-written period.
5. Any error marks the run ``failed``. A run whose workers went silent (a machine died: no
   heartbeat for ``stale_after()``) is taken over by the periodic sweep or by a new trigger of
   its period (``take_over_stale_run``): the chunks that are not done are dispatched again.

``execute_run`` does 2–4 in this process (the ``evaluate`` command, tests); the Celery tasks do
the same steps spread over workers. Memory stays bounded by one chunk either way.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from common.errors import Conflict
from orders.models import Seller

from .compute import (
    Figures,
    InquiryCounts,
    inquiry_counts,
    seller_figures,
    seller_metrics,
    store_run_figures,
    stored_run_figures,
)
from .grading import GradeResult, PolicySnapshot, exact_to_json, grade, result_to_json
from .models import (
    EvaluationRun,
    GradePolicy,
    RunChunk,
    RunSellerFigures,
    RunStatus,
    RunTrigger,
    SellerEvaluation,
    StagedEvaluation,
)
from .periods import Period, Window, window_for_period
from .policy import active_policy, snapshot_of
from .registry import Metrics

logger = logging.getLogger(__name__)


def chunk_size() -> int:
    """Sellers per chunk (one task): ``EVALUATION_CHUNK_SIZE`` (settings: how it was measured)."""
    return int(settings.EVALUATION_CHUNK_SIZE)


# Rows per INSERT when a chunk stages its results.
INSERT_BATCH_SIZE = 500
# No marketplace data predates this; even the longest window allowed (1,200 months or
# 36,500 days) of this period is a representable datetime.
EARLIEST_PERIOD = Period(1900, 1)
NO_LEVEL = "none"  # level_counts key of sellers that reach no level
EVALUATE_RUN_TASK = "metrics.tasks.evaluate_run"
# Namespace of the advisory locks (int4): "gc" in ASCII. The key is the period as YYYYMM.
_LOCK_NAMESPACE = 0x6763


def stale_after() -> timedelta:
    """A run with no sign of life (heartbeat) for this long is taken over (a dead worker)."""
    return timedelta(seconds=settings.EVALUATION_STALE_AFTER_SECONDS)


class RunAlreadyOpen(Conflict):
    """A run of this period is already pending or running (the API answers 409)."""

    def __init__(self, period: str) -> None:
        super().__init__(f"An evaluation of {period} is already pending or running.")
        self.period = period


@dataclass(frozen=True)
class SellerGrade:
    """One seller's computed result for a period, before it is stored."""

    seller_id: int
    external_id: str
    previous_level: str | None
    metrics: Metrics
    result: GradeResult


@dataclass(frozen=True)
class GradeChange:
    seller: str  # external_id
    old_level: str | None
    new_level: str | None

    def __str__(self) -> str:
        return f"{self.seller}: {self.old_level or '-'} -> {self.new_level or '-'}"


@dataclass(frozen=True)
class PeriodOutcome:
    """What ``evaluate_period`` did: the run (None on a dry run) and the grade changes."""

    period: Period
    run: EvaluationRun | None
    seller_count: int
    level_counts: dict[str, int]
    changes: list[GradeChange]


@dataclass(frozen=True)
class Progress:
    chunks_done: int
    chunks_total: int
    sellers_done: int


def parse_completed_period(*, text: str, now: datetime | None = None) -> Period:
    """Parse "YYYY-MM" and refuse a period that has not ended yet (its cutoff is in the future).

    Raises ValueError with a message meant for the API user / command line.
    """
    period = Period.parse(text)
    if period < EARLIEST_PERIOD:
        # The window of a year-1 period (minus the response window) is not a representable
        # datetime: refuse it here (400) rather than queue a run that can only fail.
        raise ValueError(f"Period {period} is too early: the earliest is {EARLIEST_PERIOD}.")
    now = now or timezone.now()
    if period.cutoff > now:
        raise ValueError(
            f"Period {period} has not ended yet: it can be evaluated from "
            f"{timezone.localtime(period.cutoff).isoformat()}."
        )
    return period


def policy_window(*, period: Period, snapshot: PolicySnapshot) -> Window:
    return window_for_period(
        period=period,
        window_months=snapshot.window_months,
        window_days=snapshot.window_days,
        response_window_hours=snapshot.response_window_hours,
    )


# --- starting ---------------------------------------------------------------------------------


def start_run(*, period: Period, trigger: str) -> EvaluationRun:
    """Create a pending run of ``period``; RunAlreadyOpen if one is pending or running."""
    if trigger not in RunTrigger.values:
        raise ValueError(f"Unknown trigger {trigger!r}; expected one of {RunTrigger.values}.")
    try:
        with transaction.atomic():
            return EvaluationRun.objects.create(
                period=str(period), trigger=trigger, status=RunStatus.PENDING
            )
    except IntegrityError as exc:
        raise RunAlreadyOpen(str(period)) from exc


def request_run(*, period: Period, trigger: str) -> EvaluationRun:
    """Start a run (or take over the period's stale one) and hand it to the Celery task once the
    run row is committed.

    With eager tasks (the embedded default) the run has finished when this returns, unless the
    caller holds a transaction open (then it runs at that transaction's commit). A period whose
    open run has gone silent for ``stale_after()`` is taken over instead of refused.
    """
    try:
        run = start_run(period=period, trigger=trigger)
    except RunAlreadyOpen:
        stale = stale_open_run(period=period)
        if stale is None or not take_over(run=stale):
            raise
        return stale
    _enqueue(run)
    return run


def _enqueue(run: EvaluationRun) -> None:
    """Hand the run to the ``metrics.tasks.evaluate_run`` task once its row is committed.

    The task is looked up by name in the Celery app, so this module does not import the tasks
    module (which imports this one).
    """
    evaluate_run = current_app.tasks[EVALUATE_RUN_TASK]

    def enqueue() -> None:
        try:
            evaluate_run.apply_async(args=[run.pk])
        except Exception:
            # Eager mode propagates the task's exception; the run is already marked failed.
            logger.exception("Evaluation run %s of %s failed", run.pk, run.period)

    transaction.on_commit(enqueue)


# --- the steps of a run -----------------------------------------------------------------------


def prepare_run(*, run_id: int) -> list[int]:
    """Claim the run, store its figures, and return the indexes of the chunks still to compute.

    The first call snapshots the policy and cuts the chunks (``claim_run``), then stores every
    seller's order and review figures (``store_figures``); a later call (a retry, a takeover)
    keeps all of that and returns the chunks that are not done. A succeeded run returns [].
    """
    pending = claim_run(run_id=run_id)
    if pending:
        store_figures(run_id=run_id)
    return pending


def claim_run(*, run_id: int) -> list[int]:
    """Mark the run running (heartbeat now); the first time, snapshot the policy and cut the
    sellers into chunks by primary key. One short transaction; returns the chunks not done."""
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.SUCCEEDED:
            return []
        now = timezone.now()
        if not RunChunk.objects.filter(run_id=run_id).exists():
            if not run.policy_snapshot:
                # A retried (failed) run keeps the policy it was first executed under.
                policy: GradePolicy = active_policy()
                run.policy = policy
                run.policy_snapshot = snapshot_of(policy).to_json()
            run.started_at = now
            run.figures_stored_at = None
            RunSellerFigures.objects.filter(run_id=run_id).delete()
            StagedEvaluation.objects.filter(run_id=run_id).delete()
            run.chunks_total = _cut_chunks(run_id=run_id)
        run.status = RunStatus.RUNNING
        run.heartbeat_at = now
        run.finished_at = None
        run.error = ""
        try:
            with transaction.atomic():
                run.save(
                    update_fields=[
                        "status",
                        "started_at",
                        "heartbeat_at",
                        "finished_at",
                        "error",
                        "policy",
                        "policy_snapshot",
                        "chunks_total",
                        "figures_stored_at",
                    ]
                )
        except IntegrityError as exc:
            # A failed run being retried while another run of its period has been opened.
            raise RunAlreadyOpen(run.period) from exc
    return list(
        RunChunk.objects.filter(run_id=run_id, done_at__isnull=True)
        .order_by("index")
        .values_list("index", flat=True)
    )


def store_figures(*, run_id: int) -> None:
    """The run's one pass over the orders and reviews (``compute.store_run_figures``), in one
    transaction, unless a previous attempt stored them already."""
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.figures_stored_at is not None or run.status != RunStatus.RUNNING:
            return
        window = policy_window(
            period=Period.parse(run.period), snapshot=PolicySnapshot.from_json(run.policy_snapshot)
        )
        RunSellerFigures.objects.filter(run_id=run_id).delete()
        _more_work_mem()
        store_run_figures(run_id=run_id, window=window)
        run.figures_stored_at = run.heartbeat_at = timezone.now()
        run.save(update_fields=["figures_stored_at", "heartbeat_at"])


def _cut_chunks(*, run_id: int) -> int:
    """RunChunk rows of ``chunk_size()`` sellers each, by primary key, over every seller now.

    A seller created later gets a higher key than every chunk's range: it waits for the next run.
    """
    ids = list(Seller.objects.order_by("pk").values_list("pk", flat=True))
    chunks = [
        RunChunk(
            run_id=run_id,
            index=index,
            first_seller_id=chunk[0],
            last_seller_id=chunk[-1],
            seller_count=len(chunk),
        )
        for index, chunk in enumerate(_chunks(ids, chunk_size()))
    ]
    RunChunk.objects.bulk_create(chunks)
    return len(chunks)


def compute_chunk(
    *, run_id: int, index: int, inquiries: dict[int, InquiryCounts] | None = None
) -> bool:
    """Compute, grade and stage one chunk of the run; True when every chunk of it is done.

    ``inquiries``: the chunk's inquiry counts when the caller computed them ahead
    (``chunk_inquiries``; ``execute_run`` does, on other connections, while this one grades).
    Idempotent: a chunk already done is left alone; a chunk of a run that is no longer running
    (failed, or published by a duplicate) does nothing.
    """
    run = EvaluationRun.objects.only(
        "period", "status", "policy_snapshot", "figures_stored_at"
    ).get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return False
    chunk = RunChunk.objects.get(run_id=run_id, index=index)
    if chunk.done_at is None:
        if run.figures_stored_at is None:  # never graded without them (idempotent)
            store_figures(run_id=run_id)
        _heartbeat(run_id=run_id)
        period = Period.parse(run.period)
        snapshot = PolicySnapshot.from_json(run.policy_snapshot)
        figures = stored_run_figures(
            run_id=run_id, first=chunk.first_seller_id, last=chunk.last_seller_id
        )
        graded = grade_sellers(
            seller_ids=list(figures),
            period=period,
            snapshot=snapshot,
            figures=figures,
            inquiries=inquiries,
        )
        rows = [_staged_row(run_id=run_id, item=item, snapshot=snapshot) for item in graded]
        with transaction.atomic():
            locked = RunChunk.objects.select_for_update().get(pk=chunk.pk)
            if locked.done_at is None:  # not finished meanwhile by a duplicate delivery
                StagedEvaluation.objects.filter(
                    run_id=run_id,
                    seller_id__gte=chunk.first_seller_id,
                    seller_id__lte=chunk.last_seller_id,
                ).delete()
                _stage(rows)
                locked.done_at = timezone.now()
                locked.save(update_fields=["done_at"])
        _heartbeat(run_id=run_id)
    return not RunChunk.objects.filter(run_id=run_id, done_at__isnull=True).exists()


def _stage(rows: list[StagedEvaluation]) -> None:
    """Insert a chunk's staged rows: COPY on PostgreSQL, bulk INSERTs elsewhere.

    Measured at scale S, 2,000 rows of ~2.3 kB of JSON each: bulk_create 0.22 s (Django's JSON
    adaptation row by row), COPY of the same rows 0.06 s.
    """
    if connection.vendor != "postgresql":
        StagedEvaluation.objects.bulk_create(rows, batch_size=INSERT_BATCH_SIZE)
        return
    lines = (
        ",".join(
            _csv_field(value)
            for value in (
                row.run_id,
                row.seller_id,
                row.level,
                row.level_rank,
                row.computed_level,
                row.previous_level,
                "t" if row.at_risk else "f",
                row.grace_used,
                json.dumps(row.metrics),
                json.dumps(row.criteria),
                None if row.next_level is None else json.dumps(row.next_level),
            )
        )
        for row in rows
    )
    buffer = io.StringIO("\n".join(lines) + "\n")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in ("run_id", *_STAGED_COLUMNS))
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(  # the psycopg2 cursor under Django's wrapper
            f"COPY {quote(StagedEvaluation._meta.db_table)} ({columns}) FROM STDIN (FORMAT csv)",
            buffer,
        )


def _csv_field(value: Any) -> str:
    """COPY's CSV: NULL is an unquoted empty field, so every text is quoted (even empty)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


def _more_work_mem() -> None:
    """The run's one pass over every order groups by (seller, buyer): ~440,000 groups at 1M
    orders, which spill to disk at PostgreSQL's default 4 MB (measured: see settings)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('work_mem', %s, true)", [settings.EVALUATION_WORK_MEM]
            )


def finalize_run(*, run_id: int) -> EvaluationRun:
    """Publish the run's staged rows as the period's results, in one transaction (see module).

    Does nothing to a succeeded run, and leaves a run with chunks still to do as it is.
    """
    run = EvaluationRun.objects.get(pk=run_id)
    period = Period.parse(run.period)
    with transaction.atomic():
        _lock_period(period)
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return run
        if RunChunk.objects.filter(run_id=run_id, done_at__isnull=True).exists():
            return run
        snapshot = PolicySnapshot.from_json(run.policy_snapshot)
        SellerEvaluation.objects.filter(period=str(period)).delete()
        _publish_staged(run_id=run_id, period=period)
        _relink_following_period(period=period)
        counts = dict(
            StagedEvaluation.objects.filter(run_id=run_id)
            .values_list("level")
            .annotate(n=Count("id"))
            .values_list("level", "n")
        )
        run.status = RunStatus.SUCCEEDED
        run.finished_at = run.heartbeat_at = timezone.now()
        run.seller_count = sum(counts.values())
        run.level_counts = level_counts(counts=counts, snapshot=snapshot)
        run.error = ""
        run.save(
            update_fields=[
                "status",
                "finished_at",
                "heartbeat_at",
                "seller_count",
                "level_counts",
                "error",
            ]
        )
        StagedEvaluation.objects.filter(run_id=run_id).delete()
        RunSellerFigures.objects.filter(run_id=run_id).delete()
    return run


_STAGED_COLUMNS = (
    "seller_id",
    "level",
    "level_rank",
    "computed_level",
    "previous_level",
    "at_risk",
    "grace_used",
    "metrics",
    "criteria",
    "next_level",
)


def _publish_staged(*, run_id: int, period: Period) -> None:
    """INSERT ... SELECT: the staged rows become the period's SellerEvaluation rows."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in _STAGED_COLUMNS)
    sql = (
        f"INSERT INTO {quote(SellerEvaluation._meta.db_table)} "  # noqa: S608 - names are ours
        f"(run_id, period, created_at, {columns}) "
        f"SELECT run_id, %s, %s, {columns} FROM {quote(StagedEvaluation._meta.db_table)} "
        "WHERE run_id = %s"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(period), now, run_id])


def chunk_inquiries(*, run_id: int, index: int) -> dict[int, InquiryCounts]:
    """The inquiry counts of one chunk of the run (reads only: safe on another connection)."""
    run = EvaluationRun.objects.only("period", "policy_snapshot").get(pk=run_id)
    chunk = RunChunk.objects.get(run_id=run_id, index=index)
    window = policy_window(
        period=Period.parse(run.period), snapshot=PolicySnapshot.from_json(run.policy_snapshot)
    )
    ids = list(
        Seller.objects.filter(pk__gte=chunk.first_seller_id, pk__lte=chunk.last_seller_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return inquiry_counts(seller_ids=ids, window=window)


# Chunks whose inquiries the threads compute while the figures pass runs (their counts are a few
# integers a seller, so memory stays bounded); measured at scale S, the pass lasts about as long
# as six or seven chunks' inquiries on two threads.
EARLY_CHUNKS = 16


def _on_own_connection(function: Any, **kwargs: Any) -> Any:
    """Run ``function`` in a pool thread, closing the thread's database connection after."""
    try:
        return function(**kwargs)
    finally:
        connections.close_all()


def execute_run(*, run_id: int) -> EvaluationRun:
    """Every step of the run in this process: prepare, each chunk, finalize (idempotent).

    On PostgreSQL, outside a transaction, ``EVALUATION_THREADS`` threads on connections of
    their own compute the chunks: while this thread makes the one pass of figures, they start on
    the first chunks' inquiries, then they compute, grade and stage every chunk, the database
    working for one thread while the other grades. At scale S (2 cores) that took the run from
    6.8 s one chunk after the other to ~3.8 s (README "Benchmarks"). Inside a transaction
    (tests) other connections could not see its data, so the chunks run here one by one.
    """
    try:
        threads = settings.EVALUATION_THREADS
        if connection.vendor != "postgresql" or connection.in_atomic_block or threads < 1:
            for index in prepare_run(run_id=run_id):
                compute_chunk(run_id=run_id, index=index)
            return finalize_run(run_id=run_id)
        pending = claim_run(run_id=run_id)
        if pending:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                early = {
                    index: pool.submit(
                        _on_own_connection, chunk_inquiries, run_id=run_id, index=index
                    )
                    for index in pending[:EARLY_CHUNKS]
                }
                store_figures(run_id=run_id)

                def chunk(index: int) -> bool:
                    inquiries = early[index].result() if index in early else None
                    return compute_chunk(run_id=run_id, index=index, inquiries=inquiries)

                done = [pool.submit(_on_own_connection, chunk, index=i) for i in pending]
                for future in done:
                    future.result()  # the first error, if any, is raised here
        return finalize_run(run_id=run_id)
    except RunAlreadyOpen:
        raise
    except Exception as exc:
        mark_failed(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


def with_progress(runs: QuerySet[EvaluationRun]) -> QuerySet[EvaluationRun]:
    """The runs with their progress annotated (no query per run)."""
    done = Q(chunks__done_at__isnull=False)
    return runs.annotate(
        chunks_done=Count("chunks", filter=done),
        sellers_done=Sum("chunks__seller_count", filter=done),
    )


def progress(run: EvaluationRun) -> Progress:
    """Chunks done of the run's chunks, and the sellers they hold (annotated by
    ``with_progress``, else one query)."""
    chunks_done = getattr(run, "chunks_done", None)
    sellers_done = getattr(run, "sellers_done", None)
    if chunks_done is None:
        done = RunChunk.objects.filter(run_id=run.pk, done_at__isnull=False).aggregate(
            chunks=Count("id"), sellers=Sum("seller_count")
        )
        chunks_done, sellers_done = done["chunks"], done["sellers"]
    return Progress(
        chunks_done=chunks_done or 0,
        chunks_total=run.chunks_total,
        sellers_done=sellers_done or 0,
    )


# --- grading (shared by runs, dry runs and the preview) ---------------------------------------


def grade_sellers(
    *,
    seller_ids: Sequence[int],
    period: Period,
    snapshot: PolicySnapshot,
    figures: dict[int, Figures] | None = None,
    inquiries: dict[int, InquiryCounts] | None = None,
) -> list[SellerGrade]:
    """Metrics and grade of these sellers for ``period`` (reads only): the engine's queries,
    one for the external ids and one for the levels held."""
    window = policy_window(period=period, snapshot=snapshot)
    metrics_by_id = seller_metrics(
        seller_ids=seller_ids, window=window, figures=figures, inquiries=inquiries
    )
    external_ids = dict(
        Seller.objects.filter(pk__in=list(metrics_by_id)).values_list("pk", "external_id")
    )
    held = held_levels(seller_ids=list(metrics_by_id), period=period)
    graded = []
    for pk in sorted(metrics_by_id):
        held_level, grace_used = held.get(pk, (None, 0))
        result = grade(metrics_by_id[pk], snapshot, held_level=held_level, grace_used=grace_used)
        graded.append(SellerGrade(pk, external_ids[pk], held_level, metrics_by_id[pk], result))
    return graded


def grade_period(*, period: Period, snapshot: PolicySnapshot) -> Iterator[SellerGrade]:
    """Every seller's grade for ``period`` without storing anything (a dry run), chunk by chunk;
    the order and review figures are read once for all sellers."""
    figures = seller_figures(
        window=policy_window(period=period, snapshot=snapshot), seller_ids=None
    )
    for chunk in _chunks(sorted(figures), chunk_size()):
        yield from grade_sellers(
            seller_ids=chunk, period=period, snapshot=snapshot, figures=figures
        )


def held_levels(*, seller_ids: Sequence[int], period: Period) -> dict[int, tuple[str | None, int]]:
    """seller id → (final level, grace_used) of its evaluation of the latest earlier period."""
    latest_earlier = (
        SellerEvaluation.objects.filter(seller_id=OuterRef("seller_id"), period__lt=str(period))
        .order_by("-period")
        .values("period")[:1]
    )
    rows = SellerEvaluation.objects.filter(
        seller_id__in=seller_ids, period=Subquery(latest_earlier)
    ).values_list("seller_id", "level", "grace_used")
    return {seller_id: (level, grace_used) for seller_id, level, grace_used in rows}


def level_counts(*, counts: dict[str | None, int], snapshot: PolicySnapshot) -> dict[str, int]:
    """{level name: sellers} for every level of the policy (rank order), null → "none"."""
    ordered = {
        level.name: counts.get(level.name, 0)
        for level in sorted(snapshot.levels, key=lambda lv: lv.rank)
    }
    ordered[NO_LEVEL] = counts.get(None, 0) + counts.get(NO_LEVEL, 0)
    return ordered


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _staged_row(*, run_id: int, item: SellerGrade, snapshot: PolicySnapshot) -> StagedEvaluation:
    result = item.result
    stored = result_to_json(result)
    rank = next((lv.rank for lv in snapshot.levels if lv.name == result.level), None)
    return StagedEvaluation(
        run_id=run_id,
        seller_id=item.seller_id,
        level=result.level,
        level_rank=rank,
        computed_level=result.computed_level,
        previous_level=item.previous_level,
        at_risk=result.at_risk,
        grace_used=result.grace_used,
        metrics={key: exact_to_json(value) for key, value in item.metrics.items()},
        criteria=stored["criteria"],
        next_level=stored["next_level"],
    )


# --- the whole period in this process (the evaluate command) ----------------------------------


def evaluate_period(
    *, period: Period, trigger: str = RunTrigger.MANUAL, dry_run: bool = False
) -> PeriodOutcome:
    """Evaluate ``period`` in this process (the ``evaluate`` command).

    ``dry_run`` computes the grades under the active policy and returns the changes (against the
    period's stored result if it has one, else against the level each seller holds) without
    creating a run or writing anything.
    """
    if dry_run:
        snapshot = snapshot_of(active_policy())
        stored = dict(
            SellerEvaluation.objects.filter(period=str(period)).values_list("seller_id", "level")
        )
        changes = []
        counts: dict[str | None, int] = {}
        seller_count = 0
        for item in grade_period(period=period, snapshot=snapshot):
            seller_count += 1
            counts[item.result.level] = counts.get(item.result.level, 0) + 1
            old = stored.get(item.seller_id, item.previous_level)
            if old != item.result.level:
                changes.append(GradeChange(item.external_id, old, item.result.level))
        return PeriodOutcome(
            period=period,
            run=None,
            seller_count=seller_count,
            level_counts=level_counts(counts=counts, snapshot=snapshot),
            changes=changes,
        )
    before = dict(
        SellerEvaluation.objects.filter(period=str(period)).values_list("seller_id", "level")
    )
    run = start_run(period=period, trigger=trigger)
    run = execute_run(run_id=run.pk)
    after = SellerEvaluation.objects.filter(period=str(period)).values_list(
        "seller__external_id", "seller_id", "previous_level", "level"
    )
    changes = [
        GradeChange(external_id, before.get(seller_id, previous), level)
        for external_id, seller_id, previous, level in after.order_by("seller__external_id")
        if before.get(seller_id, previous) != level
    ]
    return PeriodOutcome(
        period=period,
        run=run,
        seller_count=run.seller_count,
        level_counts=dict(run.level_counts),
        changes=changes,
    )


# --- liveness ---------------------------------------------------------------------------------


def _heartbeat(*, run_id: int) -> None:
    EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        heartbeat_at=timezone.now()
    )


def _lock_period(period: Period) -> None:
    """Serialise writers of one period (PostgreSQL; SQLite has a single writer anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_LOCK_NAMESPACE, period.year * 100 + period.month],
            )


def _relink_following_period(*, period: Period) -> None:
    """After a re-run of an older period, the next later evaluation's previous_level follows.

    SPEC §7: previous_level is the level of the period before, also after a re-run of an older
    period. For the usual run of the latest period there is nothing later (one EXISTS query).
    """
    later = SellerEvaluation.objects.filter(period__gt=str(period))
    if not later.exists():
        return
    next_period = (
        SellerEvaluation.objects.filter(seller_id=OuterRef("seller_id"), period__gt=str(period))
        .order_by("period")
        .values("period")[:1]
    )
    level_here = SellerEvaluation.objects.filter(
        seller_id=OuterRef("seller_id"), period=str(period)
    ).values("level")[:1]
    later.filter(period=Subquery(next_period)).update(previous_level=Subquery(level_here))


def mark_failed(*, run_id: int, error: str) -> None:
    """Mark a run failed with its error (never a succeeded one), then drop its working rows.

    The status is written first, on its own: a cleanup that fails (a broken schema, the very
    error being reported) must not leave the run open and its period blocked.
    """
    try:
        updated = (
            EvaluationRun.objects.filter(pk=run_id)
            .exclude(status=RunStatus.SUCCEEDED)
            .update(status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:2000])
        )
    except DatabaseError:
        # The connection itself is gone: the task's retry or the stale-run sweep will see the
        # run still open.
        logger.exception("Could not mark evaluation run %s failed", run_id)
        return
    if not updated:
        return
    try:
        with transaction.atomic():
            StagedEvaluation.objects.filter(run_id=run_id).delete()
            RunSellerFigures.objects.filter(run_id=run_id).delete()
            RunChunk.objects.filter(run_id=run_id).delete()
    except DatabaseError:
        logger.exception("Could not drop the working rows of failed run %s", run_id)


def _stale_q(now: datetime) -> Q:
    limit = now - stale_after()
    return Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit)


def stale_open_run(*, period: Period, now: datetime | None = None) -> EvaluationRun | None:
    """The period's open run if its workers seem gone (no heartbeat for ``stale_after()``)."""
    now = now or timezone.now()
    return (
        EvaluationRun.objects.filter(
            period=str(period), status__in=[RunStatus.PENDING, RunStatus.RUNNING]
        )
        .filter(_stale_q(now))
        .first()
    )


def stale_runs(*, now: datetime | None = None) -> list[EvaluationRun]:
    """Every open run whose workers seem gone (the periodic sweep)."""
    now = now or timezone.now()
    return list(
        EvaluationRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).filter(
            _stale_q(now)
        )
    )


def take_over(*, run: EvaluationRun) -> bool:
    """Claim a stale run for a new dispatch: its heartbeat is renewed first (one UPDATE that
    only one of several sweepers wins), so it is not taken over twice at once."""
    now = timezone.now()
    claimed = (
        EvaluationRun.objects.filter(pk=run.pk, status__in=[RunStatus.PENDING, RunStatus.RUNNING])
        .filter(_stale_q(now))
        .update(heartbeat_at=now)
    )
    if claimed:
        logger.warning(
            "Evaluation run %s of %s looks abandoned; taking it over", run.pk, run.period
        )
        _enqueue(run)
    return bool(claimed)
