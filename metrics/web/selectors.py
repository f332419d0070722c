"""Reads behind the grade, evidence and evaluation endpoints (selectors: no writes).

Each selector is a fixed number of queries, whatever the length of a seller's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from common.ingest import usable_lookup
from metrics.engine.evidence import EvidenceItems, evidence_items
from metrics.engine.grading import NO_RANK, PolicySnapshot
from metrics.engine.periods import Period, Window, window_for_period
from metrics.models import EvaluationCorrection, EvaluationRun, RunStatus, SellerEvaluation
from metrics.policy.services import active_policy, snapshot_of
from orders.models import Seller
from orders.selectors import sellers_for


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
    found = list(evaluations[:limit] if limit is not None else evaluations)
    attach_corrections(found)
    return found


def attach_corrections(evaluations: list[SellerEvaluation]) -> None:
    """Give each corrected evaluation its latest correction as ``latest_correction`` (one query,
    none when nothing was corrected): what ``corrected_from`` shows."""
    corrected = {e.period: e for e in evaluations if e.corrected_at is not None}
    for evaluation in evaluations:
        evaluation.latest_correction = None
    if not corrected:
        return
    seller_ids = {e.seller_id for e in corrected.values()}
    rows = EvaluationCorrection.objects.filter(
        seller_id__in=seller_ids, period__in=list(corrected)
    ).order_by("period", "-corrected_at", "-id")
    for correction in rows:
        found = corrected.get(correction.period)
        if (
            found is not None
            and found.seller_id == correction.seller_id
            and found.latest_correction is None
        ):
            found.latest_correction = correction


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


@dataclass(frozen=True)
class StaffOverview:
    """What a staff user sees at ``/`` (SPEC §8)."""

    last_run: EvaluationRun | None  # the newest run, whatever its status, with its progress
    period: str | None  # the latest period with a succeeded run: the published grades
    previous_period: str | None
    # [{"level", "rank", "count", "previous", "change"}], best level first; no level last
    distribution: list[dict[str, Any]]
    movers_up: list[SellerEvaluation]  # the biggest rises in rank first
    movers_down: list[SellerEvaluation]  # the biggest falls first
    at_risk: list[SellerEvaluation]
    at_risk_count: int
    ranks: dict[str, int]  # the period's policy: level name → rank


def rank_move(ranks: Mapping[str, int]) -> CombinedExpression:
    """``PolicySnapshot.move`` in SQL, for an evaluation row: its level's rank minus its previous
    level's under a policy's ``ranks`` (> 0 up, < 0 down, 0 same). No level, and a level the
    policy no longer has, rank ``NO_RANK`` (below every level), as ``move_rank`` says: the one
    rule of the staff overview's movers and of ``GET /api/v1/grades?moved=``."""
    previous_rank = Case(
        *[When(previous_level=name, then=Value(rank)) for name, rank in ranks.items()],
        default=Value(NO_RANK),
        output_field=IntegerField(),
    )
    # level_rank: the level's rank under the policy the row was graded with (null: no level).
    return Coalesce(F("level_rank"), Value(NO_RANK)) - previous_rank


