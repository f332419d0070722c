"""The seller's grade dashboard and evidence pages (SPEC §8).

The pages show exactly what the API returns (the same payload builders), so the dashboard and
integrations never disagree; no threshold is re-checked here: pass/fail comes from grading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_POST

from common.errors import AppError
from metrics.appeals import services as appeal_services
from metrics.engine.evidence import ITEM_COLUMNS, evidence_kind
from metrics.engine.grading import (
    NextLevel,
    PolicySnapshot,
    exact_from_json,
    score_parts,
    success_score,
)
from metrics.engine.periods import Period
from metrics.engine.registry import METRICS, Metrics, to_decimal
from metrics.models import (
    MAX_APPEAL_REASON,
    Appeal,
    AppealStatus,
    EvaluationRun,
    SellerEvaluation,
)
from metrics.runs.preview import preview_grade
from metrics.web import selectors, sentences
from metrics.web.serializers import (
    EvaluationSerializer,
    Grade,
    GradePreviewSerializer,
    GradeSerializer,
    Preview,
    RunSerializer,
)
from orders.models import Order, Seller
from orders.selectors import seller_currency

# The rates a seller watches first, in the order the dashboard lists them.
MAIN_METRICS = (
    "response_rate",
    "success_rate",
    "on_time_rate",
    "average_rating",
    "completed_orders",
    "revenue",
)
HISTORY_LENGTH = 12
# Items a page of the evidence page (the API's default page size too).
EVIDENCE_PAGE_SIZE = 100
CHART_RATES = ("response_rate", "success_rate", "on_time_rate")
# The staff overview lists this many movers each way and sellers at risk (links lead to all).
OVERVIEW_MOVERS = 10
OVERVIEW_AT_RISK = 20
# The run statuses as staff read them (RunStatus's labels, marked for translation here so the
# model's choices, and so its migrations, stay as they are).
STATUS_LABELS = {
    "pending": gettext_noop("Pending"),
    "running": gettext_noop("Running"),
    "succeeded": gettext_noop("Succeeded"),
    "failed": gettext_noop("Failed"),
}


def _seller_for(request: HttpRequest) -> Seller | None:
    # Views using this are login_required: the user has a primary key.
    return Seller.objects.filter(user_id=cast(int, request.user.pk)).first()


def _exact(stored: dict[str, Any] | None) -> Metrics:
    return {key: exact_from_json(value) for key, value in (stored or {}).items()}


def _has_evidence(metric: str) -> bool:
    try:
        evidence_kind(metric)
    except ValueError:
        return False
    return True


def _evidence_links(
    seller: Seller, metric: str, period: str | None, *, as_staff: bool = False
) -> dict[str, str] | None:
    if not period or not _has_evidence(metric):
        return None
    # Staff looking at a seller's page follow its evidence for that seller (issue 21).
    query = urlencode({"period": period, **({"seller": seller.external_id} if as_staff else {})})
    csv = urlencode({"period": period, "metric": metric, "format": "csv"})
    return {
        "page": f"{reverse('evidence', args=[metric])}?{query}",
        "csv": f"/api/v1/sellers/{quote(seller.external_id, safe='')}/evidence?{csv}",
    }


def _metric_rows(
    *,
    seller: Seller,
    grade: dict[str, Any],
    exact: Metrics,
    currency: str,
    response_hours: int,
    as_staff: bool = False,
) -> list[dict[str, Any]]:
    """Main metrics plus every metric the next level asks for: the value as the seller counts
    it, the counts behind a rate, each threshold of the next level with a progress bar, and
    the evidence links (the page and the CSV)."""
    next_level = grade["next_level"]
    thresholds: dict[str, list[dict[str, Any]]] = {}
    if next_level:
        for criterion in grade["criteria"]:
            if criterion["level"] == next_level["level"]:
                thresholds.setdefault(criterion["metric"], []).append(criterion)
    groups: dict[str, list[str]] = {}  # any_of label → its metrics, for "(or Revenue)"
    for criteria in thresholds.values():
        for c in criteria:
            if c["any_of"]:
                groups.setdefault(c["any_of"], []).append(c["metric"])
    # The main metrics, then every other metric the policy's levels use (a program metric
    # appears only where the policy uses it), the next level's first.
    used = list(thresholds) + [c["metric"] for c in grade["criteria"]]
    keys = list(MAIN_METRICS) + [k for k in dict.fromkeys(used) if k not in MAIN_METRICS]
    rows = []
    for key in keys:
        actual = grade["metrics"].get(key)
        checks = [
            {
                "needed": sentences.value(key, c["value"], currency=currency),
                "op": c["op"],
                "passed": c["passed"],
                "others": _(", or ").join(
                    sentences.metric_label(m) for m in groups.get(c["any_of"], []) if m != key
                ),
                "progress": sentences.progress(c["op"], c["value"], c["actual"]),
            }
            for c in thresholds.get(key, [])
        ]
        rows.append(
            {
                "key": key,
                "label": sentences.metric_label(key),
                "window": METRICS[key].window if key in METRICS else True,
                "actual": actual,
                "shown": sentences.value(key, actual, currency=currency),
                "counts": sentences.rate_counts(key, exact, response_hours=response_hours),
                "checks": checks,
                "evidence": _evidence_links(seller, key, grade["period"], as_staff=as_staff),
            }
        )
    return rows


def _chart(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last periods' levels and main rates as an inline SVG drawn here (no JS, no CDN):
    a left axis 0–100 % for the rates, a right axis 1–5 for the average rating, a bar per
    period for the level (its name written on it), each point's value in its tooltip and on
    the last point, and month labels with the year under the first month and each January.

    None with fewer than two periods: one point is no trend; the table says it all.
    """
    periods = list(reversed(history[:HISTORY_LENGTH]))
    if len(periods) < 2:
        return None
    width, height = 640, 240
    left, right, top, bottom = 44, 40, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / (len(periods) - 1)
    base = top + plot_h
    max_rank = max([p["rank"] or 0 for p in periods] + [1])

    def x(i: int) -> float:
        return left + i * step

    def y_rate(value: float) -> float:
        return base - (value / 100) * plot_h

    def y_rating(value: float) -> float:
        return base - ((value - 1) / 4) * plot_h

    series = []
    for number, key in enumerate((*CHART_RATES, "average_rating"), start=1):
        scale = y_rating if key == "average_rating" else y_rate
        points = []
        for i, p in enumerate(periods):
            raw = p["metrics"].get(key)
            if raw is None:
                continue
            points.append(
                {
                    "x": round(x(i), 1),
                    "y": round(scale(max(0.0, raw)), 1),
                    "text": sentences.value(key, raw, currency=""),
                    "month": sentences.month(p["period"]),
                }
            )
        series.append(
            {
                "key": key,
                "n": number,
                "label": sentences.metric_label(key),
                "points": points,
                "line": " ".join(f"{pt['x']},{pt['y']}" for pt in points),
                "last": points[-1] if points else None,
            }
        )
    bars = []
    for i, p in enumerate(periods):
        h = ((p["rank"] or 0) / max_rank) * plot_h * 0.5
        period = Period.parse(p["period"])
        bars.append(
            {
                "x": round(x(i) - 8, 1),
                "y": round(base - h, 1),
                "h": round(h, 1),
                "cx": round(x(i), 1),
                "period": sentences.month(p["period"]),
                "level": sentences.level_name(p["level"]),
                "short": f"{period.month:02d}",
                "year": str(period.year) if i == 0 or period.month == 1 else "",
            }
        )
    y_ticks = [
        {
            "y": round(y_rate(v), 1),
            "label": sentences.percent(v),
            "rating": sentences.number(1 + v / 25),
        }
        for v in (0, 25, 50, 75, 100)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "base": base,
        "series": series,
        "bars": bars,
        "y_ticks": y_ticks,
    }


