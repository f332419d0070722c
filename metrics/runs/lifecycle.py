"""The life of an evaluation run (SPEC §6): start, claim, figures, publish, fail, re-queue.

The states and who moves a run between them are the table in docs/architecture.md ("A run's
life"); the leases are ``metrics.runs.lease``.

1. ``start_run`` creates it ``pending`` with a lease (its message must reach a worker within
   one). The partial unique constraint ``one_open_run_per_period`` makes the database refuse a
   second open run of a period (``RunAlreadyOpen``): concurrency lives in the database.
2. ``claim_run`` (the run's task) marks it ``running`` under its worker's lease, snapshots the
   policy and cuts the sellers into ``RunChunk`` rows by primary key; ``store_figures`` stores
   every seller's order and review figures once (``compute.store_run_figures``).
3. The chunks are computed and staged (``metrics.runs.chunks``) by any number of workers, each
   under a chunk lease that also renews the run's.
4. ``finalize_run``, once every chunk is done, publishes the period in ONE transaction: the
   period's old ``SellerEvaluation`` rows out, the staged rows in (INSERT ... SELECT), the run
   ``succeeded``. A reader never sees two rows per seller and period nor a half-written period.
5. Any error marks the run ``failed``. The minute ``sweep`` fails a run open past the deadline,
   re-queues each chunk whose lease expired while its run lives on, and re-queues each run
   whose lease expired (its workers died, or its message was lost): the run's task then sends
   the chunks that are not done. A new request for a period whose open run's lease expired
   re-queues that run the same way.

Each step of a run's life is logged as one JSON line on the ``metrics.runs.events`` logger
(``run_event``): run, period, status, sellers, duration and level changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from common.errors import Conflict
from metrics.engine.compute import (
    store_run_figures,
)
from metrics.engine.grading import DOWN, SAME, UP, PolicySnapshot
from metrics.engine.periods import Period
from metrics.engine.windows import snapshot_needs
from metrics.models import (
    EvaluationRun,
    GradePolicy,
    RunChunk,
    RunKind,
    RunSellerFigures,
    RunStatus,
    RunTrigger,
    SellerEvaluation,
    StagedEvaluation,
)
from metrics.policy.services import active_policy, snapshot_of
from metrics.runs.lease import OPEN, deadline, expiry, owner
from metrics.runs.period_grades import (
    chunk_size,
    in_chunks,
    level_counts,
    run_windows,
)
from metrics.signals import run_published
from orders.models import Seller

logger = logging.getLogger(__name__)


# No marketplace data predates this; even the longest window allowed (1,200 months or
# 36,500 days) of this period is a representable datetime.
EARLIEST_PERIOD = Period(1900, 1)


EVALUATE_RUN_TASK = "metrics.tasks.evaluate_run"
EVALUATE_CHUNK_TASK = "metrics.tasks.evaluate_chunk"


# Namespace of the advisory locks (int4): "gc" in ASCII. The key is the period as YYYYMM.
_LOCK_NAMESPACE = 0x6763


EVENTS = logging.getLogger("metrics.runs.events")


def run_event(event: str, run: EvaluationRun, **fields: object) -> None:
    """One structured line (JSON in the settings' logging) about a step of a run's life."""
    duration = None
    if run.started_at and run.finished_at:
        duration = round((run.finished_at - run.started_at).total_seconds(), 3)
    EVENTS.info(
        "%s: run %s of %s (%s)",
        event,
        run.pk,
        run.period,
        run.status,
        extra={
            "event": event,
            "run": run.pk,
            "period": run.period,
            "status": str(run.status),
            "trigger": str(run.trigger),
            "duration_seconds": duration,
            **fields,
        },
    )


class RunAlreadyOpen(Conflict):
    """A run of this period is already pending or running (the API answers 409)."""

    def __init__(self, period: str) -> None:
        super().__init__(f"An evaluation of {period} is already pending or running.")
        self.period = period


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


def start_run(
    *,
    period: Period,
    trigger: str,
    kind: str = RunKind.PERIOD,
    seller_ids: list[int] | None = None,
) -> EvaluationRun:
    """Create a pending run of ``period`` (its lease: the queue's); RunAlreadyOpen if one is
    pending or running. ``seller_ids`` (a correction run): only these sellers."""
    if trigger not in RunTrigger.values:
        raise ValueError(f"Unknown trigger {trigger!r}; expected one of {RunTrigger.values}.")
    if (kind == RunKind.CORRECTION) != (seller_ids is not None):
        raise ValueError("A correction run names its sellers; a period run does not.")
    try:
        with transaction.atomic():
            return EvaluationRun.objects.create(
                period=str(period),
                trigger=trigger,
                status=RunStatus.PENDING,
                kind=kind,
                seller_ids=sorted(seller_ids) if seller_ids is not None else None,
                lease_expires_at=expiry(),
            )
    except IntegrityError as exc:
        raise RunAlreadyOpen(str(period)) from exc


def request_run(*, period: Period, trigger: str) -> EvaluationRun:
    """Start a run and hand it to the Celery task once the run row is committed (the API, the
    admin, the beat and ``evaluate --via-broker`` all start runs here).

    With eager tasks (the embedded default) the run has finished when this returns, unless the
    caller holds a transaction open (then it runs at that transaction's commit). A period whose
    open run's lease expired gets that run re-queued instead of a refusal.
    """
    try:
        run = start_run(period=period, trigger=trigger)
    except RunAlreadyOpen:
        expired = requeue_expired_runs(period=period)
        if not expired:
            raise
        return expired[0]
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


def claim_run(*, run_id: int) -> list[int]:
    """Mark the run running under this worker's lease; the first time, snapshot the policy and
    cut the sellers into chunks by primary key; the chunks not done are queued again (a dead
    worker's lease on one ends here). One short transaction; returns the chunks not done."""
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
            run.chunks_total = _cut_chunks(run=run)
        else:
            RunChunk.objects.filter(run_id=run_id, done_at__isnull=True).update(
                lease_owner="", lease_expires_at=None
            )
        run.status = RunStatus.RUNNING
        run.lease_owner = owner()
        run.lease_expires_at = expiry(now)
        run.finished_at = None
        run.error = ""
        try:
            with transaction.atomic():
                run.save(
                    update_fields=[
                        "status",
                        "started_at",
                        "lease_owner",
                        "lease_expires_at",
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
    run_event("run.claimed", run, chunks_total=run.chunks_total)
    return list(
        RunChunk.objects.filter(run_id=run_id, done_at__isnull=True)
        .order_by("index")
        .values_list("index", flat=True)
    )


def store_figures(
    *,
    run_id: int,
    resolutions: Callable[[], tuple[list[str], list[tuple[Any, ...]]]] | None = None,
) -> None:
    """The run's one pass over the orders and reviews (``compute.store_run_figures``), in one
    transaction, unless a previous attempt stored them already. ``resolutions``: the
    resolution figures computed beside it (``compute.store_run_figures``)."""
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.figures_stored_at is not None or run.status != RunStatus.RUNNING:
            return
        snapshot = PolicySnapshot.from_json(run.policy_snapshot)
        windows = run_windows(period=Period.parse(run.period), snapshot=snapshot)
        RunSellerFigures.objects.filter(run_id=run_id).delete()
        more_work_mem()
        store_run_figures(
            run_id=run_id,
            windows=windows,
            needs=snapshot_needs(snapshot),
            resolutions=resolutions,
        )
        run.figures_stored_at = timezone.now()
        run.lease_expires_at = expiry(run.figures_stored_at)
        run.save(update_fields=["figures_stored_at", "lease_expires_at"])


def _cut_chunks(*, run: EvaluationRun) -> int:
    """RunChunk rows of ``chunk_size()`` sellers each, by primary key, over every seller now (a
    correction: over its sellers).

    A seller created later gets a higher key than every chunk's range: it waits for the next run.
    """
    sellers = Seller.objects.order_by("pk")
    if run.seller_ids is not None:
        sellers = sellers.filter(pk__in=run.seller_ids)
    ids = list(sellers.values_list("pk", flat=True))
    run_id = run.pk
    chunks = [
        RunChunk(
            run_id=run_id,
            index=index,
            first_seller_id=chunk[0],
            last_seller_id=chunk[-1],
            seller_count=len(chunk),
        )
        for index, chunk in enumerate(in_chunks(ids, chunk_size()))
    ]
    RunChunk.objects.bulk_create(chunks)
    return len(chunks)


def more_work_mem() -> None:
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
        lock_period(period)
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return run
        if RunChunk.objects.filter(run_id=run_id, done_at__isnull=True).exists():
            return run
        snapshot = PolicySnapshot.from_json(run.policy_snapshot)
        replaced = SellerEvaluation.objects.filter(period=str(period))
        if run.seller_ids is not None:  # a correction replaces its sellers' rows only
            replaced = replaced.filter(seller_id__in=run.seller_ids)
        replaced.delete()
        _publish_staged(run_id=run_id, period=period)
        _relink_following_period(period=period)
        counts = dict(
            StagedEvaluation.objects.filter(run_id=run_id)
            .values_list("level")
            .annotate(n=Count("id"))
            .values_list("level", "n")
        )
        run.status = RunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        run.lease_expires_at = None
        run.seller_count = sum(counts.values())
        run.level_counts = level_counts(counts=counts, snapshot=snapshot)
        run.error = ""
        run.save(
            update_fields=[
                "status",
                "finished_at",
                "lease_expires_at",
                "seller_count",
                "level_counts",
                "error",
            ]
        )
        changes = _level_changes(run_id=run_id, snapshot=snapshot)
        StagedEvaluation.objects.filter(run_id=run_id).delete()
        RunSellerFigures.objects.filter(run_id=run_id).delete()
        transaction.on_commit(
            partial(run_published.send, sender=EvaluationRun, run_id=run.pk, period=run.period)
        )
    run_event(
        "run.published",
        run,
        sellers=run.seller_count,
        level_counts=run.level_counts,
        level_changes=changes,
    )
    return run


def _level_changes(*, run_id: int, snapshot: PolicySnapshot) -> dict[str, int]:
    """How many sellers moved up, down or not at all (``PolicySnapshot.move``; one grouped
    query)."""
    changes = {UP: 0, DOWN: 0, SAME: 0}
    pairs = (
        StagedEvaluation.objects.filter(run_id=run_id)
        .values_list("previous_level", "level")
        .annotate(n=Count("id"))
        .values_list("previous_level", "level", "n")
    )
    for before, after, n in pairs:
        changes[snapshot.move(before, after)] += n
    return changes


STAGED_COLUMNS = (
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
    columns = ", ".join(quote(column) for column in STAGED_COLUMNS)
    sql = (
        f"INSERT INTO {quote(SellerEvaluation._meta.db_table)} "  # noqa: S608 - names are ours
        f"(run_id, period, created_at, updated_at, {columns}) "
        f"SELECT run_id, %s, %s, %s, {columns} FROM {quote(StagedEvaluation._meta.db_table)} "
        "WHERE run_id = %s"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(period), now, now, run_id])


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


def lock_period(period: Period) -> None:
    """Serialise writers of one period (PostgreSQL; SQLite has a single writer anyway): a run's
    publication and an appeal's correction of the period."""
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
    # Rewritten, so written since (`/grades?updated_since=`): a sync reads them again.
    later.filter(period=Subquery(next_period)).update(
        previous_level=Subquery(level_here), updated_at=timezone.now()
    )


def mark_failed(*, run_id: int, error: str) -> None:
    """Mark a run failed with its error (never a succeeded one, and a failed one keeps its
    first error: a chunk running beside the one that failed must not replace the cause with
    what the failure did to it), then drop its working rows.

    The status is written first, on its own: a cleanup that fails (a broken schema, the very
    error being reported) must not leave the run open and its period blocked.
    """
    try:
        updated = (
            EvaluationRun.objects.filter(pk=run_id)
            .exclude(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED])
            .update(
                status=RunStatus.FAILED,
                finished_at=timezone.now(),
                error=error[:2000],
                lease_expires_at=None,
            )
        )
    except DatabaseError:
        # The connection itself is gone: the task's retry, or the sweep once the run's lease
        # expires, will see the run still open.
        logger.exception("Could not mark evaluation run %s failed", run_id)
        return
    if not updated:
        return
    failed = EvaluationRun.objects.filter(pk=run_id).first()
    if failed is not None:
        run_event("run.failed", failed, error=failed.error)
    try:
        with transaction.atomic():
            StagedEvaluation.objects.filter(run_id=run_id).delete()
            RunSellerFigures.objects.filter(run_id=run_id).delete()
            RunChunk.objects.filter(run_id=run_id).delete()
    except DatabaseError:
        logger.exception("Could not drop the working rows of failed run %s", run_id)


def _expired(now: datetime) -> Q:
    """An open run's lease has expired (or it never had one: a row from before leases)."""
    return Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)


def expired_runs(*, now: datetime | None = None) -> list[EvaluationRun]:
    """Every open run whose lease has expired (read only: what the sweep would re-queue)."""
    now = now or timezone.now()
    return list(EvaluationRun.objects.filter(status__in=OPEN).filter(_expired(now)))


def requeue_expired_runs(
    *, period: Period | None = None, now: datetime | None = None
) -> list[EvaluationRun]:
    """Re-queue every open run (of ``period``) whose lease expired: a new queue lease, and its
    task sent once this transaction commits (it claims the run and sends the chunks not done).

    ``SELECT … FOR UPDATE SKIP LOCKED``: a run another sweeper or a publication holds is left
    to it, so two sweepers never re-queue one run twice."""
    now = now or timezone.now()
    requeued = []
    with transaction.atomic():
        expired = (
            EvaluationRun.objects.select_for_update(skip_locked=True)
            .filter(status__in=OPEN)
            .filter(_expired(now))
            .order_by("pk")
        )
        if period is not None:
            expired = expired.filter(period=str(period))
        for run in expired:
            before = run.lease_expires_at
            run.lease_owner = ""
            run.lease_expires_at = expiry(now)
            run.save(update_fields=["lease_owner", "lease_expires_at"])
            run_event("run.taken_over", run, lease_expired_at=_iso(before))
            _enqueue(run)
            requeued.append(run)
    return requeued


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def requeue_expired_chunks(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Re-queue each chunk a worker took whose lease expired (that worker died) while its run's
    lease is alive (its other workers go on); the (run, chunk index) pairs sent. Queued chunks
    live under their run's lease: a run gone silent as a whole is re-queued whole instead."""
    now = now or timezone.now()
    evaluate_chunk = current_app.tasks[EVALUATE_CHUNK_TASK]
    sent = []
    with transaction.atomic():
        expired = (
            RunChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                run__status=RunStatus.RUNNING,
                run__lease_expires_at__gte=now,
                done_at__isnull=True,
                lease_expires_at__lt=now,
            )
            .exclude(lease_owner="")
            .select_related("run")
            .order_by("run_id", "index")
        )
        for chunk in expired:
            chunk.lease_owner, chunk.lease_expires_at = "", None
            chunk.save(update_fields=["lease_owner", "lease_expires_at"])
            run_event("run.chunk_sent_again", chunk.run, chunk=chunk.index)
            transaction.on_commit(
                partial(evaluate_chunk.apply_async, args=[chunk.run_id, chunk.index])
            )
            sent.append((chunk.run_id, chunk.index))
    return sent


def fail_runs_past_deadline(*, now: datetime | None = None) -> list[int]:
    """Mark every run open past the deadline (since it started, or was created) failed, so its
    period can be run again; their ids."""
    limit = (now or timezone.now()) - deadline()
    seconds = settings.EVALUATION_DEADLINE_SECONDS
    late = EvaluationRun.objects.filter(status__in=OPEN).filter(
        Q(started_at__lt=limit) | Q(started_at__isnull=True, created_at__lt=limit)
    )
    failed = []
    for run in late:
        mark_failed(
            run_id=run.pk,
            error=f"Stuck: still {run.status} after {seconds} s "
            "(EVALUATION_DEADLINE_SECONDS). Marked failed; evaluate the period again.",
        )
        failed.append(run.pk)
    return failed


def sweep(*, now: datetime | None = None) -> list[int]:
    """The one sweep (the beat, every minute): fail the runs past the deadline, re-queue the
    expired chunks of live runs, then the expired runs; the ids of the runs re-queued."""
    now = now or timezone.now()
    fail_runs_past_deadline(now=now)
    requeue_expired_chunks(now=now)
    return [run.pk for run in requeue_expired_runs(now=now)]
