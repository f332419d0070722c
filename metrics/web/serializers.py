"""Shapes of the grade, evidence and evaluation endpoints (SPEC §7).

Stored results keep exact values (``"9/10"``, ``"4.7000"``); the API shows them as JSON
numbers rounded half-up to 2 places (``metrics.engine.registry.display_value``), never as strings.
The ``*_payload`` functions build the response bodies; the serializer classes document them in
the OpenAPI schema and validate input.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from metrics.engine.grading import exact_from_json, result_to_json
from metrics.engine.periods import Period
from metrics.engine.registry import METRIC_KEYS, METRICS, display_value
from metrics.models import EvaluationRun, SellerEvaluation
from metrics.runs import parse_completed_period, progress
from metrics.runs.preview import GradePreview
from orders.models import CancelledBy

# --- payloads -----------------------------------------------------------------------------


def _threshold(value: Any) -> int | float:
    """A criterion's threshold as a JSON number: 15 stays 15, 4.7000 becomes 4.7."""
    exact = Decimal(str(value))
    if exact == exact.to_integral_value():
        return int(exact)
    return float(exact)


def _actual(metric: str, value: Any) -> int | float | None:
    return display_value(metric, exact_from_json(value)) if metric in METRICS else None


def _criteria(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "level": item["level"],
            "metric": item["metric"],
            "op": item["op"],
            "value": _threshold(item["value"]),
            "any_of": item.get("any_of", ""),
            "actual": _actual(item["metric"], item.get("actual")),
            "passed": bool(item["passed"]),
        }
        for item in stored or []
    ]


def _next_level(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    if not stored:
        return None
    return {
        "level": stored["level"],
        "missing": [
            {
                "metric": item["metric"],
                "op": item["op"],
                "value": _threshold(item["value"]),
                "actual": _actual(item["metric"], item.get("actual")),
            }
            for item in stored.get("missing") or []
        ],
    }


def _metrics(stored: dict[str, Any]) -> dict[str, int | float | None]:
    return {key: display_value(key, exact_from_json(stored.get(key))) for key in METRIC_KEYS}


def grade_payload(*, seller: str, evaluation: SellerEvaluation | None) -> dict[str, Any]:
    """The seller's grade of the latest evaluated period; the "not evaluated yet" shape if none."""
    if evaluation is None:
        return {
            "seller": seller,
            "level": None,
            "rank": None,
            "period": None,
            "effective_from": None,
            "at_risk": False,
            # Every §4 key, null = "no data yet": integrations can read any key before the
            # first evaluation as after it.
            "metrics": dict.fromkeys(METRIC_KEYS),
            "criteria": [],
            "next_level": None,
        }
    return {
        "seller": seller,
        "level": evaluation.level,
        "rank": evaluation.level_rank,
        "period": evaluation.period,
        "effective_from": Period.parse(evaluation.period).cutoff.isoformat(),
        "at_risk": evaluation.at_risk,
        "metrics": _metrics(evaluation.metrics),
        "criteria": _criteria(evaluation.criteria),
        "next_level": _next_level(evaluation.next_level),
    }


def preview_payload(*, seller: str, preview: GradePreview) -> dict[str, Any]:
    stored = result_to_json(preview.result)
    return {
        "seller": seller,
        "level": preview.result.level,
        "rank": preview.rank,
        "period": str(preview.period),
        "effective_from": preview.effective_from.isoformat(),
        "at_risk": preview.result.at_risk,
        "metrics": {key: display_value(key, preview.metrics.get(key)) for key in METRIC_KEYS},
        "criteria": _criteria(stored["criteria"]),
        "next_level": _next_level(stored["next_level"]),
        "as_of": timezone.localtime(preview.as_of).isoformat(),
    }


def evaluation_payload(evaluation: SellerEvaluation) -> dict[str, Any]:
    return {
        "period": evaluation.period,
        "level": evaluation.level,
        "previous_level": evaluation.previous_level,
        "rank": evaluation.level_rank,
        "at_risk": evaluation.at_risk,
        "metrics": _metrics(evaluation.metrics),
        "criteria": _criteria(evaluation.criteria),
    }


def run_payload(run: EvaluationRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "period": run.period,
        "status": run.status,
        "trigger": run.trigger,
        "sellers": run.seller_count,
        "level_counts": run.level_counts or {},
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "progress": progress_payload(run),
    }


def progress_payload(run: EvaluationRun) -> dict[str, int]:
    done = progress(run)
    return {
        "chunks_done": done.chunks_done,
        "chunks_total": done.chunks_total,
        "sellers_done": done.sellers_done,
    }


# --- input --------------------------------------------------------------------------------


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise serializers.ValidationError(str(exc)) from exc


class RunRequestSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="The month to evaluate, YYYY-MM; it must have ended.")

    def validate_period(self, value: str) -> Period:
        try:
            return parse_completed_period(text=value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class EvidenceQuerySerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    metric = serializers.CharField(help_text="A window metric key of SPEC §4, e.g. on_time_rate.")

    def validate_period(self, value: str) -> Period:
        return _period(value)

    def validate_metric(self, value: str) -> str:
        if value not in METRICS:
            raise serializers.ValidationError(
                f"Unknown metric {value!r}; expected one of: {', '.join(METRIC_KEYS)}."
            )
        if not METRICS[value].window:
            raise serializers.ValidationError(
                f"{value} is a cumulative metric and has no evidence items; choose a window "
                "metric such as response_rate, on_time_rate or average_rating."
            )
        return value


# --- schema only --------------------------------------------------------------------------


class CriterionResultSerializer(serializers.Serializer):
    level = serializers.CharField()
    metric = serializers.CharField()
    op = serializers.ChoiceField(choices=[">=", "<="])
    value = serializers.FloatField(help_text="The threshold (a JSON number).")
    any_of = serializers.CharField(allow_blank=True)
    actual = serializers.FloatField(
        allow_null=True, help_text="The metric, rounded half-up to 2 places; null = no data."
    )
    passed = serializers.BooleanField(help_text="Decided on the exact value, not the rounded.")


class MissingSerializer(serializers.Serializer):
    metric = serializers.CharField()
    op = serializers.ChoiceField(choices=[">=", "<="])
    value = serializers.FloatField()
    actual = serializers.FloatField(allow_null=True)


class NextLevelSerializer(serializers.Serializer):
    level = serializers.CharField()
    missing = MissingSerializer(many=True)


class GradeSerializer(serializers.Serializer):
    seller = serializers.CharField(help_text="The seller's external_id.")
    level = serializers.CharField(allow_null=True, help_text="null before the first evaluation.")
    rank = serializers.IntegerField(
        allow_null=True, help_text="The level's rank (higher = better)."
    )
    period = serializers.CharField(
        allow_null=True, help_text="YYYY-MM of the evaluation shown; null if never evaluated."
    )
    effective_from = serializers.DateTimeField(
        allow_null=True, help_text="The period's cutoff: the grade applies from then."
    )
    at_risk = serializers.BooleanField(help_text="The level is kept by demotion grace.")
    metrics = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="Every metric key of SPEC §4 (all null before the first evaluation).",
    )
    criteria = CriterionResultSerializer(many=True)
    next_level = NextLevelSerializer(allow_null=True, help_text="null at the top level.")


