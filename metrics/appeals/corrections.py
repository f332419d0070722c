"""Corrections: an accepted appeal re-evaluates its seller for every published period the
order touched (SPEC §7 appeals).

* **Which periods.** Every published period of the seller whose window, under the policy
  snapshot of the run that published it, holds one of the order's events: creation, delivery,
  completion, cancellation, dispatch, its review, cases or survey. The window considered is
  widened to the longest one the snapshot reads (a criterion's own ``window_days``, and the
  previous window of equal length that ``buyer_retention_rate`` looks back to), so no period
  whose figures could change is missed; a period whose figures do not change is left as it is.
  A later period is re-graded too when the level held before it changed (grace and
  ``previous_level`` follow the corrected level).
* **How.** One seller, one period at a time, oldest first, each in its own transaction under
  the period's advisory lock (the lock a run's publication takes): the seller's metrics and
  grade are computed by the run's own code (``runs.grade_chunk``) under the period's policy
  snapshot, not today's policy; the evaluation row is updated in place and what it was is kept
  in ``EvaluationCorrection`` (``corrected_from``). An exclusion changes no other seller's
  metrics (the cumulative figures and the revenue rank count excluded orders), so no other row
  is touched. A reader sees the old grade or the new one, never a mix.
* **Concurrency.** While a run of the period is open, its publication would overwrite the
  correction with figures computed before the exclusion, so the correction waits: it stops
  there, stays ``pending``, and is resumed once the run is published (``run_published``) or by
  the minute sweep. A worker killed mid-correction rolls back the period it was writing; the
  periods already corrected recompute to the same values, so a retry simply goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from metrics import signals
from metrics.appeals import audit
from metrics.engine.grading import PolicySnapshot, exact_to_json, result_to_json
from metrics.engine.periods import Period
from metrics.models import (
    Appeal,
    AppealStatus,
    AuditAction,
    CorrectionState,
    EvaluationCorrection,
    EvaluationRun,
    RunStatus,
    SellerEvaluation,
)
from metrics.runs.lease import lease_length
from metrics.runs.lifecycle import lock_period
from metrics.runs.period_grades import grade_chunk, policy_window
from orders.models import Order
from reviews.models import Review, Survey

logger = logging.getLogger(__name__)

CORRECT_APPEAL_TASK = "metrics.tasks.correct_appeal"

# The evaluation fields a correction rewrites, and keeps (as they were) in ``superseded``.
CORRECTED_FIELDS = (
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


class Deferred(Exception):  # noqa: N818 - a state, not a failure
    """A run of the period is open: the correction waits for its publication."""


# ---------------------------------------------------------------------------------------------
# Which periods.


def order_events(order: Order) -> list[datetime]:
    """Every moment of the order that some window metric reads (3 queries)."""
    moments = [
        order.created_at,
        order.delivered_at,
        order.completed_at,
        order.cancelled_at,
        order.shipped_at,
        order.ship_by,
    ]
    moments += list(Review.objects.filter(order=order).values_list("created_at", flat=True))
    for opened, closed in order.cases.values_list("opened_at", "closed_at"):
        moments += [opened, closed]
    moments += list(Survey.objects.filter(order=order).values_list("answered_at", flat=True))
    return [moment for moment in moments if moment is not None]


def _earliest_read(*, period: Period, snapshot: PolicySnapshot) -> datetime | None:
    """The start of the longest stretch the snapshot's metrics read for ``period`` (None: all
    time before the cutoff)."""
    window = policy_window(period=period, snapshot=snapshot)
    if window.start is None:
        return None
    cutoff = window.cutoff
    length = cutoff - window.start
    for level in snapshot.levels:
        for criterion in level.criteria:
            days = getattr(criterion, "window_days", None)
            if days:
                length = max(length, timedelta(days=int(days)))
    # buyer_retention_rate reads the previous window of equal length as well.
    return cutoff - 2 * length - timedelta(hours=snapshot.response_window_hours)


def affected_periods(*, appeal: Appeal) -> list[str]:
    """The seller's published periods whose windows hold one of the order's events, oldest
    first."""
    moments = order_events(appeal.order)
    periods = []
    evaluations = (
        SellerEvaluation.objects.filter(seller_id=appeal.seller_id)
        .select_related("run")
        .only("period", "run__policy_snapshot")
        .order_by("period")
    )
    for evaluation in evaluations:
        period = Period.parse(evaluation.period)
        snapshot = PolicySnapshot.from_json(evaluation.run.policy_snapshot)
        start = _earliest_read(period=period, snapshot=snapshot)
        if any(moment < period.cutoff and (start is None or moment >= start) for moment in moments):
            periods.append(evaluation.period)
    return periods


# ---------------------------------------------------------------------------------------------
# One period.


@dataclass(frozen=True)
class PeriodCorrection:
    period: str
    from_level: str | None
    to_level: str | None
    changed: bool  # anything of the evaluation changed (figures, level, grace …)


def _stored(evaluation: SellerEvaluation) -> dict[str, Any]:
    return {field: getattr(evaluation, field) for field in CORRECTED_FIELDS}


def correct_period(
    *, seller_id: int, period: str, appeal: Appeal, wait_for_runs: bool = True
) -> PeriodCorrection | None:
    """Re-evaluate one seller for one published period and publish the result atomically
    (see the module). None when the seller has no evaluation of the period."""
    with transaction.atomic():
        parsed = Period.parse(period)
        lock_period(parsed)
        if (
            wait_for_runs
            and EvaluationRun.objects.filter(
                period=period, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
            ).exists()
        ):
            raise Deferred(period)
        evaluation = (
            SellerEvaluation.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(seller_id=seller_id, period=period)
            .first()
        )
        if evaluation is None:
            return None
        snapshot = PolicySnapshot.from_json(evaluation.run.policy_snapshot)
        [graded] = grade_chunk(seller_ids=[seller_id], period=parsed, snapshot=snapshot)
        result = graded.result
        stored = result_to_json(result)
        new = {
            "level": result.level,
            "level_rank": snapshot.rank_of(result.level),
            "computed_level": result.computed_level,
            "previous_level": graded.previous_level,
            "at_risk": result.at_risk,
            "grace_used": result.grace_used,
            "metrics": {key: exact_to_json(value) for key, value in graded.metrics.items()},
            "criteria": stored["criteria"],
            "next_level": stored["next_level"],
        }
        old = _stored(evaluation)
        if new == old:
            return PeriodCorrection(period, evaluation.level, evaluation.level, changed=False)
        now = timezone.now()
        correction = EvaluationCorrection.objects.create(
            seller_id=seller_id,
            period=period,
            appeal=appeal,
            run=evaluation.run,
            corrected_at=now,
            from_level=old["level"],
            to_level=new["level"],
            superseded={
                **old,
                "created_at": evaluation.created_at.isoformat(),
                "corrected_at": (
                    evaluation.corrected_at.isoformat() if evaluation.corrected_at else None
                ),
            },
        )
        for field, value in new.items():
            setattr(evaluation, field, value)
        evaluation.corrected_at = now
        evaluation.updated_at = now  # a correction: `GET /api/v1/grades?updated_since=` has it
        evaluation.save(update_fields=[*CORRECTED_FIELDS, "corrected_at", "updated_at"])
        audit.record(
            action=AuditAction.GRADE_CORRECTED,
            seller=appeal.seller,
            order=appeal.order,
            appeal=appeal,
            period=period,
            detail={"from": old["level"], "to": new["level"]},
        )
        transaction.on_commit(
            partial(
                signals.grade_corrected.send,
                sender=EvaluationCorrection,
                correction_id=correction.pk,
            )
        )
        return PeriodCorrection(period, old["level"], new["level"], changed=True)


# ---------------------------------------------------------------------------------------------
# The whole correction of an appeal.


def _periods_to_correct(*, appeal: Appeal) -> tuple[list[str], set[str]]:
    """The seller's published periods from the first affected one on, and the affected set."""
    affected = affected_periods(appeal=appeal)
    if not affected:
        return [], set()
    later = list(
        SellerEvaluation.objects.filter(seller_id=appeal.seller_id, period__gte=affected[0])
        .order_by("period")
        .values_list("period", flat=True)
    )
    return later, set(affected)