# The customer-success measures (SPEC §4): a card of their own on the dashboard when the
# policy uses any of them, with the trend over the last periods.
CUSTOMER_SUCCESS = (
    "csat_percent",
    "nps",
    "median_resolution_hours",
    "buyer_retention_rate",
    "buyer_churn_rate",
)
_SPARK_WIDTH, _SPARK_HEIGHT = 120, 28


def _policy_metrics(policy: PolicySnapshot | None) -> set[str]:
    """Every metric a policy reads: its criteria's and its score's."""
    if policy is None:
        return set()
    used = {c.metric for level in policy.levels for c in level.criteria}
    used |= {part.metric for part in getattr(policy, "score", None) or ()}
    return used


def _customer_success(
    *, history: list[dict[str, Any]], policy: PolicySnapshot | None, currency: str
) -> list[dict[str, Any]]:
    """The card's rows: each customer-success metric the policy uses, its latest value and its
    trend over the last periods (oldest first) as a small server-drawn line."""
    used = [key for key in CUSTOMER_SUCCESS if key in _policy_metrics(policy)]
    rows = []
    periods = list(reversed(history[:HISTORY_LENGTH]))
    for key in used:
        values = [e["metrics"].get(key) for e in periods]
        known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
        points = ""
        if len(known) >= 2:
            low = min(v for _, v in known)
            high = max(v for _, v in known)
            span = (high - low) or 1.0
            step = _SPARK_WIDTH / max(len(values) - 1, 1)
            points = " ".join(
                f"{i * step:.1f},{_SPARK_HEIGHT - 2 - (v - low) / span * (_SPARK_HEIGHT - 4):.1f}"
                for i, v in known
            )
        rows.append(
            {
                "key": key,
                "label": sentences.metric_label(key),
                "shown": sentences.value(key, values[-1] if values else None, currency=currency),
                "trend": [
                    {
                        "month": sentences.month(e["period"]),
                        "shown": sentences.value(key, v, currency=currency),
                    }
                    for e, v in zip(periods, values, strict=True)
                ],
                "points": points,
            }
        )
    return rows