def staff_overview(*, movers: int, at_risk: int) -> StaffOverview:
    """The last run, the latest period's grade distribution against the period before, its
    biggest movers and its sellers at risk. Seven queries, whatever the number of sellers."""
    from metrics.runs import with_progress

    last_run = with_progress(EvaluationRun.objects.order_by("-created_at", "-id")).first()
    published = (
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED)
        .order_by("-period", "-finished_at", "-id")
        .values_list("period", "policy_snapshot")
        .first()
    )
    if published is None:
        return StaffOverview(last_run, None, None, [], [], [], [], 0, {})
    period, stored_policy = published
    previous = str(Period.parse(period).previous())
    ranks = PolicySnapshot.from_json(stored_policy or {}).ranks

    counts: dict[str | None, dict[str, Any]] = {}
    rows = (
        SellerEvaluation.objects.filter(period__in=[period, previous])
        .values_list("period", "level", "level_rank")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row_period, level, rank, n in rows:
        entry = counts.setdefault(
            level, {"level": level, "rank": ranks.get(level or "", rank), "count": 0, "previous": 0}
        )
        entry["count" if row_period == period else "previous"] += n
    distribution = sorted(
        counts.values(), key=lambda e: (e["level"] is None, -(e["rank"] if e["rank"] else 0))
    )
    for entry in distribution:
        entry["change"] = entry["count"] - entry["previous"]

    movers_up: list[SellerEvaluation] = []
    movers_down: list[SellerEvaluation] = []
    moved = (
        SellerEvaluation.objects.filter(period=period, previous_level__isnull=False)
        .annotate(move=rank_move(ranks))
        .select_related("seller")
    )
    if ranks:
        up = moved.filter(move__gt=0).order_by("-move", "seller__external_id")
        down = moved.filter(move__lt=0).order_by("move", "seller__external_id")
        movers_up, movers_down = list(up[:movers]), list(down[:movers])
    risky = SellerEvaluation.objects.filter(period=period, at_risk=True)
    return StaffOverview(
        last_run=last_run,
        period=period,
        previous_period=previous,
        distribution=distribution,
        movers_up=movers_up,
        movers_down=movers_down,
        at_risk=list(risky.select_related("seller").order_by("seller__external_id")[:at_risk]),
        at_risk_count=risky.count(),
        ranks=ranks,
    )


# --- a period's grades for every seller (SPEC §7 `GET /api/v1/grades`) -------------------------

# What each grade item is read from: one row per seller, no model instances (an export of
# 100,000 sellers streams these tuples through a server-side cursor).
GRADE_COLUMNS = (
    "seller_id",
    "seller__external_id",
    "period",
    "level",
    "previous_level",
    "at_risk",
    "metrics",
)
MOVES = ("up", "down", "changed")


def latest_graded_period() -> str | None:
    """The latest period with published grades (1 query, on the (period, level) index)."""
    return SellerEvaluation.objects.order_by("-period").values_list("period", flat=True).first()


def period_grades(
    *,
    period: Period,
    level: str | None = None,
    moved: str | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[SellerEvaluation]:
    """Every seller's grade of ``period``, filtered, in seller order (the cursor's key).

    ``moved``: ``up``/``down`` as ``PolicySnapshot.move`` decides under the policy the period was
    graded with (``rank_move``: no level, and a level that policy does not have, rank below
    every level, as on the staff overview and in the emails); ``changed``:
    the level differs from a previous one. A first evaluation (no previous level) never moved.
    One query to read the period's policy when ``moved`` is up or down, none otherwise (the
    rows are read by the caller, page by page or streamed).
    """
    grades = SellerEvaluation.objects.filter(period=str(period))
    if level is not None:
        grades = grades.filter(level=level)
    if updated_since is not None:
        grades = grades.filter(updated_at__gte=updated_since)
    if moved == "changed":
        grades = grades.filter(previous_level__isnull=False).filter(
            Q(level__isnull=True) | ~Q(level=F("previous_level"))
        )
    elif moved in ("up", "down"):
        ranks = period_policy(period=period).ranks
        grades = grades.filter(previous_level__isnull=False).annotate(move=rank_move(ranks))
        grades = grades.filter(move__gt=0) if moved == "up" else grades.filter(move__lt=0)
    return grades.order_by("seller_id")


def sellers_with_grade(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Seller]:
    """The sellers ``user`` may see (``orders.selectors.sellers_for``), each with the level and
    period of its latest evaluation annotated as ``grade_level`` and ``grade_period`` (null
    before any): two correlated subqueries on the (seller, period) unique index, no query per
    seller."""
    latest = SellerEvaluation.objects.filter(seller_id=OuterRef("pk")).order_by("-period")
    return (
        sellers_for(user=user)
        .annotate(
            grade_period=Subquery(latest.values("period")[:1]),
            grade_level=Subquery(latest.values("level")[:1]),
        )
        .order_by("external_id")
    )


@dataclass(frozen=True)
class Leaving:
    """The misses of the evaluated window that are older than the next evaluation's window:
    they drop out at its cutoff (SPEC §8 "what leaves the window")."""

    start: datetime  # the evaluated window's start
    until: datetime  # the next evaluation's window start (the slice is [start, until))
    drops_on: datetime  # the next evaluation's cutoff
    late_replies: int
    late_deliveries: int
    cancelled_orders: int
    negative_reviews: int

    @property
    def any(self) -> bool:
        return bool(
            self.late_replies + self.late_deliveries + self.cancelled_orders + self.negative_reviews
        )


def leaving_window(
    *, seller_id: int, period: Period, next_period: Period, policy: PolicySnapshot
) -> Leaving | None:
    """What leaves ``period``'s window by ``next_period``'s evaluation, counted from the stored
    items with the filters the metrics count with (``engine.compute``): 3 queries. None for an
    all-time window (nothing ever leaves it) or when the next window starts no later."""
    from metrics.engine.compute import delivered_q, finished_q, inquiry_counts, window_reviews_q
    from orders.models import Order
    from reviews.models import Review

    def window(p: Period) -> Window:
        return window_for_period(
            period=p,
            window_months=policy.window_months,
            window_days=policy.window_days,
            response_window_hours=policy.response_window_hours,
        )

    now, then = window(period), window(next_period)
    if now.start is None or then.start is None or then.start <= now.start:
        return None
    # The slice [start, next start) as a window of its own: an inquiry's deadline, a delivery,
    # a completion or cancellation, a review in it, judged as of the slice's end. A reply after
    # the slice's end is after the deadline anyway, so "in time" is the same as in the window.
    part = Window(
        cutoff=min(then.start, now.cutoff),
        start=now.start,
        response_window_hours=now.response_window_hours,
    )
    # Counted in SQL (PostgreSQL): the biggest seller's month holds tens of thousands of
    # inquiries, which built as rows took ~300 ms of its dashboard at scale L.
    asked = inquiry_counts(seller_ids=[seller_id], window=part).get(seller_id)
    late_replies = 0 if asked is None else asked.inquiries - asked.answered_in_time
    # Only the orders delivered or cancelled in the slice are read (the seller's delivered_at and
    # cancelled_at indexes), not every order the seller ever had: the biggest seller's dashboard
    # counted all of them on every view.
    in_slice = Q(delivered_at__gte=part.start, delivered_at__lt=part.cutoff) | Q(
        cancelled_at__gte=part.start, cancelled_at__lt=part.cutoff
    )
    orders = Order.objects.filter(in_slice, seller_id=seller_id).aggregate(
        late=Count(
            "id", filter=delivered_q(part) & Q(due_at__isnull=False, delivered_at__gt=F("due_at"))
        ),
        cancelled=Count(
            "id",
            filter=finished_q(part)
            & Q(
                cancelled_at__isnull=False,
                cancelled_at__gte=part.start,
                cancelled_at__lt=part.cutoff,
            ),
        ),
    )
    negative = Review.objects.filter(
        window_reviews_q(part), order__seller_id=seller_id, rating__lte=2
    ).count()
    return Leaving(
        start=now.start,
        until=part.cutoff,
        drops_on=then.cutoff,
        late_replies=late_replies,
        late_deliveries=orders["late"],
        cancelled_orders=orders["cancelled"],
        negative_reviews=negative,
    )


# --- staff: find any seller, and one seller's history ----------------------------------------

STAFF_SORTS = ("seller", "-seller", "level", "-level", "move", "-move", "name")
MOVEMENTS = ("up", "down", "same")


def staff_sellers(
    *,
    period: str,
    ranks: dict[str, int],
    query: str = "",
    level: str = "",
    movement: str = "",
    at_risk: bool = False,
    sort: str = "seller",
) -> Any:
    """The period's evaluations, with their sellers, filtered and sorted for the staff overview:
    ``query`` matches the external id (exactly or as a prefix) or the name (contains); ``level``
    ("none" for no level); ``movement`` up / down / same against the previous level's rank under
    the period's policy. A lazy queryset (the page reads one slice of it)."""
    from django.db.models import Q

    previous_rank = Case(
        *[When(previous_level=name, then=Value(rank)) for name, rank in ranks.items()],
        default=None,
        output_field=IntegerField(),
    )
    rows = (
        SellerEvaluation.objects.filter(period=period)
        .select_related("seller")
        .annotate(move=Coalesce(F("level_rank"), Value(-1)) - Coalesce(previous_rank, Value(-1)))
    )
    text = query.strip()
    if text:
        rows = rows.filter(
            Q(seller__external_id__istartswith=text)
            | Q(seller__display_name__icontains=text)
            | Q(seller__username__icontains=text)
        )
    if level == "none":
        rows = rows.filter(level__isnull=True)
    elif level:
        rows = rows.filter(level=level)
    if movement == "up":
        rows = rows.filter(previous_level__isnull=False, move__gt=0)
    elif movement == "down":
        rows = rows.filter(previous_level__isnull=False, move__lt=0)
    elif movement == "same":
        rows = rows.filter(move=0)
    if at_risk:
        rows = rows.filter(at_risk=True)
    orders: dict[str, list[Any]] = {
        "seller": ["seller__external_id"],
        "-seller": ["-seller__external_id"],
        "name": ["seller__display_name", "seller__external_id"],
        "level": [F("level_rank").asc(nulls_first=True), "seller__external_id"],
        "-level": [F("level_rank").desc(nulls_last=True), "seller__external_id"],
        "move": ["move", "seller__external_id"],
        "-move": ["-move", "seller__external_id"],
    }
    return rows.order_by(*orders.get(sort, orders["seller"]))


def seller_by_external_id(*, external_id: str) -> Seller | None:
    if not usable_lookup(external_id):
        return None
    return Seller.objects.filter(external_id=external_id).first()


def flipped_criteria(
    before: list[dict[str, Any]] | None, after: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The reason of a move: the criteria (as stored by grading) whose result differs from the
    previous evaluation's, matched on level, metric, op, threshold and any_of; a criterion the
    previous policy did not have counts as flipped when it fails now (it is new and holds)."""
    from decimal import Decimal

    def key(c: dict[str, Any]) -> tuple[str, str, str, Decimal, str]:
        return (c["level"], c["metric"], c["op"], Decimal(str(c["value"])), c.get("any_of") or "")

    earlier = {key(c): bool(c["passed"]) for c in before or []}
    flipped = []
    for c in after:
        was = earlier.get(key(c))
        if (was is None and not c["passed"] and before is not None) or (
            was is not None and was != bool(c["passed"])
        ):
            flipped.append(c)
    return flipped
