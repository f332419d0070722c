"""Per-criterion windows (SPEC §5): the window metrics over each criterion's own ``window_days``.

A criterion may read its window metric over the N days before the cutoff instead of the policy
window (Amazon: cancellations over 7 days, defects over 60). The live preview and the
notifications' at-risk check compute each DISTINCT extra window once for their sellers
(``PolicySnapshot.extra_windows``), not once per criterion, with the engine's own statements
(``compute.seller_window_metrics``), and hand the result to the pure ``grading.grade`` as
``windows``.

Cost: two statements for a chunk of sellers whatever the number of windows: the figures
statement filtered to them with one set of window columns per window (one pass per table), and
one walk of the messages of the widest window for the inquiries of all of them. A run does not
call this: its one figures pass stores every window (``compute.store_run_figures``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from metrics.engine.compute import seller_window_metrics
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


def criterion_window_metrics(
    *,
    seller_ids: Sequence[int],
    cutoff: datetime,
    windows: Iterable[int],
    response_window_hours: int,
) -> dict[int, dict[int, Metrics]]:
    """{seller id: {window days: the seller's window metrics over those days}} for a chunk of
    sellers; each distinct window once (2 queries for all of them, none without windows or
    sellers). Only the window keys are kept: cumulative metrics ignore a criterion window."""
    distinct = sorted(set(windows))
    result: dict[int, dict[int, Metrics]] = {pk: {} for pk in seller_ids}
    if not distinct or not seller_ids:
        return result
    windows_of = [
        days_window(cutoff=cutoff, days=days, response_window_hours=response_window_hours)
        for days in distinct
    ]
    computed = seller_window_metrics(seller_ids=seller_ids, windows=windows_of)
    for pk, per_window in computed.items():
        result[pk] = {
            days: {key: metrics[key] for key in WINDOW_KEYS}
            for days, metrics in zip(distinct, per_window, strict=True)
        }
    return result
