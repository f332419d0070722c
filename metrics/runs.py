"""Evaluation runs (SPEC §6): start, execute and replace one period's results.

Services, so they write. The life of a run:

1. ``start_run`` creates it ``pending``. The partial unique constraint
   ``one_open_run_per_period`` makes the database refuse a second open run of a period
   (``RunAlreadyOpen``): concurrency lives in the database, not in process memory.
2. ``execute_run`` marks it ``running`` (a short transaction of its own), snapshots the policy,
   computes every seller chunk by chunk *outside* any write transaction, then replaces the
   period's ``SellerEvaluation`` rows in ONE short transaction (delete + bulk insert), so a
   reader never sees two rows per seller and period nor a half-written period.
3. Any exception: that transaction rolls back, the run is marked ``failed`` with the error and
   the exception propagates (the Celery task decides whether to retry).

Executing a run id twice gives the same database as once: a succeeded run is returned as is,
a ``running``/``failed`` one (a worker killed mid-run, a retry) is simply redone.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from orders.models import Seller

from .compute import seller_metrics
from .grading import GradeResult, PolicySnapshot, exact_to_json, grade, result_to_json
from .models import EvaluationRun, GradePolicy, RunStatus, RunTrigger, SellerEvaluation
from .periods import Period, window_for_period, window_to_now
from .policy import active_policy, snapshot_of
from .registry import Metrics

logger = logging.getLogger(__name__)

# Sellers per engine call. Measured on this machine's PostgreSQL (shared and loaded, so
# ±30 %) with 5,000 sellers, 100k orders, 150k messages, 80k reviews: database time of a whole
# period 42 s at 100, 9.7 s at 500, 6.3 s at 1,000, 3.8 s at 2,000 and 3.8 s at 5,000. Each
# chunk pays a fixed ~0.7 s (the revenue RANK over all sellers and the scans of
# metrics.compute), so small chunks lose; past 2,000 nothing is gained and the IN lists and
# per-chunk rows only grow. Python time (grading) is ~0.7 ms a seller whatever the chunk.
CHUNK_SIZE = 2000
# Rows per INSERT in the replace transaction: 250 to 5,000 all measured 5.6–7.8 s for 5,000
# rows (noise); the cost is encoding the JSON columns (~1 ms a row), not round trips.
INSERT_BATCH_SIZE = 500
# A run whose heartbeat is older than this is considered abandoned by its worker.
STALE_AFTER = timedelta(minutes=15)
# No marketplace data predates this; even the longest window allowed (1,200 months or
# 36,500 days) of this period is a representable datetime.
EARLIEST_PERIOD = Period(1900, 1)
NO_LEVEL = "none"  # level_counts key of sellers that reach no level
# Namespace of the advisory locks (int4): "gc" in ASCII. The key is the period as YYYYMM.
_LOCK_NAMESPACE = 0x6763


class RunAlreadyOpen(Exception):
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
class GradePreview:
    """The projected grade "if evaluated today" (SPEC §7 grade/preview); nothing is stored."""

    period: Period
    effective_from: datetime
    metrics: Metrics
    result: GradeResult
    rank: int | None


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
    """Start a run and hand it to the Celery task once the run row is committed.

    With eager tasks (the embedded default) the run has finished when this returns, unless the
    caller holds a transaction open (then it runs at that transaction's commit).
    """
    from .tasks import evaluate_run  # tasks import this module

    run = start_run(period=period, trigger=trigger)
    task_id = str(uuid4())
    EvaluationRun.objects.filter(pk=run.pk).update(task_id=task_id)
    run.task_id = task_id

    def enqueue() -> None:
        try:
            evaluate_run.apply_async(args=[run.pk], task_id=task_id)
        except Exception:
            # Eager mode propagates the task's exception; the run is already marked failed.
            logger.exception("Evaluation run %s of %s failed", run.pk, period)

    transaction.on_commit(enqueue)
    return run


def execute_run(*, run_id: int) -> EvaluationRun:
    """Compute and store every seller's result for the run's period (idempotent, see module)."""
    try:
        run = _mark_running(run_id=run_id)
        if run.status == RunStatus.SUCCEEDED:
            return run
        period = Period.parse(run.period)
        snapshot = PolicySnapshot.from_json(run.policy_snapshot)
        graded = grade_period(
            period=period, snapshot=snapshot, on_chunk=lambda: _heartbeat(run_id=run_id)
        )
        return _replace_period(run_id=run_id, period=period, graded=graded, snapshot=snapshot)
    except Exception as exc:
        _mark_failed(run_id=run_id, error=exc)
        raise


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
        graded = grade_period(period=period, snapshot=snapshot)
        stored = dict(
            SellerEvaluation.objects.filter(period=str(period)).values_list("seller_id", "level")
        )
        changes = []
        for item in graded:
            old = stored.get(item.seller_id, item.previous_level)
            if old != item.result.level:
                changes.append(GradeChange(item.external_id, old, item.result.level))
        return PeriodOutcome(
            period=period,
            run=None,
            seller_count=len(graded),
            level_counts=_level_counts(graded=graded, snapshot=snapshot),
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


def preview_grade(*, seller: Seller, now: datetime | None = None) -> GradePreview:
    """The seller's grade for the month so far (cutoff = now) under the active policy.

    The held level is the seller's latest stored evaluation (of a period before this month),
    so grace applies exactly as the coming evaluation would apply it. Nothing is stored.
    """
    now = now or timezone.now()
    period = Period.containing(now)
    snapshot = snapshot_of(active_policy())
    window = window_to_now(
        now=now,
        window_months=snapshot.window_months,
        window_days=snapshot.window_days,
        response_window_hours=snapshot.response_window_hours,
    )
    metrics = seller_metrics(seller_ids=[seller.pk], window=window)[seller.pk]
    held = (
        SellerEvaluation.objects.filter(seller_id=seller.pk, period__lt=str(period))
        .order_by("-period")
        .values_list("level", "grace_used")
        .first()
    )
    held_level, grace_used = held if held else (None, 0)
    result = grade(metrics, snapshot, held_level=held_level, grace_used=grace_used)
    ranks = {level.name: level.rank for level in snapshot.levels}
    return GradePreview(
        period=period,
        effective_from=period.cutoff,
        metrics=metrics,
        result=result,
        rank=ranks.get(result.level) if result.level else None,
    )


def grade_period(
    *, period: Period, snapshot: PolicySnapshot, on_chunk: Any = None
) -> list[SellerGrade]:
    """Every seller's metrics and grade for ``period``; reads only.

    Per chunk of CHUNK_SIZE sellers: the engine's fixed number of queries plus ONE query for the
    levels held (each seller's evaluation of its latest earlier period).
    """
    window = window_for_period(
        period=period,
        window_months=snapshot.window_months,
        window_days=snapshot.window_days,
        response_window_hours=snapshot.response_window_hours,
    )
    sellers = list(Seller.objects.order_by("pk").values_list("pk", "external_id"))
    graded: list[SellerGrade] = []
    for chunk in _chunks(sellers, CHUNK_SIZE):
        ids = [pk for pk, _ in chunk]
        metrics_by_id = seller_metrics(seller_ids=ids, window=window)
        held = _held_levels(seller_ids=ids, period=period)
        for pk, external_id in chunk:
            held_level, grace_used = held.get(pk, (None, 0))
            result = grade(
                metrics_by_id[pk], snapshot, held_level=held_level, grace_used=grace_used
            )
            graded.append(SellerGrade(pk, external_id, held_level, metrics_by_id[pk], result))
        if on_chunk is not None:
            on_chunk()
    return graded


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _held_levels(*, seller_ids: Sequence[int], period: Period) -> dict[int, tuple[str | None, int]]:
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


def _mark_running(*, run_id: int) -> EvaluationRun:
    """Claim the run: status running, started/heartbeat now, the policy snapshotted once."""
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.SUCCEEDED:
            return run
        now = timezone.now()
        if not run.policy_snapshot:
            # A redelivered or retried run keeps the policy it was first executed under.
            policy: GradePolicy = active_policy()
            run.policy = policy
            run.policy_snapshot = snapshot_of(policy).to_json()
        run.status = RunStatus.RUNNING
        run.started_at = now
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
                    ]
                )
        except IntegrityError as exc:
            # A failed run being retried while another run of its period has been opened.
            raise RunAlreadyOpen(run.period) from exc
    return run


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


def _replace_period(
    *, run_id: int, period: Period, graded: list[SellerGrade], snapshot: PolicySnapshot
) -> EvaluationRun:
    """In one transaction: the period's old rows out, the new rows in, the run succeeded."""
    ranks = {level.name: level.rank for level in snapshot.levels}
    # Rows are built before the transaction opens, so it holds its locks only for the SQL.
    rows = [
        _evaluation_row(run_id=run_id, period=period, item=item, ranks=ranks) for item in graded
    ]
    with transaction.atomic():
        _lock_period(period)
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.SUCCEEDED:
            return run  # a duplicate delivery of this run finished first: nothing to add
        SellerEvaluation.objects.filter(period=str(period)).delete()
        SellerEvaluation.objects.bulk_create(rows, batch_size=INSERT_BATCH_SIZE)
        _relink_following_period(period=period)
        run.status = RunStatus.SUCCEEDED
        run.finished_at = run.heartbeat_at = timezone.now()
        run.seller_count = len(graded)
        run.level_counts = _level_counts(graded=graded, snapshot=snapshot)
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
    return run


def _evaluation_row(
    *, run_id: int, period: Period, item: SellerGrade, ranks: dict[str, int]
) -> SellerEvaluation:
    result = item.result
    stored = result_to_json(result)
    return SellerEvaluation(
        run_id=run_id,
        seller_id=item.seller_id,
        period=str(period),
        level=result.level,
        level_rank=ranks.get(result.level) if result.level else None,
        computed_level=result.computed_level,
        previous_level=item.previous_level,
        at_risk=result.at_risk,
        grace_used=result.grace_used,
        metrics={key: exact_to_json(value) for key, value in item.metrics.items()},
        criteria=stored["criteria"],
        next_level=stored["next_level"],
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


def _level_counts(*, graded: list[SellerGrade], snapshot: PolicySnapshot) -> dict[str, int]:
    """{level name: sellers} for every level of the policy (rank order), null → "none"."""
    counts = Counter(item.result.level or NO_LEVEL for item in graded)
    ordered = {
        level.name: counts.get(level.name, 0)
        for level in sorted(snapshot.levels, key=lambda lv: lv.rank)
    }
    ordered[NO_LEVEL] = counts.get(NO_LEVEL, 0)
    return ordered


def _mark_failed(*, run_id: int, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    try:
        EvaluationRun.objects.filter(pk=run_id).exclude(status=RunStatus.SUCCEEDED).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=message
        )
    except DatabaseError:
        # The connection itself is gone (the very error being reported): the task's retry or
        # the stale-run check will see the run still running.
        logger.exception("Could not mark evaluation run %s failed", run_id)


def mark_failed(*, run_id: int, error: str) -> None:
    """Mark a run failed (the task does this when its retries are exhausted)."""
    EvaluationRun.objects.filter(pk=run_id).exclude(status=RunStatus.SUCCEEDED).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:2000]
    )


def stale_open_run(*, period: Period, now: datetime | None = None) -> EvaluationRun | None:
    """The period's open run if its worker seems gone (no heartbeat for STALE_AFTER)."""
    now = now or timezone.now()
    run = EvaluationRun.objects.filter(
        period=str(period), status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).first()
    if run is None:
        return None
    last_sign = run.heartbeat_at or run.created_at
    return run if now - last_sign > STALE_AFTER else None