def _correct_periods(
    *, appeal: Appeal, wait_for_runs: bool = True
) -> Iterator[PeriodCorrection | None]:
    """Correct the affected periods oldest first, and a later one too while the level held
    before it changed (grace, ``previous_level``); one result per period corrected."""
    periods, affected = _periods_to_correct(appeal=appeal)
    level_moved = False
    for period in periods:
        if period not in affected and not level_moved:
            continue
        done = correct_period(
            seller_id=appeal.seller_id, period=period, appeal=appeal, wait_for_runs=wait_for_runs
        )
        level_moved = done is not None and done.from_level != done.to_level
        yield done


def correct_appeal(*, appeal_id: int) -> str:
    """Carry out the correction an accepted appeal owes (idempotent). Returns the appeal's
    correction state: ``done``, or ``pending`` when a run of a period is open (it resumes
    after that run's publication)."""
    appeal = Appeal.objects.select_related("order", "seller").get(pk=appeal_id)
    if appeal.status != AppealStatus.ACCEPTED or appeal.correction != CorrectionState.PENDING:
        return str(appeal.correction)
    try:
        for _done in _correct_periods(appeal=appeal):
            pass
    except Deferred as waiting:
        logger.info("Correction of appeal %s waits for the open run of %s", appeal_id, waiting)
        return CorrectionState.PENDING
    Appeal.objects.filter(pk=appeal_id, correction=CorrectionState.PENDING).update(
        correction=CorrectionState.DONE, corrected_at=timezone.now()
    )
    return CorrectionState.DONE


