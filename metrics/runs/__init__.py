"""Evaluation runs (SPEC §6), one module a job: ``lifecycle`` (start, claim, publish, fail,
re-queue, the sweep), ``lease`` (the one lease model of runs and chunks), ``chunks`` (compute
and stage a chunk; a whole run's tasks in this process), ``period_grades`` (every seller's
metrics and grade for a period) and ``by_hand`` (the ``evaluate`` command).
The names callers use are gathered here."""

from metrics.runs.by_hand import evaluate_period
from metrics.runs.chunks import (
    apply_chunks,
    compute_chunk,
    execute_run,
    forget_walked_ahead,
    prepare_run,
)
from metrics.runs.lease import deadline, lease_length
from metrics.runs.lifecycle import (
    EARLIEST_PERIOD,
    Progress,
    RunAlreadyOpen,
    claim_run,
    expired_runs,
    fail_runs_past_deadline,
    finalize_run,
    mark_failed,
    parse_completed_period,
    progress,
    request_run,
    requeue_expired_chunks,
    requeue_expired_runs,
    start_run,
    store_figures,
    sweep,
    with_progress,
)
from metrics.runs.period_grades import (
    NO_LEVEL,
    GradeChange,
    PeriodOutcome,
    SellerGrade,
    chunk_size,
    grade_chunk,
    grade_period,
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
    "chunk_size",
    "claim_run",
    "apply_chunks",
    "compute_chunk",
    "deadline",
    "evaluate_period",
    "execute_run",
    "forget_walked_ahead",
    "expired_runs",
    "fail_runs_past_deadline",
    "finalize_run",
    "grade_chunk",
    "grade_period",
    "held_levels",
    "lease_length",
    "level_counts",
    "mark_failed",
    "parse_completed_period",
    "policy_window",
    "prepare_run",
    "progress",
    "request_run",
    "requeue_expired_chunks",
    "requeue_expired_runs",
    "start_run",
    "store_figures",
    "sweep",
    "with_progress",
]