def _history_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "period": e["period"],
            "month": sentences.month(e["period"]),
            "level": sentences.level_name(e["level"]) or "—",
            "at_risk": e["at_risk"],
            "corrected_on": (
                sentences.date(datetime.fromisoformat(e["corrected_at"]))
                if e.get("corrected_at")
                else ""
            ),
            "corrected_from": sentences.level_name((e.get("corrected_from") or {}).get("level"))
            if e.get("corrected_from")
            else "",
            "rates": [
                sentences.value(key, e["metrics"].get(key), currency="")
                for key in (*CHART_RATES, "average_rating")
            ],
        }
        for e in history
    ]


def _run_policy(evaluation: SellerEvaluation | None) -> PolicySnapshot | None:
    """The policy the evaluation was graded under (its run's snapshot; 1 query)."""
    if evaluation is None:
        return None
    stored = (
        EvaluationRun.objects.filter(pk=evaluation.run_id)
        .values_list("policy_snapshot", flat=True)
        .first()
    )
    return PolicySnapshot.from_json(stored) if stored else None


def _grace(
    evaluation: SellerEvaluation | None, policy: PolicySnapshot | None
) -> tuple[str, str] | None:
    if evaluation is None or not evaluation.at_risk or not evaluation.level:
        return None
    return sentences.grace_explained(
        level=evaluation.level,
        computed_level=evaluation.computed_level,
        period=evaluation.period,
        grace_used=evaluation.grace_used,
        grace_months=policy.demotion_grace_months if policy else evaluation.grace_used,
    )


def _score_rows(policy: PolicySnapshot | None, exact: Metrics) -> dict[str, Any] | None:
    """The success score and each part's contribution (``grading.score_parts``, exact, rounded
    here for display) when the policy has a score; the sentences are the pages' (issue 21)."""
    if policy is None or not policy.score:
        return None
    total = success_score(exact, policy)
    return {
        "total": None if total is None else to_decimal(total),
        "parts": [
            {
                "metric": part.metric,
                "label": sentences.metric_label(part.metric),
                "counted": part.counted,
                "points": to_decimal(part.points),
                "earned": to_decimal(part.earned),
            }
            for part in score_parts(exact, policy)
        ],
    }


def _ladder(
    policy: PolicySnapshot | None, *, level: str | None, currency: str
) -> list[dict[str, Any]]:
    """Every level of the policy, lowest first, with its requirements as sentences."""
    if policy is None:
        return []
    return [
        {
            "name": sentences.level_name(spec.name),
            "current": spec.name == level,
            "rules": sentences.level_rules(spec, currency=currency),
        }
        for spec in sorted(policy.levels, key=lambda lvl: lvl.rank)
    ]