def preview_correction(*, appeal: Appeal) -> list[PeriodCorrection]:
    """What accepting the appeal would do to each period (a dry run: the exclusion and every
    correction are written inside a transaction that is rolled back)."""

    class _RollBack(Exception):  # noqa: N818
        pass

    outcome: list[PeriodCorrection] = []
    try:
        with transaction.atomic():
            Order.objects.filter(pk=appeal.order_id).update(excluded_from_metrics=True)
            outcome = [
                done
                for done in _correct_periods(appeal=appeal, wait_for_runs=False)
                if done is not None
            ]
            raise _RollBack
    except _RollBack:
        pass
    return outcome


# ---------------------------------------------------------------------------------------------
# Sending the work to a worker, and resuming it.


def enqueue_correction(*, appeal_id: int) -> None:
    """Hand the correction to the Celery task once the decision is committed (with eager tasks
    it runs at the commit)."""
    task = current_app.tasks[CORRECT_APPEAL_TASK]

    def send() -> None:
        try:
            task.apply_async(args=[appeal_id])
        except Exception:
            # The broker is down: the minute sweep sends it once the lease has passed.
            logger.exception("Correction of appeal %s could not be queued", appeal_id)

    transaction.on_commit(send)


def resume_pending_corrections(*, period: str | None = None) -> list[int]:
    """Send again the pending corrections whose lease has passed (the minute sweep), or, after
    a run of ``period`` was published, every pending one (they waited for it). The rows are
    leased again under ``SELECT … FOR UPDATE SKIP LOCKED``, as the runs' sweep does, so two
    sweeps never send one twice."""
    now = timezone.now()
    with transaction.atomic():
        pending = Appeal.objects.filter(correction=CorrectionState.PENDING)
        if period is None:
            pending = pending.filter(
                Q(correction_requested_at__lt=now - lease_length())
                | Q(correction_requested_at=None)
            )
        sent = list(
            pending.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
        )
        Appeal.objects.filter(pk__in=sent).update(correction_requested_at=now)
        for appeal_id in sent:
            enqueue_correction(appeal_id=appeal_id)  # sent once this transaction commits
    return sent


def on_run_published(sender: Any, *, run_id: int, period: str, **kwargs: Any) -> None:
    """A run's publication may have been what a pending correction waited for."""
    try:
        resume_pending_corrections(period=period)
    except Exception:
        logger.exception("Pending corrections could not be resumed after run %s", run_id)
