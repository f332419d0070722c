"""Reads behind the grade, evidence and evaluation endpoints (selectors: no writes).

Each selector is a fixed number of queries, whatever the length of a seller's history.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from common.ingest import usable_lookup
from metrics.engine.evidence import EvidenceItems, evidence_items
from metrics.engine.grading import PolicySnapshot
from metrics.engine.periods import Period, window_for_period
from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from metrics.policy.services import active_policy, snapshot_of
from orders.models import Seller


def visible_seller(*, user: AbstractBaseUser | AnonymousUser, external_id: str) -> Seller | None:
    """The seller ``user`` may read: any for staff, only its own for a seller user (1 query).

    None for everything else, so the API answers 404 and never confirms another seller's id.
    """
    if not user.is_authenticated or not usable_lookup(external_id):
        return None
    sellers = Seller.objects.filter(external_id=external_id)
    if not getattr(user, "is_staff", False):
        sellers = sellers.filter(user_id=user.pk)
    return sellers.first()


def latest_evaluation(*, seller_id: int) -> SellerEvaluation | None:
    """The seller's evaluation of the latest evaluated period (1 query)."""
    return SellerEvaluation.objects.filter(seller_id=seller_id).order_by("-period").first()


def seller_evaluations(*, seller_id: int, limit: int | None = None) -> list[SellerEvaluation]:
    """The seller's evaluations (the newest ``limit`` of them), newest period first (1 query)."""
    evaluations = SellerEvaluation.objects.filter(seller_id=seller_id).order_by("-period")
    return list(evaluations[:limit] if limit is not None else evaluations)


def period_policy(*, period: Period) -> PolicySnapshot:
    """The policy the period's stored results were graded under; the active one if none.

    The stored results belong to the period's latest succeeded run (a failed run replaces
    nothing), so that run's snapshot explains them.
    """
    run = (
        EvaluationRun.objects.filter(period=str(period), status=RunStatus.SUCCEEDED)
        .exclude(policy_snapshot={})
        .order_by("-finished_at", "-id")
        .only("policy_snapshot")
        .first()
    )
    if run is not None:
        return PolicySnapshot.from_json(run.policy_snapshot)
    return snapshot_of(active_policy())


def seller_evidence(*, seller_id: int, period: Period, metric: str) -> EvidenceItems:
    """The items behind a window metric of ``period`` (SPEC §7 evidence), failing ones first.

    Two queries before any item is read (the period's policy, and the inquiries for the
    response metrics); orders and reviews are then counted, paged or streamed lazily.
    ValueError (or OverflowError) for a metric with no evidence items or a period whose window
    cannot be computed (e.g. 0001-01 with a three-month window); NoActivePolicy when the
    period was never evaluated and no policy is active.
    """
    policy = period_policy(period=period)
    window = window_for_period(
        period=period,
        window_months=policy.window_months,
        window_days=policy.window_days,
        response_window_hours=policy.response_window_hours,
    )
    return evidence_items(seller_id=seller_id, window=window, metric=metric)


def evaluation_run(*, run_id: int) -> EvaluationRun | None:
    from metrics.runs import with_progress

    return with_progress(EvaluationRun.objects.filter(pk=run_id)).first()


def succeeded_periods() -> set[str]:
    """Periods that have a succeeded run (``evaluate_history --if-missing``)."""
    return set(
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED)
        .values_list("period", flat=True)
        .distinct()
    )