def _leaving(
    *,
    seller: Seller,
    current: SellerEvaluation | None,
    policy: PolicySnapshot | None,
) -> list[str]:
    """What drops out of the evaluated window at the next evaluation (3 queries, then kept in
    the cache for ``PREVIEW_MAX_AGE_SECONDS``, as fresh as the month-to-date preview beside it:
    it counts a closed slice of the evaluated window, which only late data changes, and the
    biggest seller's month of messages took ~45 ms of every dashboard view at scale S)."""
    if current is None or policy is None:
        return []
    period = Period.parse(current.period)
    following = period.next()  # the next evaluation (a missed month is caught up first)
    leaving = cache.get_or_set(
        f"leaving:{current.run_id}:{current.pk}",
        lambda: selectors.leaving_window(
            seller_id=seller.pk, period=period, next_period=following, policy=policy
        ),
        timeout=settings.PREVIEW_MAX_AGE_SECONDS,
    )
    return sentences.leaving_sentences(leaving)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return staff_overview(request)
    seller = _seller_for(request)
    if seller is None:
        return render(request, "dashboard/no_seller.html", status=403)
    return _seller_dashboard(request, seller)


@staff_member_required
def staff_seller_dashboard(request: HttpRequest, external_id: str) -> HttpResponse:
    """What the seller sees at ``/``, for staff (SPEC §8 "a link to what the seller sees")."""
    seller = selectors.seller_by_external_id(external_id=external_id)
    if seller is None:
        raise Http404("No such seller.")
    return _seller_dashboard(request, seller, as_staff=True)


def _seller_dashboard(
    request: HttpRequest, seller: Seller, *, as_staff: bool = False
) -> HttpResponse:
    # The last HISTORY_LENGTH evaluations, newest first: the newest is the current grade.
    evaluations = selectors.seller_evaluations(seller_id=seller.pk, limit=HISTORY_LENGTH)
    current = evaluations[0] if evaluations else None
    grade = GradeSerializer(Grade(seller.external_id, current)).data
    policy = _run_policy(current)
    projection = preview_grade(seller=seller)
    preview = GradePreviewSerializer(Preview(seller.external_id, projection)).data
    active = projection.policy or policy
    currency = seller_currency(seller_id=seller.pk)
    history: list[dict[str, Any]] = list(EvaluationSerializer(evaluations, many=True).data)
    exact = _exact(current.metrics if current else None)
    rules = policy or active
    hours = rules.response_window_hours if rules else 24
    preview_hours = active.response_window_hours if active else hours
    current_period = Period.containing(projection.as_of)
    context = {
        "seller": seller,
        "as_staff": as_staff,
        "grade": grade,
        "level": sentences.level_name(grade["level"]),
        "next_level": sentences.level_name((grade["next_level"] or {}).get("level")),
        "effective_date": (
            sentences.date(Period.parse(grade["period"]).cutoff) if grade["period"] else ""
        ),
        "period_month": sentences.month(grade["period"]) if grade["period"] else "",
        "window": sentences.window_phrase(
            window_months=rules.window_months if rules else 3,
            window_days=rules.window_days if rules else None,
        ),
        "requirements": sentences.missing_requirements(
            next_level=NextLevel.from_json(current.next_level if current else None),
            exact=exact,
            currency=currency,
            response_hours=hours,
        ),
        "leaving": _leaving(seller=seller, current=current, policy=policy),
        "grace": _grace(current, policy),
        "rows": _metric_rows(
            seller=seller,
            grade=grade,
            exact=exact,
            currency=currency,
            response_hours=hours,
            as_staff=as_staff,
        ),
        "preview": preview,
        "preview_level": sentences.level_name(preview["level"]),
        "preview_next_level": sentences.level_name((preview["next_level"] or {}).get("level")),
        "preview_requirements": sentences.missing_requirements(
            next_level=projection.result.next_level,
            exact=projection.metrics,
            currency=currency,
            response_hours=preview_hours,
        ),
        "preview_rows": _metric_rows(
            seller=seller,
            grade={**preview, "period": None},
            exact=projection.metrics,
            currency=currency,
            response_hours=preview_hours,
        ),
        "preview_effective_date": sentences.date(projection.effective_from),
        "preview_as_of": projection.as_of,
        "preview_as_of_text": sentences.moment(projection.as_of),
        "first_evaluation": {
            "month": sentences.month(current_period),
            "date": sentences.date(current_period.cutoff),
        },
        "ladder": _ladder(rules, level=grade["level"], currency=currency),
        "history": _history_rows(history),
        "customer_success": _customer_success(history=history, policy=rules, currency=currency),
        "chart": _chart(history),
        "score": _score_rows(policy, exact),
    }
    return render(request, "dashboard/index.html", context)


