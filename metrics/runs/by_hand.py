"""A period evaluated by hand (``manage.py evaluate``): the run in this process, or a dry run
that writes nothing, and the grade changes to print."""

from __future__ import annotations

import logging

from metrics.engine.periods import Period
from metrics.models import (
    RunTrigger,
    SellerEvaluation,
)
from metrics.policy.services import active_policy, snapshot_of
from metrics.runs.chunks import execute_run
from metrics.runs.lifecycle import start_run
from metrics.runs.period_grades import GradeChange, PeriodOutcome, grade_period, level_counts

logger = logging.getLogger(__name__)


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
