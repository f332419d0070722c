"""The month-to-date preview (SPEC §7 grade/preview): the grade "if evaluated today".

Computing a seller's month so far means ranking every seller's revenue, so it is not done per
request. The metrics are kept in ``MonthToDate``, one row per seller, with the instant they are
computed to (``as_of``) and the metrics the policy's criteria with a window of their own read
over those windows (SPEC §5; every window in the same figures statement):

- the beat refreshes every seller's row (``refresh_month_to_date``, a few seconds at 10,000
  sellers; its interval is a django-celery-beat entry, editable in admin);
- a request whose seller has no row, or one older than ``PREVIEW_MAX_AGE_SECONDS``, from another
  month or for another policy's windows, computes that one seller on demand and stores it.

The grade itself is always graded at read time, from those metrics under the active policy and
the level the seller holds, by the one ``grading.grade``. Nothing of a preview is a result:
only runs write SellerEvaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from metrics.engine.compute import window_figures
from metrics.engine.grading import (
    GradeResult,
    PolicySnapshot,
    exact_from_json,
    exact_to_json,
    grade,
    with_score,
)
from metrics.engine.periods import Period, Window, window_to_now
from metrics.engine.registry import ENGINE_METRIC_KEYS, Metrics
from metrics.engine.windows import (
    graded_metrics,
    snapshot_needs,
    snapshot_windows,
    windows_from_json,
    windows_to_json,
)
from metrics.models import MonthToDate, SellerEvaluation
from metrics.policy.services import active_policy, snapshot_of
from metrics.runs import chunk_size
from orders.models import Seller

# Rows per upsert of the refresh.
UPSERT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class GradePreview:
    """The projected grade "if evaluated today" (SPEC §7 grade/preview); nothing is stored."""

    period: Period
    effective_from: datetime
    metrics: Metrics
    result: GradeResult
    rank: int | None
    as_of: datetime
    policy: PolicySnapshot | None = None  # the active policy it was graded under


def max_age() -> timedelta:
    return timedelta(seconds=settings.PREVIEW_MAX_AGE_SECONDS)


def _window(*, now: datetime, snapshot: PolicySnapshot) -> Window:
    return window_to_now(
        now=now,
        window_months=snapshot.window_months,
        window_days=snapshot.window_days,
        response_window_hours=snapshot.response_window_hours,
    )


def _fits(row: MonthToDate, *, now: datetime, snapshot: PolicySnapshot) -> bool:
    """The stored row answers for ``now`` under this policy's window (its criterion windows:
    ``windows_from_json``)."""
    return (
        row.as_of <= now
        and now - row.as_of <= max_age()
        and Period.containing(row.as_of) == Period.containing(now)
        and row.window_months == snapshot.window_months
        and row.window_days == snapshot.window_days
        and row.response_window_hours == snapshot.response_window_hours
        and set(row.metrics) == set(ENGINE_METRIC_KEYS)
    )


def _row(
    *,
    seller_id: int,
    as_of: datetime,
    snapshot: PolicySnapshot,
    metrics: Metrics,
    windows: Mapping[int, Metrics],
) -> dict:
    return {
        "seller_id": seller_id,
        "as_of": as_of,
        "window_months": snapshot.window_months,
        "window_days": snapshot.window_days,
        "response_window_hours": snapshot.response_window_hours,
        "metrics": {key: exact_to_json(value) for key, value in metrics.items()},
        "windows": windows_to_json(windows),
    }


def month_to_date(
    *, seller: Seller, snapshot: PolicySnapshot, now: datetime
) -> tuple[Metrics, dict[int, Metrics], datetime]:
    """The seller's month-to-date metrics, its criterion windows' metrics ({days: metrics},
    what ``grade`` takes as ``windows``) and their ``as_of``: the stored row when it fits, else
    computed now for this seller alone (every window in one statement) and stored."""
    row = MonthToDate.objects.filter(seller_id=seller.pk).first()
    stored = None if row is None else windows_from_json(row.windows, snapshot)
    if row is not None and stored is not None and _fits(row, now=now, snapshot=snapshot):
        metrics = {key: exact_from_json(row.metrics[key]) for key in ENGINE_METRIC_KEYS}
        return metrics, stored, row.as_of
    windows = snapshot_windows(policy_window=_window(now=now, snapshot=snapshot), snapshot=snapshot)
    metrics, own = graded_metrics(seller_ids=[seller.pk], windows=windows, snapshot=snapshot)[
        seller.pk
    ]
    _store([_row(seller_id=seller.pk, as_of=now, snapshot=snapshot, metrics=metrics, windows=own)])
    return metrics, own, now


def _store(rows: list[dict]) -> None:
    """Insert or replace month-to-date rows (one INSERT ... ON CONFLICT per batch)."""
    MonthToDate.objects.bulk_create(
        [MonthToDate(**row) for row in rows],
        batch_size=UPSERT_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["seller"],
        update_fields=[
            "as_of",
            "window_months",
            "window_days",
            "response_window_hours",
            "metrics",
            "windows",
        ],
    )


def preview_grade(*, seller: Seller, now: datetime | None = None) -> GradePreview:
    """The seller's grade for the month so far (cutoff = ``as_of``) under the active policy.

    The held level is the seller's latest stored evaluation (of a period before this month),
    so grace applies exactly as the coming evaluation would apply it.
    """
    now = now or timezone.now()
    period = Period.containing(now)
    snapshot = snapshot_of(active_policy())
    metrics, windows, as_of = month_to_date(seller=seller, snapshot=snapshot, now=now)
    held = (
        SellerEvaluation.objects.filter(seller_id=seller.pk, period__lt=str(period))
        .order_by("-period")
        .values_list("level", "grace_used")
        .first()
    )
    held_level, grace_used = held if held else (None, 0)
    metrics = with_score(metrics, snapshot)
    result = grade(metrics, snapshot, held_level=held_level, grace_used=grace_used, windows=windows)
    return GradePreview(
        period=period,
        effective_from=period.cutoff,
        metrics=metrics,
        result=result,
        rank=snapshot.rank_of(result.level),
        as_of=as_of,
        policy=snapshot,
    )


def refresh_month_to_date(*, now: datetime | None = None) -> int:
    """Every seller's month-to-date metrics as of ``now``, chunk by chunk (the beat's job).

    The order and review figures are read once for all sellers (a few integers each); the
    metrics are computed and stored one chunk at a time. Returns the number of sellers refreshed.
    """
    now = now or timezone.now()
    snapshot = snapshot_of(active_policy())
    windows = snapshot_windows(policy_window=_window(now=now, snapshot=snapshot), snapshot=snapshot)
    needs = snapshot_needs(snapshot)
    figures = window_figures(
        windows=list(windows.values()), seller_ids=None, needs=[needs[d] for d in windows]
    )
    ids = sorted(figures)
    size = chunk_size()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        computed = graded_metrics(
            seller_ids=chunk, windows=windows, snapshot=snapshot, figures=figures
        )
        _store(
            [
                _row(seller_id=pk, as_of=now, snapshot=snapshot, metrics=values, windows=own)
                for pk, (values, own) in computed.items()
            ]
        )
    return len(ids)
