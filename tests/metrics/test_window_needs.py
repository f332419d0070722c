"""A criterion window computes only the figures its metrics read (``compute.figures_read_by``):
that trimming must never change a value a criterion reads, nor must leaving out the cumulative
figures (the revenue rank over every seller, the all-time buyers) that a preview's criterion
windows skip. For every window metric, the metric
computed from figures where only what it reads is kept (every other figure zeroed, as the
trimmed statement leaves them) equals the metric computed from all the figures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.engine.compute import (
    INQUIRY_METRICS,
    WINDOW_FIGURES,
    Figures,
    InquiryCounts,
    figures_read_by,
    metrics_of,
)
from metrics.engine.periods import Window
from metrics.engine.windows import WINDOW_KEYS

WINDOW = Window(
    cutoff=datetime(2026, 10, 31, 15, tzinfo=UTC),
    start=datetime(2026, 10, 1, 15, tzinfo=UTC),
    response_window_hours=24,
)
counts = st.integers(min_value=0, max_value=50)


@st.composite
def figures(draw: st.DrawFn) -> Figures:
    values = {name: draw(counts) for name in WINDOW_FIGURES}
    ranked = draw(st.integers(min_value=1, max_value=50))
    return Figures(
        joined_at=datetime(2025, 1, 1, tzinfo=UTC),
        unique_buyers=draw(counts),
        revenue_rank=draw(st.integers(min_value=1, max_value=ranked)),
        ranked_sellers=ranked,
        **values,
    )


@settings(max_examples=200, deadline=None)
@given(full=figures())
def test_every_window_metric_reads_only_the_figures_it_declares(full: Figures):
    asked = InquiryCounts(inquiries=3, answered_in_time=2)
    everything = metrics_of(full, asked, WINDOW)
    for key in WINDOW_KEYS:
        kept = figures_read_by([key])
        zeroed: dict[str, Any] = {name: 0 for name in WINDOW_FIGURES if name not in kept}
        # and what the criterion windows' statement leaves out (``cumulative=False``).
        zeroed |= {"revenue_rank": None, "ranked_sellers": 0, "unique_buyers": 0}
        trimmed = dataclasses.replace(full, **zeroed)
        assert metrics_of(trimmed, asked, WINDOW)[key] == everything[key], key


def test_an_inquiry_metric_reads_no_figure_and_every_other_window_metric_reads_one():
    for key in WINDOW_KEYS:
        assert bool(figures_read_by([key])) is (key not in INQUIRY_METRICS), key