def staff_overview(request: HttpRequest) -> HttpResponse:
    """What a staff user sees at ``/`` (SPEC §8): the last run, the grade distribution and its
    change, the biggest movers, the sellers at risk, with links into admin."""
    overview = selectors.staff_overview(movers=OVERVIEW_MOVERS, at_risk=OVERVIEW_AT_RISK)
    run = overview.last_run
    run_data = None
    if run is not None:
        end = run.finished_at or (timezone.now() if run.started_at else None)
        run_data = {
            **RunSerializer(run).data,
            "status_label": _(STATUS_LABELS.get(run.status, run.status)),
            "month": sentences.month(run.period),
            "duration": _duration(run.started_at, end),
            "created_text": sentences.moment(run.created_at),
        }
    search = _staff_search(request, period=overview.period, ranks=overview.ranks)
    context = {
        "search": search,
        "run": run_data,
        "period_month": sentences.month(overview.period) if overview.period else "",
        "previous_month": (
            sentences.month(overview.previous_period) if overview.previous_period else ""
        ),
        "distribution": [
            {**row, "name": sentences.level_name(row["level"]) or _("No level")}
            for row in overview.distribution
        ],
        "movers_up": _movers(overview.movers_up),
        "movers_down": _movers(overview.movers_down),
        "at_risk": [
            {
                "seller": e.seller,
                "level": sentences.level_name(e.level),
                "computed": sentences.level_name(e.computed_level) or _("No level"),
                "grace_used": e.grace_used,
            }
            for e in overview.at_risk
        ],
        "at_risk_count": overview.at_risk_count,
        "period": overview.period,
        "satisfaction": _satisfaction(overview.period),
    }
    return render(request, "dashboard/staff_overview.html", context)


# The staff overview's spread of satisfaction over sellers (issue 18): bucket bounds, lower
# bound included, the last bucket's upper bound included.
SATISFACTION_BUCKETS = {
    "nps": (-100, -50, 0, 30, 50, 70, 100),
    "csat_percent": (0, 50, 70, 80, 90, 100),
}


def _satisfaction(period: str | None) -> list[dict[str, Any]]:
    """Per measure, how many sellers of the period fall in each bucket, and how many have no
    data (one query reading just those two metric keys of every evaluation)."""
    if not period:
        return []
    counts = {key: [0] * (len(bounds) - 1) for key, bounds in SATISFACTION_BUCKETS.items()}
    no_data = dict.fromkeys(SATISFACTION_BUCKETS, 0)
    rows = SellerEvaluation.objects.filter(period=period).values_list(
        *(f"metrics__{key}" for key in SATISFACTION_BUCKETS)
    )
    for values in rows.iterator(chunk_size=2000):
        for key, stored in zip(SATISFACTION_BUCKETS, values, strict=True):
            value = exact_from_json(stored)
            if value is None:
                no_data[key] += 1
                continue
            bounds = SATISFACTION_BUCKETS[key]
            index = next(
                (i for i in range(len(bounds) - 1) if value < bounds[i + 1]), len(bounds) - 2
            )
            counts[key][index] += 1
    result = []
    for key, bounds in SATISFACTION_BUCKETS.items():
        total = sum(counts[key]) or 1
        result.append(
            {
                "key": key,
                "label": sentences.metric_label(key),
                "buckets": [
                    {
                        "range": " – ".join(sentences.number(b) for b in bounds[i : i + 2]),
                        "count": n,
                        "width": round(100 * n / total),
                    }
                    for i, n in enumerate(counts[key])
                ],
                "no_data": no_data[key],
            }
        )
    return result


