"""Per-criterion windows (SPEC §5): the window metrics over each criterion's own ``window_days``.

A criterion may read its window metric over the N days before the cutoff instead of the policy
window (Amazon: cancellations over 7 days, defects over 60). The live preview and the
notifications' at-risk check compute each DISTINCT extra window once for their sellers
(``PolicySnapshot.extra_windows``), not once per criterion, with the engine's own statements
(``compute.seller_window_metrics``), and hand the result to the pure ``grading.grade`` as
``windows``.

Cost: two statements for a chunk of sellers whatever the number of windows: the figures
statement filtered to them with, per window, only the figures its criteria read (one pass per
table, no revenue rank), and, when a criterion window reads inquiries, one walk of the messages
of the widest such window for all of them. A run does not
call this: its one figures pass stores every window (``compute.store_run_figures``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from metrics.engine.compute import (
    INQUIRY_METRICS,
    POLICY_WINDOW,
    Figures,
    InquiryCounts,
    asked_inquiry_counts,
    figures_read_by,
    seller_window_metrics,
    window_figures,
)
from metrics.engine.grading import PolicySnapshot, exact_from_json, exact_to_json
from metrics.engine.periods import Window, window_to_now
from metrics.engine.registry import METRICS, Metrics

# The keys a window of its own changes: window metrics computed by the engine.
WINDOW_KEYS = tuple(key for key, info in METRICS.items() if info.window and not info.derived)


def days_window(*, cutoff: datetime, days: int, response_window_hours: int) -> Window:
    """[cutoff − ``days`` calendar days, cutoff), like a policy's ``window_days`` (SPEC §3)."""
    return window_to_now(
        now=cutoff,
        window_months=None,
        window_days=days,
        response_window_hours=response_window_hours,
    )


def own_window_needs(snapshot: PolicySnapshot) -> dict[int, frozenset[str]]:
    """Per distinct criterion window of ``snapshot`` (days): the window figures its criteria's
    metrics read (``compute.figures_read_by``); a run and a preview compute only those."""
    return {
        days: figures_read_by(snapshot.own_window_metrics(days)) for days in snapshot.extra_windows
    }


def snapshot_needs(snapshot: PolicySnapshot) -> dict[int, frozenset[str] | None]:
    """Per window of ``snapshot_windows``: the window figures it needs (the policy window: all;
    a criterion window: what its criteria's metrics read)."""
    return {POLICY_WINDOW: None} | own_window_needs(snapshot)


def snapshot_windows(*, policy_window: Window, snapshot: PolicySnapshot) -> dict[int, Window]:
    """Every window a grade needs: POLICY_WINDOW → ``policy_window``, then each distinct
    criterion window (SPEC §5) by its days, to the same cutoff."""
    windows = {POLICY_WINDOW: policy_window}
    for days in snapshot.extra_windows:
        windows[days] = days_window(
            cutoff=policy_window.cutoff,
            days=days,
            response_window_hours=snapshot.response_window_hours,
        )
    return windows


def graded_metrics(
    *,
    seller_ids: Sequence[int],
    windows: Mapping[int, Window],
    snapshot: PolicySnapshot,
    figures: Mapping[int, Sequence[Figures]] | None = None,
    inquiries: Mapping[int, Sequence[InquiryCounts]] | None = None,
) -> dict[int, tuple[Metrics, dict[int, Metrics]]]:
    """{seller id: (its metrics over the policy window, {criterion window days: the metrics its
    criteria read there})}: what ``grading.grade`` takes as metrics and ``windows``.
    ``windows``: ``snapshot_windows``; ``figures``: per seller, its figures per window in that
    order when the caller has them (a run stored them), else computed here in one statement.
    Then one message walk for every window that reads inquiries (``inquiries_of``), unless
    ``inquiries`` holds its result already."""
    days = list(windows)
    if figures is None:
        needs = snapshot_needs(snapshot)
        figures = window_figures(
            windows=list(windows.values()),
            seller_ids=list(seller_ids),
            needs=[needs[d] for d in days],
        )
    read = {d: snapshot.own_window_metrics(d) for d in days[1:]}
    if inquiries is None:
        inquiries = inquiries_of(seller_ids=seller_ids, windows=windows, snapshot=snapshot)
    computed = seller_window_metrics(
        seller_ids=seller_ids,
        windows=list(windows.values()),
        figures=figures,
        inquiries=inquiries,
        keys=[None, *(read[d] for d in days[1:])],
    )
    return {
        pk: (policy, dict(zip(days[1:], own, strict=True)))
        for pk, (policy, *own) in computed.items()
    }


