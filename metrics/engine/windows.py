"""Per-criterion windows (SPEC §5): the window metrics over each criterion's own ``window_days``.

A criterion may read its window metric over the N days before the cutoff instead of the policy
window (Amazon: cancellations over 7 days, defects over 60). A run, the live preview and the
policy what-if compute each DISTINCT extra window once for a chunk of sellers
(``PolicySnapshot.extra_windows``), not once per criterion, with the engine's own
``seller_metrics`` (the figures statement with a seller filter, then the inquiries), and hand
the result to the pure ``grading.grade`` as ``windows``.

Cost: per chunk and per distinct window, the two statements of ``seller_metrics`` for the
chunk's sellers (the figures statement filtered to them, which also re-ranks revenue over every
seller: cumulative figures that a criterion window ignores, but the statement is the engine's
one definition of the window figures).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from metrics.engine.compute import seller_metrics
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
    sellers; each distinct window once (2 queries per window, none without windows or
    sellers). Only the window keys are kept: cumulative metrics ignore a criterion window."""
    distinct = sorted(set(windows))
    result: dict[int, dict[int, Metrics]] = {pk: {} for pk in seller_ids}
    if not distinct or not seller_ids:
        return result
    for days in distinct:
        window = days_window(cutoff=cutoff, days=days, response_window_hours=response_window_hours)
        for pk, metrics in seller_metrics(seller_ids=seller_ids, window=window).items():
            result.setdefault(pk, {})[days] = {key: metrics[key] for key in WINDOW_KEYS}
    return result
