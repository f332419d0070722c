"""Grading a period (SPEC §4–§5): every seller's metrics and grade, read only.

Shared by the run's chunk tasks, the dry run and the ``evaluate`` command: the engine's queries, the
levels held (grace), and the one pure ``grading.grade``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery

from metrics.engine.compute import (
    Figures,
    InquiryCounts,
    window_figures,
)
from metrics.engine.grading import GradeResult, PolicySnapshot, grade, with_score
from metrics.engine.periods import Period, Window, window_for_period
from metrics.engine.registry import Metrics
from metrics.engine.windows import (
    graded_metrics,
    inquiries_of,
    snapshot_needs,
    snapshot_windows,
)
from metrics.models import (
    EvaluationRun,
    SellerEvaluation,
)
from orders.models import Seller

logger = logging.getLogger(__name__)


def chunk_size() -> int:
    """Sellers per chunk (one task): ``EVALUATION_CHUNK_SIZE`` (settings: how it was measured)."""
    return int(settings.EVALUATION_CHUNK_SIZE)


NO_LEVEL = "none"  # level_counts key of sellers that reach no level


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


def policy_window(*, period: Period, snapshot: PolicySnapshot) -> Window:
    return window_for_period(
        period=period,
        window_months=snapshot.window_months,
        window_days=snapshot.window_days,
        response_window_hours=snapshot.response_window_hours,
    )


def run_windows(*, period: Period, snapshot: PolicySnapshot) -> dict[int, Window]:
    """Every window a grade of ``period`` needs (``snapshot_windows``)."""
    return snapshot_windows(
        policy_window=policy_window(period=period, snapshot=snapshot), snapshot=snapshot
    )


def grade_chunk(
    *,
    seller_ids: Sequence[int],
    period: Period,
    snapshot: PolicySnapshot,
    figures: Mapping[int, Figures] | None = None,
    own_figures: Mapping[int, Mapping[int, Figures]] | None = None,
    inquiries: Mapping[int, Sequence[InquiryCounts]] | None = None,
) -> list[SellerGrade]:
    """One chunk: metrics and grade of these sellers for ``period`` (reads only). A run's chunk
    task and the dry run both grade with it.

    ``figures`` / ``own_figures``: the sellers' figures over the policy window and over each
    criterion window ({seller: {days: figures}}) when the caller has them (a run stored them in
    its one pass); otherwise computed here (one query for every window). ``inquiries``: what
    ``chunk_inquiries`` returns, when the caller walked them already; otherwise one query for
    the inquiries of every window. Then one query for the external ids and one for the levels
    held. The metrics graded and stored carry ``success_score`` (the policy's score on the
    policy-window values)."""
    windows = run_windows(period=period, snapshot=snapshot)
    days = list(windows)
    per_window = None
    if figures is not None:
        own = own_figures or {}
        per_window = {
            pk: [figures[pk], *(own[pk][d] for d in days[1:])] for pk in seller_ids if pk in figures
        }
    computed = graded_metrics(
        seller_ids=seller_ids,
        windows=windows,
        snapshot=snapshot,
        figures=per_window,
        inquiries=inquiries,
    )
    external_ids = dict(
        Seller.objects.filter(pk__in=list(computed)).values_list("pk", "external_id")
    )
    held = held_levels(seller_ids=list(computed), period=period)
    graded = []
    for pk in sorted(computed):
        policy_metrics, own_metrics = computed[pk]
        held_level, grace_used = held.get(pk, (None, 0))
        metrics = with_score(policy_metrics, snapshot)
        result = grade(
            metrics, snapshot, held_level=held_level, grace_used=grace_used, windows=own_metrics
        )
        graded.append(SellerGrade(pk, external_ids[pk], held_level, metrics, result))
    return graded


def chunk_inquiries(
    *, seller_ids: Sequence[int], period: Period, snapshot: PolicySnapshot
) -> dict[int, list[InquiryCounts]]:
    """The inquiries ``grade_chunk`` reads for these sellers: one walk for every window of
    ``period`` that reads them (the policy window, and each criterion window whose criteria
    read an inquiry metric). It needs no figures, so it may run before they are stored."""
    windows = run_windows(period=period, snapshot=snapshot)
    return inquiries_of(seller_ids=seller_ids, windows=windows, snapshot=snapshot)


def grade_period(*, period: Period, snapshot: PolicySnapshot) -> Iterator[SellerGrade]:
    """Every seller's grade for ``period`` without storing anything (a dry run: the policy
    preview, ``evaluate --dry-run``): the run's chunks (the same cut, by primary key) graded by
    the same ``grade_chunk``; every window's figures read once for all sellers (the run's one
    pass), held in memory rather than stored."""
    windows = run_windows(period=period, snapshot=snapshot)
    days = list(windows)
    needs = snapshot_needs(snapshot)
    every = window_figures(
        windows=list(windows.values()), seller_ids=None, needs=[needs[d] for d in days]
    )
    figures = {pk: per_window[0] for pk, per_window in every.items()}
    own = {pk: dict(zip(days[1:], per_window[1:], strict=True)) for pk, per_window in every.items()}
    for chunk in in_chunks(sorted(figures), chunk_size()):
        yield from grade_chunk(
            seller_ids=chunk, period=period, snapshot=snapshot, figures=figures, own_figures=own
        )


def held_levels(*, seller_ids: Sequence[int], period: Period) -> dict[int, tuple[str | None, int]]:
    """seller id → (final level, grace_used) of its evaluation of the latest earlier period.

    Driven by the sellers (one backward step on the (seller, period) index each): filtering
    the evaluations by seller and comparing their period with a correlated subquery made
    PostgreSQL scan every evaluation of every period (41 ms a chunk of 1,000 at scale S with
    one period stored, growing with the history)."""
    latest = SellerEvaluation.objects.filter(
        seller_id=OuterRef("pk"), period__lt=str(period)
    ).order_by("-period")
    rows = (
        Seller.objects.filter(pk__in=seller_ids)
        .annotate(
            held_period=Subquery(latest.values("period")[:1]),
            held_level=Subquery(latest.values("level")[:1]),
            held_grace=Subquery(latest.values("grace_used")[:1]),
        )
        .filter(held_period__isnull=False)
        .values_list("pk", "held_level", "held_grace")
    )
    return {seller_id: (level, grace_used) for seller_id, level, grace_used in rows}


def level_counts(*, counts: dict[str | None, int], snapshot: PolicySnapshot) -> dict[str, int]:
    """{level name: sellers} for every level of the policy (rank order), null → "none"."""
    ordered = {
        level.name: counts.get(level.name, 0)
        for level in sorted(snapshot.levels, key=lambda lv: lv.rank)
    }
    ordered[NO_LEVEL] = counts.get(None, 0) + counts.get(NO_LEVEL, 0)
    return ordered


def in_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
