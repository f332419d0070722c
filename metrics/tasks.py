"""Thin Celery tasks over metrics.runs: they take ids and strings, never model instances.

Delivery guarantees come from the settings (acks late, reject on worker lost, prefetch 1) and
from ``execute_run`` being idempotent: a redelivered run id is simply redone, a succeeded one
returned as is. The all-or-nothing work is the single replace transaction in runs.py.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import runs
from .models import RunTrigger
from .periods import Period

logger = logging.getLogger(__name__)

MAX_RETRIES = 3


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,  # 1 s, 2 s, 4 s (jittered): a database restart or failover
    retry_backoff_max=300,
    max_retries=MAX_RETRIES,
)
def evaluate_run(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    """Execute evaluation run ``run_id``; returns its final status."""
    try:
        run = runs.execute_run(run_id=run_id)
    except runs.RunAlreadyOpen:
        # A retry of a failed run found another run of its period open: that one wins.
        logger.warning("Evaluation run %s not retried: its period has another open run", run_id)
        return "failed"
    except OperationalError as exc:
        if self.request.retries >= MAX_RETRIES:
            runs.mark_failed(run_id=run_id, error=f"Gave up after {MAX_RETRIES} retries: {exc}")
        raise
    return str(run.status)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_previous_month() -> int | None:
    """The beat entry (00:05 on the 1st, TIME_ZONE): evaluate the month that just ended.

    If a run of that month is already open it is left alone, unless its worker has gone silent
    for ``runs.STALE_AFTER`` (a worker killed mid-run): then this redoes it.
    """
    period = Period.containing(timezone.now()).previous()
    try:
        run = runs.start_run(period=period, trigger=RunTrigger.SCHEDULE)
    except runs.RunAlreadyOpen:
        stale = runs.stale_open_run(period=period)
        if stale is None:
            logger.info("Evaluation of %s already pending or running; skipped", period)
            return None
        logger.warning("Evaluation run %s of %s looks abandoned; redoing it", stale.pk, period)
        run = stale
    return runs.execute_run(run_id=run.pk).pk
