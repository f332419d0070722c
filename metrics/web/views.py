"""The seller's grade dashboard and evidence pages (SPEC §8).

The pages show exactly what the API returns (the same payload builders), so the dashboard and
integrations never disagree; no threshold is re-checked here: pass/fail comes from grading.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from metrics.engine.evidence import evidence_kind
from metrics.engine.periods import Period
from metrics.engine.registry import METRICS
from metrics.runs.preview import preview_grade
from metrics.web import selectors
from metrics.web.serializers import (
    EvaluationSerializer,
    Grade,
    GradePreviewSerializer,
    GradeSerializer,
    Preview,
)
from orders.models import Seller

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


def _seller_for(request: HttpRequest) -> Seller | None:
    # Views using this are login_required: the user has a primary key.
    return Seller.objects.filter(user_id=cast(int, request.user.pk)).first()


def _progress(op: str, value: float, actual: float | None) -> int:
    """How far ``actual`` is towards passing ``op value``, 0–100, for the progress bar only."""
    if actual is None:
        return 0
    if op == ">=":
        return 100 if actual >= value else int(max(0.0, actual) * 100 / value) if value else 100
    return 100 if actual <= value else int(value * 100 / actual) if actual else 100


def _metric_rows(grade: dict[str, Any]) -> list[dict[str, Any]]:
    """Main metrics plus every metric the next level asks for, each against its threshold."""
    next_level = grade["next_level"]
    thresholds: dict[str, list[dict[str, Any]]] = {}
    if next_level:
        for criterion in grade["criteria"]:
            if criterion["level"] == next_level["level"]:
                thresholds.setdefault(criterion["metric"], []).append(criterion)
    keys = list(MAIN_METRICS) + [k for k in thresholds if k not in MAIN_METRICS]
    rows = []
    for key in keys:
        actual = grade["metrics"].get(key)
        checks = [
            {
                "op": c["op"],
                "value": c["value"],
                "passed": c["passed"],
                "any_of": c["any_of"],
                "progress": _progress(c["op"], c["value"], c["actual"]),
            }
            for c in thresholds.get(key, [])
        ]
        rows.append(
            {
                "key": key,
                "label": METRICS[key].label,
                "actual": actual,
                "kind": METRICS[key].kind.value,
                "checks": checks,
                "has_evidence": _has_evidence(key),
            }
        )
    return rows


def _missing(grade: dict[str, Any]) -> list[dict[str, Any]]:
    """The next level's missing criteria, with each metric's label and kind for display."""
    if not grade["next_level"]:
        return []
    return [
        {**m, "label": METRICS[m["metric"]].label, "kind": METRICS[m["metric"]].kind.value}
        for m in grade["next_level"]["missing"]
    ]


def _has_evidence(metric: str) -> bool:
    try:
        evidence_kind(metric)
    except ValueError:
        return False
    return True


def _chart(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Points of the last periods' levels and main rates for an inline SVG (no JS, no CDN)."""
    periods = list(reversed(history[:HISTORY_LENGTH]))
    width, height, pad = 600, 200, 30
    step = (width - 2 * pad) / max(1, len(periods) - 1)
    max_rank = max([p["rank"] or 0 for p in periods] + [1])
    series = []
    for key in CHART_RATES:
        points = []
        for i, p in enumerate(periods):
            value = p["metrics"].get(key)
            if value is not None:
                y = height - pad - (value / 100) * (height - 2 * pad)
                points.append(f"{pad + i * step:.1f},{y:.1f}")
        series.append({"key": key, "label": METRICS[key].label, "points": " ".join(points)})
    bars = [
        {
            "x": pad + i * step - 8,
            "h": ((p["rank"] or 0) / max_rank) * (height - 2 * pad) * 0.5,
            "period": p["period"],
            "level": p["level"],
            "label_x": pad + i * step,
        }
        for i, p in enumerate(periods)
    ]
    for bar in bars:
        bar["y"] = height - pad - bar["h"]
    return {"width": width, "height": height, "series": series, "bars": bars, "base": height - pad}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    seller = _seller_for(request)
    if seller is None:
        if request.user.is_staff:
            return redirect("admin:index")
        return render(request, "dashboard/no_seller.html", status=403)
    # The last HISTORY_LENGTH evaluations, newest first: the newest is the current grade.
    evaluations = selectors.seller_evaluations(seller_id=seller.pk, limit=HISTORY_LENGTH)
    grade = GradeSerializer(Grade(seller.external_id, evaluations[0] if evaluations else None)).data
    projection = preview_grade(seller=seller)
    preview = GradePreviewSerializer(Preview(seller.external_id, projection)).data
    history: list[dict[str, Any]] = list(EvaluationSerializer(evaluations, many=True).data)
    context = {
        "seller": seller,
        "grade": grade,
        "rows": _metric_rows(grade),
        "missing": _missing(grade),
        "preview": preview,
        "preview_rows": _metric_rows(preview),
        "preview_as_of": projection.as_of,
        "history": history,
        "chart": _chart(history) if history else None,
    }
    return render(request, "dashboard/index.html", context)


@login_required
def evidence(request: HttpRequest, metric: str) -> HttpResponse:
    """One page of the items behind a window metric (the API's evidence), failing ones first.

    A period that is not YYYY-MM, or whose window cannot be computed (0001-01, 9998-12), and a
    page that does not exist are a 404, like an unknown metric.
    """
    seller = _seller_for(request)
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
    context = {
        "seller": seller,
        "metric": metric,
        "label": METRICS[metric].label,
        "period": period,
        "kind": items.kind,
        "page": page,
        "items": page.object_list,
    }
    return render(request, "dashboard/evidence.html", context)