STAFF_PAGE_SIZE = 50


def _staff_search(
    request: HttpRequest, *, period: str | None, ranks: dict[str, int]
) -> dict[str, Any] | None:
    """The overview's "find a seller": by id or name, filters by level, movement and at-risk,
    a sort; one page of the latest period's evaluations (2 queries)."""
    if period is None:
        return None
    params = {
        "q": request.GET.get("q", "")[:100],
        "level": request.GET.get("level", ""),
        "movement": request.GET.get("movement", ""),
        "at_risk": request.GET.get("at_risk", "") == "1",
        "sort": request.GET.get("sort", "seller"),
    }
    if params["sort"] not in selectors.STAFF_SORTS:
        params["sort"] = "seller"
    if params["movement"] not in selectors.MOVEMENTS:
        params["movement"] = ""
    searched = any(request.GET.get(k) for k in ("q", "level", "movement", "at_risk", "sort"))
    choices = {
        "searched": searched,
        "levels": [
            (name, sentences.level_name(name))
            for name, _rank in sorted(ranks.items(), key=lambda item: -item[1])
        ],
        "movements": [("up", _("Moved up")), ("down", _("Moved down")), ("same", _("Same level"))],
        "sorts": [
            ("seller", _("Seller id")),
            ("name", _("Name")),
            ("-level", _("Level, best first")),
            ("level", _("Level, lowest first")),
            ("-move", _("Biggest rise first")),
            ("move", _("Biggest fall first")),
        ],
    }
    if not searched:
        return {**params, **choices}
    rows = selectors.staff_sellers(
        period=period,
        ranks=ranks,
        query=str(params["q"]),
        level=str(params["level"]),
        movement=str(params["movement"]),
        at_risk=bool(params["at_risk"]),
        sort=str(params["sort"]),
    )
    try:
        page = Paginator(rows, STAFF_PAGE_SIZE).page(request.GET.get("page") or 1)
    except InvalidPage:
        page = Paginator(rows, STAFF_PAGE_SIZE).page(1)
    query = {k: v for k, v in request.GET.items() if k != "page"}
    return {
        **params,
        **choices,
        "page": page,
        "rows": [
            {
                "seller": e.seller,
                "level": sentences.level_name(e.level) or _("No level"),
                "previous": sentences.level_name(e.previous_level) or _("No level"),
                "move": e.move if e.previous_level is not None else None,
                "at_risk": e.at_risk,
            }
            for e in page.object_list
        ],
        "query": urlencode(query),
    }


@staff_member_required
def staff_seller(request: HttpRequest, external_id: str) -> HttpResponse:
    """A staff page per seller (SPEC §8): level history, the reason of each move (the criteria
    that flipped), appeals, a link to what the seller sees."""
    seller = selectors.seller_by_external_id(external_id=external_id)
    if seller is None:
        raise Http404("No such seller.")
    evaluations = selectors.seller_evaluations(seller_id=seller.pk)
    currency = seller_currency(seller_id=seller.pk)
    history = []
    for i, e in enumerate(evaluations):
        before = evaluations[i + 1] if i + 1 < len(evaluations) else None
        moved = e.previous_level != e.level and before is not None
        flipped = (
            selectors.flipped_criteria(before.criteria if before else None, e.criteria)
            if moved
            else []
        )
        history.append(
            {
                "period": e.period,
                "month": sentences.month(e.period),
                "level": sentences.level_name(e.level) or _("No level"),
                "previous": sentences.level_name(e.previous_level) or _("No level"),
                "moved": moved,
                "at_risk": e.at_risk,
                "grace_used": e.grace_used,
                "reasons": [
                    {
                        "level": sentences.level_name(c["level"]),
                        "rule": sentences.rule_sentence(
                            metric=c["metric"],
                            op=c["op"],
                            threshold=Decimal(str(c["value"])),
                            currency=currency,
                        ),
                        "passed": c["passed"],
                        "actual": sentences.value(
                            c["metric"], exact_from_json(c.get("actual")), currency=currency
                        )
                        if c["metric"] in METRICS
                        else "",
                    }
                    for c in flipped
                ],
            }
        )
    context = {
        "seller": seller,
        "history": history,
        "current": history[0] if history else None,
        "appeals": appeal_services.seller_appeals(seller_id=seller.pk),
    }
    return render(request, "dashboard/staff_seller.html", context)


