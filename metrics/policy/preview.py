"""What a draft policy would do (SPEC §7 ``POST /api/v1/policy/preview``, §8 admin "preview
impact"): the last evaluated period graded again under the draft, nothing saved.

One function, ``preview_policy``, backs the API and the admin page:

* when the draft's windows (window and response window) are the last run's, it re-grades the
  run's stored metrics with the engine's ``grade`` (milliseconds a thousand sellers);
* when they differ, the stored metrics do not fit the draft: it recomputes every seller's
  metrics for the draft's windows with the run's own read-only code
  (``metrics.runs.period_grades.grade_period``, the dry run of ``evaluate --dry-run``). The API
  does that in a task (``PolicyPreview`` row, 202, polled at ``/api/v1/policy/preview/{id}``).

Either way a seller's draft level is what a real run of that period under the draft would
store: the same ``grade`` with the same levels held (grace). The current side is the run as
stored. Sellers who joined after the run are not in its stored metrics (same windows), so a
re-run could count them too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from common.errors import AppError, Conflict, NotFound
from metrics.engine.grading import (
    DOWN,
    UP,
    PolicySnapshot,
    exact_from_json,
    grade,
    result_to_json,
    stored_windows,
)
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, PolicyPreview, RunStatus, SellerEvaluation
from metrics.policy.services import PolicyInvalid, clean_policy_data, snapshot_of
from metrics.runs.period_grades import (
    chunk_size,
    grade_period,
    held_levels,
    in_chunks,
    level_counts,
    policy_window,
)

logger = logging.getLogger(__name__)

PREVIEW_TASK = "metrics.tasks.preview_policy"


class NoEvaluatedPeriod(Conflict, LookupError):
    """409: nothing to compare with until a period has been evaluated."""

    default_message = (
        "No period has been evaluated yet: a preview re-grades the last evaluated period. "
        "Evaluate one first (POST /api/v1/evaluations or manage.py evaluate)."
    )


class PreviewNotFound(NotFound, LookupError):
    default_message = "No such policy preview."


class TooManyPreviews(AppError):
    """429: the user already has ``POLICY_PREVIEW_MAX_OPEN_PER_USER`` previews computing."""

    status = 429
    default_message = (
        "You already have previews being computed: wait for one to finish "
        "(GET /api/v1/policy/preview/{id}), then post again."
    )


@dataclass(frozen=True)
class Mover:
    seller: str  # external_id
    from_level: str | None
    to_level: str | None
    # The draft's criteria results of this seller when the metrics were recomputed for the
    # draft's windows (the stored ones do not fit it): what explains the move. Kept in the job,
    # not in the API's answer.
    criteria: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class PreviewResult:
    """The answer of SPEC §7: ``period``, ``current`` / ``draft`` level counts, ``movers``."""

    period: str
    current: dict[str, int]
    draft: dict[str, int]
    movers: list[Mover]
    sellers: int
    up: int
    down: int
    recomputed: bool  # True when the metrics were recomputed for the draft's windows
    moves: dict[tuple[str | None, str | None], int] = field(default_factory=dict)

    @property
    def same(self) -> int:
        return self.sellers - self.up - self.down

    @classmethod
    def from_job(cls, data: Mapping[str, Any]) -> PreviewResult:
        """The answer a preview job stored (``to_data`` plus its ``summary``)."""
        summary = data.get("summary") or {}
        explained = data.get("explanations") or {}
        movers = [
            Mover(
                m["seller"],
                m["from"],
                m["to"],
                tuple(explained[m["seller"]]) if m["seller"] in explained else None,
            )
            for m in data["movers"]
        ]
        moves: dict[tuple[str | None, str | None], int] = {}
        for mover in movers:
            move = (mover.from_level, mover.to_level)
            moves[move] = moves.get(move, 0) + 1
        return cls(
            period=data["period"],
            current=dict(data["current"]["level_counts"]),
            draft=dict(data["draft"]["level_counts"]),
            movers=movers,
            sellers=int(summary.get("sellers", 0)),
            up=int(summary.get("up", 0)),
            down=int(summary.get("down", 0)),
            recomputed=True,
            moves=moves,
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "current": {"level_counts": self.current},
            "draft": {"level_counts": self.draft},
            "movers": [
                {"seller": m.seller, "from": m.from_level, "to": m.to_level} for m in self.movers
            ],
        }


def last_evaluated_run() -> EvaluationRun:
    """The succeeded run of the latest evaluated period (its newest run)."""
    run = (
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED)
        .select_related("policy")
        .order_by("-period", "-finished_at", "-id")
        .first()
    )
    if run is None:
        raise NoEvaluatedPeriod()
    return run


def run_snapshot(run: EvaluationRun) -> PolicySnapshot | None:
    """The rules ``run`` was graded under: its stored snapshot (or its policy's rows)."""
    if run.policy_snapshot and run.policy_snapshot.get("levels"):
        return PolicySnapshot.from_json(run.policy_snapshot)
    if run.policy is not None:
        return snapshot_of(run.policy)
    return None


def _window_pairs(snapshot: PolicySnapshot) -> set[tuple[int, str]]:
    """(window days, metric) of every criterion read over a window of its own (SPEC §5)."""
    return {
        (c.own_window, c.metric)
        for level in snapshot.levels
        for c in level.criteria
        if c.own_window is not None and c.own_window != snapshot.window_days
    }


def same_windows(*, run: EvaluationRun, snapshot: PolicySnapshot) -> bool:
    """Whether the run's stored metrics are those the draft would compute: same window and
    same response window for the run's period, and every per-criterion window the draft reads
    (window, metric) stored by the run (a run stores those actuals in its criteria results)."""
    used = run_snapshot(run)
    if used is None:
        return not _window_pairs(snapshot)  # the stored metrics are all there is
    period = Period.parse(run.period)
    return policy_window(period=period, snapshot=used) == policy_window(
        period=period, snapshot=snapshot
    ) and _window_pairs(snapshot) <= _window_pairs(used)


def preview_policy(
    *, snapshot: PolicySnapshot, run: EvaluationRun | None = None, recompute: bool | None = None
) -> PreviewResult:
    """Grade the last evaluated period under ``snapshot``; nothing is written.

    ``recompute`` None decides by the windows (``same_windows``); True forces the metrics to be
    recomputed from orders, messages and reviews. Raises ``NoEvaluatedPeriod``.
    """
    run = run or last_evaluated_run()
    if recompute is None:
        recompute = not same_windows(run=run, snapshot=snapshot)
    period = Period.parse(run.period)
    stored = dict(SellerEvaluation.objects.filter(run=run).values_list("seller_id", "level"))
    graded: Iterable[tuple[int, str, str | None, Any]]
    if recompute:
        graded = (
            (item.seller_id, item.external_id, item.result.level, item.result)
            for item in grade_period(period=period, snapshot=snapshot)
        )
    else:
        graded = ((*row, None) for row in _regraded(run=run, period=period, snapshot=snapshot))
    counts: dict[str | None, int] = {}
    moves: dict[tuple[str | None, str | None], int] = {}
    movers: list[Mover] = []
    up = down = sellers = 0
    for seller_id, external_id, level, recomputed_result in graded:
        sellers += 1
        counts[level] = counts.get(level, 0) + 1
        old_level = stored.get(seller_id)
        moves[(old_level, level)] = moves.get((old_level, level), 0) + 1
        if old_level == level:
            continue
        movers.append(
            Mover(
                seller=external_id,
                from_level=old_level,
                to_level=level,
                criteria=(
                    tuple(result_to_json(recomputed_result)["criteria"])
                    if recomputed_result is not None
                    else None
                ),
            )
        )
        move = snapshot.move(old_level, level)
        up += move == UP
        down += move == DOWN
    movers.sort(key=lambda m: m.seller)
    return PreviewResult(
        period=run.period,
        current=dict(run.level_counts or {}) or _stored_counts(run=run),
        draft=level_counts(counts=counts, snapshot=snapshot),
        movers=movers,
        sellers=sellers,
        up=up,
        down=down,
        recomputed=recompute,
        moves=moves,
    )


def _regraded(
    *, run: EvaluationRun, period: Period, snapshot: PolicySnapshot
) -> Iterator[tuple[int, str, str | None]]:
    """The run's stored metrics graded under ``snapshot``, with the levels held before the
    period (grace) exactly as a run computes them; a chunk of sellers at a time."""
    rows = SellerEvaluation.objects.filter(run=run).order_by("seller_id")
    ids = list(rows.values_list("seller_id", flat=True))
    # Per-criterion windows: their actuals are read back from the stored criteria results
    # (same_windows made sure the run stored every one the draft reads).
    windowed = bool(snapshot.extra_windows)
    for chunk in in_chunks(ids, chunk_size()):
        held = held_levels(seller_ids=chunk, period=period)
        values = rows.filter(seller_id__in=chunk).values_list(
            "seller_id", "seller__external_id", "metrics", "criteria" if windowed else "metrics"
        )
        for seller_id, external_id, stored, criteria in values:
            metrics = {key: exact_from_json(value) for key, value in (stored or {}).items()}
            windows = stored_windows(criteria) if windowed else None
            held_level, grace_used = held.get(seller_id, (None, 0))
            result = grade(
                metrics, snapshot, held_level=held_level, grace_used=grace_used, windows=windows
            )
            yield seller_id, external_id, result.level


def _stored_counts(*, run: EvaluationRun) -> dict[str, int]:
    counts: dict[str | None, int] = {}
    for level in SellerEvaluation.objects.filter(run=run).values_list("level", flat=True):
        counts[level] = counts.get(level, 0) + 1
    used = run_snapshot(run)
    if used is None:
        return {str(k or "none"): v for k, v in counts.items()}
    return level_counts(counts=counts, snapshot=used)


# --- the API's request: answered now, or queued ---------------------------------------------


@dataclass(frozen=True)
class PreviewRequest:
    """``result`` when answered at once (same windows); else the queued ``job``."""

    result: PreviewResult | None = None
    job: PolicyPreview | None = None


def request_preview(
    *, data: Mapping[str, Any], actor: AbstractBaseUser | AnonymousUser | None
) -> PreviewRequest:
    """Validate the draft like ``PUT /api/v1/policy`` (``PolicyInvalid``), find the last
    evaluated period (``NoEvaluatedPeriod``), and answer: re-graded at once when the windows
    are the run's, else a ``PolicyPreview`` job handed to the task after commit."""
    clean, errors = clean_policy_data(data)
    if clean is None:
        raise PolicyInvalid(errors)
    run = last_evaluated_run()
    if same_windows(run=run, snapshot=clean.snapshot):
        result = preview_policy(snapshot=clean.snapshot, run=run, recompute=False)
        return PreviewRequest(result=result)
    return PreviewRequest(job=queue_preview(snapshot=clean.snapshot, run=run, actor=actor))


def draft_key(*, snapshot: PolicySnapshot, run: EvaluationRun, user_id: int | None) -> str:
    """What makes two preview jobs the same: the draft, the run it is compared with, and who
    asked (a job is only ever shown to its creator)."""
    text = json.dumps([run.pk, user_id, snapshot.to_json()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _user_of(actor: AbstractBaseUser | AnonymousUser | None) -> AbstractBaseUser | None:
    if actor is None or not actor.is_authenticated:
        return None
    return actor  # type: ignore[return-value]


def queue_preview(
    *,
    snapshot: PolicySnapshot,
    run: EvaluationRun,
    actor: AbstractBaseUser | AnonymousUser | None,
) -> PolicyPreview:
    """The ``PolicyPreview`` job of ``snapshot`` for ``run``'s period (API and admin alike).

    The same draft asked again by the same user while its job is fresh (not failed, younger
    than ``POLICY_PREVIEW_FRESH_SECONDS``) gets that job: a page reloaded while it computes
    queues nothing new. Otherwise a new job, handed to the task once committed, unless the
    user already has ``POLICY_PREVIEW_MAX_OPEN_PER_USER`` jobs pending or running
    (``TooManyPreviews``, 429). A user's requests are taken one at a time (its row locked), so
    two at once cannot both pass the limit.
    """
    user = _user_of(actor)
    user_id = user.pk if user is not None else None
    key = draft_key(snapshot=snapshot, run=run, user_id=user_id)
    fresh_since = timezone.now() - timedelta(seconds=settings.POLICY_PREVIEW_FRESH_SECONDS)
    with transaction.atomic():
        if user is not None:
            get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
        shared = (
            PolicyPreview.objects.filter(draft_key=key, created_at__gte=fresh_since)
            .exclude(status=RunStatus.FAILED)
            .order_by("-created_at")
            .first()
        )
        if shared is not None:
            return shared
        open_jobs = PolicyPreview.objects.filter(
            created_by_id=user_id, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
        ).count()
        if open_jobs >= settings.POLICY_PREVIEW_MAX_OPEN_PER_USER:
            raise TooManyPreviews()
        job = PolicyPreview.objects.create(
            period=run.period,
            draft=snapshot.to_json(),
            draft_key=key,
            created_by_id=user_id,
        )
    task = current_app.tasks[PREVIEW_TASK]

    def enqueue() -> None:
        try:
            task.apply_async(args=[str(job.pk)])
        except Exception:
            # Eager mode propagates the task's exception; the job is already marked failed.
            logger.exception("Policy preview %s failed", job.pk)

    transaction.on_commit(enqueue)
    return job


def run_preview_job(*, preview_id: uuid.UUID | str) -> str:
    """The task's work: recompute the draft's preview for the job's period; idempotent (a
    finished job is left as it is)."""
    job = PolicyPreview.objects.filter(pk=preview_id).first()
    if job is None or job.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        return job.status if job is not None else "missing"
    PolicyPreview.objects.filter(pk=job.pk).update(status=RunStatus.RUNNING)
    try:
        run = (
            EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED, period=job.period)
            .select_related("policy")
            .order_by("-finished_at", "-id")
            .first()
        )
        if run is None:
            raise NoEvaluatedPeriod(f"The run of {job.period} is gone; post the preview again.")
        result = preview_policy(
            snapshot=PolicySnapshot.from_json(job.draft), run=run, recompute=True
        )
    except Exception as exc:
        PolicyPreview.objects.filter(pk=job.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        raise
    summary = {"sellers": result.sellers, "up": result.up, "down": result.down}
    PolicyPreview.objects.filter(pk=job.pk).update(
        status=RunStatus.SUCCEEDED,
        result={
            **result.to_data(),
            "summary": summary,
            # Each mover's draft criteria, for the admin's "criteria that flipped".
            "explanations": {
                m.seller: list(m.criteria) for m in result.movers if m.criteria is not None
            },
        },
        finished_at=timezone.now(),
    )
    return RunStatus.SUCCEEDED


def preview_job(
    *, preview_id: uuid.UUID | str, actor: AbstractBaseUser | AnonymousUser | None
) -> PolicyPreview:
    """The job, for its creator or a superuser; ``PreviewNotFound`` (404) for anyone else, as
    for an id that does not exist (ids are not confirmed)."""
    try:
        pk = preview_id if isinstance(preview_id, uuid.UUID) else uuid.UUID(str(preview_id))
    except ValueError:
        raise PreviewNotFound() from None
    user = _user_of(actor)
    jobs = PolicyPreview.objects.filter(pk=pk)
    if user is None:
        raise PreviewNotFound()
    if not getattr(user, "is_superuser", False):
        jobs = jobs.filter(created_by_id=user.pk)
    job = jobs.first()
    if job is None:
        raise PreviewNotFound()
    return job


def job_data(job: PolicyPreview) -> dict[str, Any]:
    """``{"id", "status"}``, plus the answer once it succeeded (or ``error`` if it failed)."""
    data: dict[str, Any] = {"id": str(job.pk), "status": job.status}
    if job.status == RunStatus.SUCCEEDED and job.result:
        data.update({k: v for k, v in job.result.items() if k != "summary"})  # admin's
    elif job.status == RunStatus.FAILED:
        data["error"] = job.error
    return data


def tidy_previews(*, now: datetime | None = None) -> tuple[int, int]:
    """The sweep's care of preview jobs: one still open after EVALUATION_DEADLINE_SECONDS
    (its message lost, its worker gone) is marked failed, so a client polling it stops
    waiting; jobs older than POLICY_PREVIEW_KEEP_DAYS are deleted. (deleted, failed)."""
    now = now or timezone.now()
    stuck = timedelta(seconds=settings.EVALUATION_DEADLINE_SECONDS)
    failed = PolicyPreview.objects.filter(
        status__in=[RunStatus.PENDING, RunStatus.RUNNING], created_at__lt=now - stuck
    ).update(
        status=RunStatus.FAILED,
        error="Stuck: no worker finished this preview; post it again.",
        finished_at=now,
    )
    keep = timedelta(days=settings.POLICY_PREVIEW_KEEP_DAYS)
    deleted, _ = PolicyPreview.objects.filter(created_at__lt=now - keep).delete()
    return deleted, failed
