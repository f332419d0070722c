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

from collections.abc import Sequence
from datetime import datetime

from metrics.engine.compute import (
    INQUIRY_METRICS,
    figures_read_by,
    seller_window_metrics,
    window_figures,
)
from metrics.engine.grading import PolicySnapshot
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
    )
    for pk, per_window in computed.items():
        result[pk] = {
            days: {key: metrics[key] for key in read[days]}
            for days, metrics in zip(distinct, per_window, strict=True)
        }
    return result