def _movers(evaluations: list[SellerEvaluation]) -> list[dict[str, Any]]:
    return [
        {
            "seller": e.seller,
            "from": sentences.level_name(e.previous_level) or _("No level"),
            "to": sentences.level_name(e.level) or _("No level"),
        }
        for e in evaluations
    ]


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    mins, secs = divmod(seconds, 60)
    return _("%(minutes)s min %(seconds)s s") % {"minutes": mins, "seconds": secs}


@login_required
def evidence(request: HttpRequest, metric: str) -> HttpResponse:
    """One page of the items behind a window metric (the API's evidence), failing ones first.

    A period that is not YYYY-MM, or whose window cannot be computed (0001-01, 9998-12), and a
    page that does not exist are a 404, like an unknown metric.
    """
    seller = _seller_for(request)
    as_staff = False
    if getattr(request.user, "is_staff", False) and request.GET.get("seller"):
        # A staff user following a seller's page (the staff seller view) sees its evidence.
        seller = selectors.seller_by_external_id(external_id=request.GET["seller"])
        as_staff = True
    if seller is None or metric not in METRICS or not _has_evidence(metric):
        raise Http404("No evidence for this metric.")
    try:
        period = Period.parse(request.GET.get("period", ""))
        items = selectors.seller_evidence(seller_id=seller.pk, period=period, metric=metric)
    except (ValueError, OverflowError) as exc:  # a period too far out to have a window
        raise Http404(str(exc)) from exc
    try:
        page = Paginator(items, EVIDENCE_PAGE_SIZE).page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404(str(exc)) from exc
    # Staff decide appeals in admin; they do not file them from here.
    rows = (
        [(item, None) for item in page.object_list]
        if as_staff
        else _with_appeals(seller=seller, kind=items.kind, items=list(page.object_list))
    )
    columns = ITEM_COLUMNS.get(items.kind, ())
    context = {
        "rows": rows,
        # The program and customer-success shapes share one table: a column a field.
        "columns": [_(COLUMN_LABELS.get(column, column)) for column in columns],
        "cells": [
            ([_cell(item.get(c)) for c in columns], appeal, _failing(items.kind, item))
            for item, appeal in rows
        ]
        if columns and items.kind not in ("inquiries", "orders", "reviews")
        else [],
        "appeal_reason_limit": MAX_APPEAL_REASON,
        "seller": seller,
        "metric": metric,
        "label": sentences.metric_label(metric),
        "month": sentences.month(period),
        "csv": _evidence_links(seller, metric, str(period), as_staff=as_staff),
        "staff_seller": seller.external_id if as_staff else "",
        "period": period,
        "kind": items.kind,
        "page": page,
        "items": page.object_list,
    }
    return render(request, "dashboard/evidence.html", context)


# The field naming the order of an evidence item, for the kinds whose rows can be appealed (an
# order-based metric: on-time, success, cancellations, defects, dispatch, reviews, cases).
APPEAL_ORDER_FIELD = {
    "orders": "external_id",
    "reviews": "order",
    "window_orders": "external_id",
    "dispatches": "external_id",
    "shipments": "external_id",
    "cases": "order",
    "surveys": "order",
}

