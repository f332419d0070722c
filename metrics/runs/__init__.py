"""Evaluation runs (SPEC §6), one module a job: ``lifecycle`` (start, claim, publish, fail, take
over), ``chunks`` (compute and stage a chunk; a whole run in this process), ``period_grades``
(every seller's metrics and grade for a period) and ``by_hand`` (the ``evaluate`` command).
The names callers use are gathered here."""

from metrics.runs.by_hand import evaluate_period
from metrics.runs.chunks import chunk_inquiries, compute_chunk, execute_run, prepare_run
from metrics.runs.lifecycle import (
    EARLIEST_PERIOD,
    Progress,
    RunAlreadyOpen,
    claim_run,
    fail_stuck_runs,
    finalize_run,
    mark_failed,
    parse_completed_period,
    progress,
    request_run,
    stale_after,
    stale_open_run,
    stale_runs,
    start_run,
    store_figures,
    take_over,
    with_progress,
)
from metrics.runs.period_grades import (
    NO_LEVEL,
    GradeChange,
    PeriodOutcome,
    SellerGrade,
    chunk_size,
    grade_period,
    grade_sellers,
    held_levels,
    level_counts,
    policy_window,
)

__all__ = [
    "EARLIEST_PERIOD",
    "NO_LEVEL",
    "GradeChange",
    "PeriodOutcome",
    "Progress",
    "RunAlreadyOpen",
    "SellerGrade",
    "chunk_inquiries",
    "chunk_size",
    "claim_run",
    "fail_stuck_runs",
    "compute_chunk",
    "evaluate_period",
    "execute_run",
    "finalize_run",
    "grade_period",
    "grade_sellers",
    "held_levels",
    "level_counts",
    "mark_failed",
    "parse_completed_period",
    "policy_window",
    "prepare_run",
    "progress",
    "request_run",
    "stale_after",
    "stale_open_run",
    "stale_runs",
    "start_run",
    "store_figures",
    "take_over",
    "with_progress",
]