class GradePreviewSerializer(GradeSerializer):
    as_of = serializers.DateTimeField(
        help_text="The instant the month-to-date figures are computed to: now, or the time of "
        "the latest month-to-date refresh (at most PREVIEW_MAX_AGE_SECONDS ago)."
    )


class EvaluationSerializer(serializers.Serializer):
    period = serializers.CharField()
    level = serializers.CharField(allow_null=True)
    previous_level = serializers.CharField(
        allow_null=True, help_text="The level of the seller's evaluation of the period before."
    )
    rank = serializers.IntegerField(allow_null=True)
    at_risk = serializers.BooleanField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    criteria = CriterionResultSerializer(many=True)


class InquiryEvidenceSerializer(serializers.Serializer):
    conversation = serializers.CharField()
    sent_at = serializers.DateTimeField(help_text="The buyer's message (the inquiry).")
    deadline = serializers.DateTimeField(help_text="sent_at + the policy's response window.")
    answered_at = serializers.DateTimeField(
        allow_null=True, help_text="The seller's first reply before the cutoff; null if none."
    )
    in_time = serializers.BooleanField()


class OrderEvidenceSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(
        allow_null=True, help_text="null when not delivered before the period's cutoff."
    )
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancelled_by = serializers.ChoiceField(choices=CancelledBy.choices, allow_null=True)
    on_time = serializers.BooleanField(allow_null=True, help_text="null when not delivered.")


class ReviewEvidenceSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    order = serializers.CharField(help_text="The reviewed order's external_id.")
    rating = serializers.IntegerField(min_value=1, max_value=5)


class EvidencePageSerializer(serializers.Serializer):
    seller = serializers.CharField()
    period = serializers.CharField()
    metric = serializers.CharField()
    count = serializers.IntegerField(help_text="Items in all pages.")
    next = serializers.URLField(allow_null=True, help_text="The next page (absolute URL).")
    previous = serializers.URLField(allow_null=True, help_text="The previous page (absolute URL).")
    results = PolymorphicProxySerializer(
        component_name="EvidenceItem",
        serializers=[
            InquiryEvidenceSerializer,
            OrderEvidenceSerializer,
            ReviewEvidenceSerializer,
        ],
        resource_type_field_name=None,
        many=True,
        help_text="This page's items, failing ones first, then by time: inquiries for the "
        "response metrics, orders for the order metrics, reviews for the review metrics.",
    )


class RunCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    chunks_done = serializers.IntegerField(help_text="Chunks of sellers computed and staged.")
    chunks_total = serializers.IntegerField(help_text="0 until the run is prepared.")
    sellers_done = serializers.IntegerField()


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    sellers = serializers.IntegerField(help_text="Sellers evaluated.")
    level_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text='{level name: sellers}; no level: "none".'
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    progress = ProgressSerializer()
