"""Thin Celery tasks over metrics.runs: they take ids and strings, never model instances.

A run executes one way: ``evaluate_run`` claims and prepares it and sends one
``evaluate_chunk`` per chunk not done; any worker takes any chunk; the task that finishes the
last chunk publishes the period (``runs.finalize_run``). In this process (``runs.execute_run``,
or eager tasks without a broker) the very same tasks are applied here (on a few threads on
PostgreSQL, ``runs.apply_chunks``). Every
step is idempotent, so a redelivered or duplicated message only repeats work: acks late, reject
on worker lost and prefetch 1 come from the settings. Runs and chunks are held under leases
(``metrics.runs.lease``); ``sweep_stale_runs`` (the beat, every minute) re-queues what expired
and fails a run past its deadline.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from metrics import runs, signals
from metrics.appeals.corrections import correct_appeal as run_correction
from metrics.appeals.corrections import resume_pending_corrections
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, MonthToDate, RunTrigger
from metrics.policy import preview as policy_preview
from metrics.runs import preview

logger = logging.getLogger(__name__)

MAX_RETRIES = 3
_RETRY = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,  # 1 s, 2 s, 4 s (jittered): a database restart or failover
    "retry_backoff_max": 300,
    "max_retries": MAX_RETRIES,
}


def _give_up(task, run_id: int, exc: Exception) -> None:  # type: ignore[no-untyped-def]
    if task.request.retries >= MAX_RETRIES:
        runs.mark_failed(run_id=run_id, error=f"Gave up after {MAX_RETRIES} retries: {exc}")


@shared_task(**_RETRY)
def evaluate_run(self, run_id: int, in_process: bool = False) -> str:  # type: ignore[no-untyped-def]
    """Prepare run ``run_id`` and send its chunks that are not done yet (``in_process``: apply
    each chunk's task here, ``runs.apply_chunks``)."""
    try:
        pending = runs.prepare_run(run_id=run_id, ahead=in_process)
    except runs.RunAlreadyOpen:
        # A retry of a failed run found another run of its period open: that one wins.
        logger.warning("Evaluation run %s not retried: its period has another open run", run_id)
        return "failed"
    except OperationalError as exc:
        _give_up(self, run_id, exc)
        raise
    except Exception as exc:
        runs.mark_failed(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if not pending:  # no sellers, or every chunk already done: publish now
        return str(runs.finalize_run(run_id=run_id).status)
    if in_process:
        try:
            runs.apply_chunks(evaluate_chunk, run_id=run_id, indexes=pending)
        finally:
            runs.forget_walked_ahead(run_id=run_id)
    else:
        for index in pending:
            evaluate_chunk.apply_async(args=[run_id, index])
    # "running" with workers; with eager tasks the chunks (and the publication) are done.
    return str(EvaluationRun.objects.values_list("status", flat=True).get(pk=run_id))


@shared_task(**_RETRY)
def evaluate_chunk(self, run_id: int, index: int) -> str:  # type: ignore[no-untyped-def]
    """Compute and stage one chunk; the task that completes the run's last chunk publishes it."""
    try:
        if runs.compute_chunk(run_id=run_id, index=index):
            return str(runs.finalize_run(run_id=run_id).status)
    except OperationalError as exc:
        _give_up(self, run_id, exc)
        raise
    except Exception as exc:
        runs.mark_failed(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    return "running"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_stale_runs() -> list[int]:
    """The beat, every minute: the one sweep of the runs' leases (``runs.sweep``: fail the runs
    past the deadline, re-queue expired chunks and runs; the ids of the runs re-queued); then
    fail stuck policy previews and delete old ones, and send again each appeal correction whose
    lease expired. (Its name is the beat entry's.)"""
    requeued = runs.sweep()
    policy_preview.tidy_previews()
    resume_pending_corrections()
    return requeued


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_month_to_date() -> int:
    """The beat: every seller's month-to-date preview figures, as of now; then
    ``signals.month_to_date_refreshed`` (the at-risk emails listen)."""
    now = timezone.now()
    refreshed = preview.refresh_month_to_date(now=now)
    signals.month_to_date_refreshed.send(
        sender=MonthToDate, as_of=now, period=str(Period.containing(now))
    )
    return refreshed


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_previous_month() -> int | None:
    """The beat entry (00:05 on the 1st, TIME_ZONE): evaluate the month that just ended, through
    ``runs.request_run`` like every other start (its task sent once the run row commits).

    A run of that month already open is left alone, unless its lease expired: then it is
    re-queued (its id is returned).
    """
    period = Period.containing(timezone.now()).previous()
    try:
        return runs.request_run(period=period, trigger=RunTrigger.SCHEDULE).pk
    except runs.RunAlreadyOpen:
        logger.info("Evaluation of %s already pending or running; skipped", period)
        return None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def preview_policy(preview_id: str) -> str:
    """A draft policy's what-if with its own windows (POST /api/v1/policy/preview → 202)."""
    return policy_preview.run_preview_job(preview_id=preview_id)


@shared_task(**_RETRY)
def correct_appeal(self, appeal_id: int) -> str:  # type: ignore[no-untyped-def]
    """Carry out an accepted appeal's correction (idempotent: a redelivered or repeated task
    finds the periods already corrected and goes on); ``pending`` when it waits for an open
    run of a period (resumed after that run's publication, or by the sweep)."""
    return run_correction(appeal_id=appeal_id)