def inquiries_of(
    *, seller_ids: Sequence[int], windows: Mapping[int, Window], snapshot: PolicySnapshot
) -> dict[int, list[InquiryCounts]]:
    """{seller id: its InquiryCounts per window of ``windows`` (``snapshot_windows``)}: one
    message walk for the policy window and each criterion window whose criteria read an
    inquiry metric; the others are left empty (no criterion reads them)."""
    days = list(windows)
    return asked_inquiry_counts(
        seller_ids=seller_ids,
        windows=list(windows.values()),
        asks=[True, *(bool(snapshot.own_window_metrics(d) & INQUIRY_METRICS) for d in days[1:])],
    )


def windows_to_json(windows: Mapping[int, Metrics]) -> dict[str, dict[str, Any]]:
    """Criterion-window metrics as stored (``MonthToDate.windows``): exact values as JSON."""
    return {
        str(days): {key: exact_to_json(value) for key, value in metrics.items()}
        for days, metrics in windows.items()
    }


def windows_from_json(stored: Any, snapshot: PolicySnapshot) -> dict[int, Metrics] | None:
    """Stored criterion-window metrics (``windows_to_json``) when they hold every window and
    metric ``snapshot``'s criteria read, else None (computed for another policy)."""
    if not isinstance(stored, Mapping):
        return None
    result: dict[int, Metrics] = {}
    for days in snapshot.extra_windows:
        values = stored.get(str(days))
        read = snapshot.own_window_metrics(days)
        if not isinstance(values, Mapping) or not read <= set(values):
            return None
        result[days] = {key: exact_from_json(values[key]) for key in read}
    return result


def criterion_window_metrics(
    *,
    seller_ids: Sequence[int],
    cutoff: datetime,
    snapshot: PolicySnapshot,
) -> dict[int, dict[int, Metrics]]:
    """{seller id: {window days: the metrics its criteria read over those days}} for a chunk of
    sellers, to ``cutoff``: each distinct criterion window of ``snapshot`` once (2 queries for
    all of them, the second only when a criterion window reads inquiries; none without windows
    or sellers). Only the figures those metrics read are computed, and nothing cumulative: no
    revenue rank over every seller, which a criterion window never reads."""
    distinct = snapshot.extra_windows
    result: dict[int, dict[int, Metrics]] = {pk: {} for pk in seller_ids}
    if not distinct or not seller_ids:
        return result
    windows = [
        days_window(cutoff=cutoff, days=days, response_window_hours=snapshot.response_window_hours)
        for days in distinct
    ]
    needs = own_window_needs(snapshot)
    read = {days: snapshot.own_window_metrics(days) for days in distinct}
    figures = window_figures(
        windows=windows,
        seller_ids=list(seller_ids),
        needs=[needs[days] for days in distinct],
        cumulative=False,
    )
    computed = seller_window_metrics(
        seller_ids=seller_ids,
        windows=windows,
        figures=figures,
        asks=[bool(read[days] & INQUIRY_METRICS) for days in distinct],
        keys=[read[days] for days in distinct],
    )
    for pk, per_window in computed.items():
        result[pk] = dict(zip(distinct, per_window, strict=True))
    return result