# Column headings of the evidence shapes shown in the one generic table.
COLUMN_LABELS = {
    "external_id": gettext_noop("Id"),
    "order": gettext_noop("Order"),
    "created_at": gettext_noop("Created"),
    "review_rating": gettext_noop("Review"),
    "cases": gettext_noop("Cases"),
    "defective": gettext_noop("Defective"),
    "why": gettext_noop("Why"),
    "unresolved_case": gettext_noop("Decided for the buyer"),
    "ship_by": gettext_noop("Ship by"),
    "shipped_at": gettext_noop("Shipped"),
    "cancelled_at": gettext_noop("Cancelled"),
    "late": gettext_noop("Late"),
    "tracking": gettext_noop("Tracking"),
    "valid_tracking": gettext_noop("Valid tracking"),
    "kind": gettext_noop("Kind"),
    "opened_at": gettext_noop("Opened"),
    "closed_at": gettext_noop("Closed"),
    "outcome": gettext_noop("Outcome"),
    "answered_at": gettext_noop("Answered"),
    "csat": gettext_noop("CSAT"),
    "nps": gettext_noop("NPS"),
    "conversation": gettext_noop("Conversation"),
    "first_message_at": gettext_noop("First message"),
    "resolved_at": gettext_noop("Resolved"),
    "resolution_hours": gettext_noop("Hours to resolve"),
    "buyer": gettext_noop("Buyer"),
    "last_completed_at": gettext_noop("Last completed"),
    "returned_at": gettext_noop("Came back"),
    "returned": gettext_noop("Returned"),
}


def _cell(value: Any) -> str:
    """An evidence value as the page shows it: times with their zone, yes/no, numbers in the
    language's format, lists joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return sentences.moment(value)
    if isinstance(value, int | float | Decimal):
        return sentences.number(value)
    if isinstance(value, list | tuple):
        return ", ".join(_cell(part) for part in value) or "—"
    return str(value)


def _failing(kind: str, item: Any) -> bool:
    """Whether a row of the generic table is one that costs the seller (shown in red)."""
    if not isinstance(item, dict):
        return False
    if kind == "window_orders":
        return bool(item.get("defective"))
    if kind == "dispatches":
        return bool(item.get("late"))
    if kind == "shipments":
        return not item.get("valid_tracking")
    if kind == "cases":
        return item.get("outcome") not in ("seller_favour", "withdrawn")
    if kind == "surveys":
        csat, nps = item.get("csat"), item.get("nps")
        return (csat is not None and csat < 4) or (nps is not None and nps <= 6)
    if kind == "buyers":
        return not item.get("returned")
    return False


@dataclass(frozen=True)
class AppealState:
    """What an evidence row offers about its order: the latest appeal's status, or a form."""

    order: str
    status: str | None  # open | accepted | rejected (the latest appeal), None if none
    can_appeal: bool


def _with_appeals(*, seller: Seller, kind: str, items: list[Any]) -> list[tuple[Any, Any]]:
    """Each evidence item with the appeal state of its order (orders and reviews only: an
    inquiry is no order; 2 queries for the page)."""
    key = APPEAL_ORDER_FIELD.get(kind)
    if key is None:
        return [(item, None) for item in items]
    ids = {_field(item, key) for item in items}
    latest = dict(
        Appeal.objects.filter(seller=seller, order__external_id__in=ids)
        .order_by("order__external_id", "opened_at", "id")
        .values_list("order__external_id", "status")
    )  # the latest per order wins (ordered by opened_at)
    recent = set(
        Order.objects.filter(
            seller=seller,
            external_id__in=ids,
            excluded_from_metrics=False,
            created_at__gte=appeal_services.appealable_since(timezone.now()),
        ).values_list("external_id", flat=True)
    )
    rows = []
    for item in items:
        order = _field(item, key)
        status = latest.get(order)
        can = order in recent and status not in (AppealStatus.OPEN, AppealStatus.ACCEPTED)
        rows.append((item, AppealState(order=order, status=status, can_appeal=can)))
    return rows


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


@login_required
@require_POST
def file_appeal(request: HttpRequest) -> HttpResponse:
    """The evidence row's "appeal" button: the seller appeals one of its orders with a reason,
    then sees the appeal's status on the row (SPEC §8)."""
    seller = _seller_for(request)
    if seller is None:
        raise Http404("No seller.")
    back = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    try:
        appeal_services.file_appeal(
            seller=seller,
            order_external_id=request.POST.get("order", ""),
            reason=request.POST.get("reason", ""),
            actor=request.user,
        )
    except AppError as exc:
        detail = exc.message
        if exc.errors:
            detail = " ".join(" ".join(messages_) for messages_ in exc.errors.values())
        messages.error(request, _("The appeal was not sent: %(detail)s") % {"detail": detail})
    else:
        messages.success(
            request, _("Your appeal was sent. Staff will decide it; its status shows on the row.")
        )
    return HttpResponseRedirect(back)
