"""Shapes of the grade, evidence and evaluation endpoints (SPEC §7).

Stored results keep exact values (``"9/10"``, ``"4.7000"``); the API shows them as JSON
numbers rounded half-up to 2 places (``metrics.engine.registry.display_value``), never as strings.
Each response shape is declared once, by its serializer below: the API renders with it, the
pages render the same ``.data``, and drf-spectacular documents it. What a field shows is computed
by the private helpers here, from the stored exact values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from common.api import ApiDateTimeField, StrictSerializer, rfc3339
from common.api_schema import example
from common.ingest import EARLIEST_MOMENT, LATEST_MOMENT
from metrics.engine.grading import criterion_shown, exact_from_json, json_number, result_to_json
from metrics.engine.periods import Period
from metrics.engine.registry import METRIC_KEYS, METRICS, Kind, display_value
from metrics.models import EvaluationRun, SellerEvaluation
from metrics.policy.limits import MAX_LEVEL_NAME
from metrics.runs import progress
from metrics.runs.preview import GradePreview
from orders.models import CancelledBy
from orders.serializers import SellerSerializer

# --- the schema's examples ----------------------------------------------------------------
# A Level 1 seller of 2026-10 on the default policy, short of Level 2 on rating and responses.

_SAMPLE_BY_KIND: dict[Kind, int | float | None] = {
    Kind.COUNT: 12,
    Kind.MONEY: 1_830_000,
    Kind.RANK: 41,
    Kind.DAYS: 638,
    Kind.RATE: 87.5,
    Kind.RATING: 4.58,
    Kind.PERCENT: 13.67,
    Kind.MINUTES: 42.5,
    Kind.HOURS: 6.5,
    Kind.NPS: 32.5,
}
EXAMPLE_METRICS = {key: _SAMPLE_BY_KIND[METRICS[key].kind] for key in METRIC_KEYS}
EXAMPLE_CRITERIA = [
    {
        "level": "Level 2",
        "metric": "completed_orders",
        "op": ">=",
        "value": 15,
        "any_of": "volume",
        "window_days": None,
        "actual": 12,
        "passed": False,
    },
    {
        "level": "Level 2",
        "metric": "revenue",
        "op": ">=",
        "value": 5000000,
        "any_of": "volume",
        "window_days": None,
        "actual": 1830000,
        "passed": False,
    },
    {
        "level": "Level 2",
        "metric": "average_rating",
        "op": ">=",
        "value": 4.7,
        "any_of": "",
        "window_days": None,
        "actual": 4.58,
        "passed": False,
    },
]
EXAMPLE_NEXT_LEVEL = {
    "level": "Level 2",
    "missing": [
        {"metric": "completed_orders", "op": ">=", "value": 15, "actual": 12},
        {"metric": "revenue", "op": ">=", "value": 5000000, "actual": 1830000},
        {"metric": "average_rating", "op": ">=", "value": 4.7, "actual": 4.58},
    ],
}
EXAMPLE_GRADE = {
    "seller": "s-1",
    "level": "Level 1",
    "rank": 1,
    "period": "2026-10",
    "effective_from": "2026-11-01T00:00:00+09:00",
    "at_risk": False,
    "metrics": EXAMPLE_METRICS,
    "criteria": EXAMPLE_CRITERIA,
    "next_level": EXAMPLE_NEXT_LEVEL,
}

# --- what the fields show ---------------------------------------------------------------


def _actual(metric: str, value: Any) -> int | float | None:
    return display_value(metric, exact_from_json(value)) if metric in METRICS else None


def _criteria(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [criterion_shown(item) for item in stored or []]


def _next_level(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    if not stored:
        return None
    return {
        "level": stored["level"],
        "missing": [
            {
                "metric": item["metric"],
                "op": item["op"],
                "value": json_number(item["value"]),
                "actual": _actual(item["metric"], item.get("actual")),
            }
            for item in stored.get("missing") or []
        ],
    }


_INTEGRAL = frozenset(key for key in METRIC_KEYS if METRICS[key].integral)
_FRACTION = re.compile(r"-?[0-9]{1,30}/[1-9][0-9]{0,29}")


def _metrics(stored: dict[str, Any]) -> dict[str, int | float | None]:
    # A stored int (a count, an amount in whole units) shows as itself, or as its float where
    # the kind is not integral: what display_value gives, without its Decimal round trip (the
    # grades export renders every metric of 10,000 sellers; this halved its time).
    shown: dict[str, int | float | None] = {}
    for key in METRIC_KEYS:
        value = stored.get(key)
        if value is None:
            shown[key] = None
        elif type(value) is int:
            shown[key] = value if key in _INTEGRAL else float(value)
        elif type(value) is str and key not in _INTEGRAL and _FRACTION.fullmatch(value):
            # "n/d": to_decimal's half-up rounding of the exact rational, in integers.
            numerator, denominator = (int(part) for part in value.split("/"))
            hundredths, rest = divmod(numerator * 100, denominator)
            shown[key] = (hundredths + (2 * rest >= denominator)) / 100
        else:
            shown[key] = display_value(key, exact_from_json(value))
    return shown


# --- input --------------------------------------------------------------------------------


# The months the API takes: the years every stored timestamp may have (``common.ingest``).
PERIOD_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])$"
WINDOW_METRICS = tuple(
    key for key in METRIC_KEYS if METRICS[key].window and not METRICS[key].derived
)


def period_field(help_text: str) -> serializers.RegexField:
    return serializers.RegexField(
        PERIOD_PATTERN,
        trim_whitespace=False,
        help_text=help_text,
        error_messages={"invalid": "Expected YYYY-MM, a month from 1900-01 to 2999-12."},
    )


@example({"period": "2026-10"}, request=True)
class RunStartSerializer(StrictSerializer):
    period = period_field("The month to evaluate, YYYY-MM; it must have ended (else 409).")

    def validate_period(self, value: str) -> Period:
        return Period.parse(value)


class EvidenceQuerySerializer(serializers.Serializer):
    period = period_field("YYYY-MM")
    metric = serializers.CharField(
        trim_whitespace=False, help_text="A window metric key of SPEC §4, e.g. on_time_rate."
    )

    def validate_period(self, value: str) -> Period:
        return Period.parse(value)

    def validate_metric(self, value: str) -> str:
        if value not in METRICS:
            raise serializers.ValidationError(
                f"Unknown metric {value!r}; expected one of: {', '.join(WINDOW_METRICS)}."
            )
        if not METRICS[value].window:
            raise serializers.ValidationError(
                f"{value} is a cumulative metric and has no evidence items; choose a window "
                "metric such as response_rate, on_time_rate or average_rating."
            )
        return value


# --- output -------------------------------------------------------------------------------


class IsoDateTimeField(ApiDateTimeField):
    """A timestamp as ``datetime.isoformat()`` in the zone it is given (the API's format)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        return rfc3339(value)  # None never reaches a field: the serializer renders null


METRICS_FIELD = serializers.DictField(
    child=serializers.FloatField(allow_null=True),
    help_text="Every metric key of SPEC §4, rounded half-up to 2 places; null = no data.",
)


class CriterionResultSerializer(serializers.Serializer):
    level = serializers.CharField()
    metric = serializers.CharField()
    op = serializers.ChoiceField(choices=[">=", "<="])
    value = serializers.FloatField(help_text="The threshold (a JSON number).")
    any_of = serializers.CharField(allow_blank=True)
    window_days = serializers.IntegerField(
        allow_null=True,
        help_text="The criterion's own window in days (SPEC §5), its actual computed over it; "
        "null = the policy window.",
    )
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


@dataclass(frozen=True)
class Grade:
    """What the grade endpoint shows: a seller and its latest evaluation (None before any)."""

    seller: str
    evaluation: SellerEvaluation | None


@example(EXAMPLE_GRADE, response=True)
class GradeSerializer(serializers.Serializer):
    # Renders a Grade. Before the first evaluation level, rank, period and effective_from are
    # null and every metric key is there, null ("no data yet").

    seller = serializers.CharField(help_text="The seller's external_id.")
    level = serializers.SerializerMethodField(help_text="null before the first evaluation.")
    rank = serializers.SerializerMethodField(help_text="The level's rank (higher = better).")
    period = serializers.SerializerMethodField(
        help_text="YYYY-MM of the evaluation shown; null if never evaluated."
    )
    effective_from = serializers.SerializerMethodField(
        help_text="The period's cutoff: the grade applies from then."
    )
    at_risk = serializers.SerializerMethodField(help_text="The level is kept by demotion grace.")
    metrics = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()
    next_level = serializers.SerializerMethodField(help_text="null at the top level.")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_level(self, grade: Grade) -> str | None:
        return grade.evaluation.level if grade.evaluation else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_rank(self, grade: Grade) -> int | None:
        return grade.evaluation.level_rank if grade.evaluation else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_period(self, grade: Grade) -> str | None:
        return grade.evaluation.period if grade.evaluation else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_effective_from(self, grade: Grade) -> str | None:
        if grade.evaluation is None:
            return None
        return rfc3339(Period.parse(grade.evaluation.period).cutoff)

    @extend_schema_field(serializers.BooleanField())
    def get_at_risk(self, grade: Grade) -> bool:
        return bool(grade.evaluation and grade.evaluation.at_risk)

    @extend_schema_field(METRICS_FIELD)
    def get_metrics(self, grade: Grade) -> dict[str, int | float | None]:
        # Every §4 key, null = "no data yet": integrations read any key before the first
        # evaluation as after it.
        return _metrics(grade.evaluation.metrics if grade.evaluation else {})

    @extend_schema_field(CriterionResultSerializer(many=True))
    def get_criteria(self, grade: Grade) -> list[dict[str, Any]]:
        return _criteria(grade.evaluation.criteria if grade.evaluation else [])

    @extend_schema_field(NextLevelSerializer(allow_null=True))
    def get_next_level(self, grade: Grade) -> dict[str, Any] | None:
        return _next_level(grade.evaluation.next_level if grade.evaluation else None)


@dataclass(frozen=True)
class Preview:
    """What the preview endpoint shows: a seller and its projected grade."""

    seller: str
    preview: GradePreview


@example(
    {
        **EXAMPLE_GRADE,
        "period": "2026-11",
        "effective_from": "2026-12-01T00:00:00+09:00",
        "as_of": "2026-11-20T14:05:00+09:00",
    },
    response=True,
)
class GradePreviewSerializer(serializers.Serializer):
    # Renders a Preview: the grade's shape plus as_of.

    seller = serializers.CharField(help_text="The seller's external_id.")
    level = serializers.CharField(
        source="preview.result.level", allow_null=True, help_text="null if no level passes."
    )
    rank = serializers.IntegerField(
        source="preview.rank", allow_null=True, help_text="The level's rank (higher = better)."
    )
    period = serializers.SerializerMethodField(help_text="The current month, YYYY-MM.")
    effective_from = IsoDateTimeField(
        source="preview.effective_from", help_text="The 1st of next month."
    )
    at_risk = serializers.BooleanField(
        source="preview.result.at_risk", help_text="The level is kept by demotion grace."
    )
    metrics = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()
    next_level = serializers.SerializerMethodField(help_text="null at the top level.")
    as_of = serializers.SerializerMethodField(
        help_text="The instant the month-to-date figures are computed to: now, or the time of "
        "the latest month-to-date refresh (at most PREVIEW_MAX_AGE_SECONDS ago)."
    )

    @extend_schema_field(serializers.CharField())
    def get_period(self, shown: Preview) -> str:
        return str(shown.preview.period)

    @extend_schema_field(METRICS_FIELD)
    def get_metrics(self, shown: Preview) -> dict[str, int | float | None]:
        return {key: display_value(key, shown.preview.metrics.get(key)) for key in METRIC_KEYS}

    @extend_schema_field(CriterionResultSerializer(many=True))
    def get_criteria(self, shown: Preview) -> list[dict[str, Any]]:
        return _criteria(result_to_json(shown.preview.result)["criteria"])

    @extend_schema_field(NextLevelSerializer(allow_null=True))
    def get_next_level(self, shown: Preview) -> dict[str, Any] | None:
        return _next_level(result_to_json(shown.preview.result)["next_level"])

    @extend_schema_field(serializers.DateTimeField())
    def get_as_of(self, shown: Preview) -> str:
        return rfc3339(timezone.localtime(shown.preview.as_of))


class CorrectedFromSerializer(serializers.Serializer):
    """Renders an EvaluationCorrection: the result it replaced (``superseded``)."""

    level = serializers.CharField(source="superseded.level", allow_null=True)
    previous_level = serializers.CharField(source="superseded.previous_level", allow_null=True)
    at_risk = serializers.BooleanField(source="superseded.at_risk")
    metrics = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()
    corrected_at = IsoDateTimeField(help_text="When it was replaced.")
    appeal = serializers.IntegerField(
        source="appeal_id", help_text="The accepted appeal that corrected it."
    )

    @extend_schema_field(METRICS_FIELD)
    def get_metrics(self, correction: Any) -> dict[str, int | float | None]:
        return _metrics(correction.superseded.get("metrics") or {})

    @extend_schema_field(CriterionResultSerializer(many=True))
    def get_criteria(self, correction: Any) -> list[dict[str, Any]]:
        return _criteria(correction.superseded.get("criteria") or [])


@example(
    {
        "period": "2026-10",
        "level": "Level 1",
        "previous_level": "Level 2",
        "rank": 1,
        "at_risk": False,
        "metrics": EXAMPLE_METRICS,
        "criteria": EXAMPLE_CRITERIA,
        "corrected_at": "2026-11-04T09:30:01+09:00",
        "corrected_from": {
            "level": "Level 1",
            "previous_level": "Level 2",
            "at_risk": False,
            "metrics": EXAMPLE_METRICS,
            "criteria": EXAMPLE_CRITERIA,
            "corrected_at": "2026-11-04T09:30:01+09:00",
            "appeal": 7,
        },
    },
    response=True,
)
class EvaluationSerializer(serializers.Serializer):
    # Renders a SellerEvaluation: one item of GET …/evaluations.

    period = serializers.CharField()
    level = serializers.CharField(allow_null=True)
    previous_level = serializers.CharField(
        allow_null=True, help_text="The level of the seller's evaluation of the period before."
    )
    rank = serializers.IntegerField(source="level_rank", allow_null=True)
    at_risk = serializers.BooleanField()
    metrics = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()
    corrected_at = IsoDateTimeField(
        allow_null=True, help_text="When an accepted appeal last corrected this result."
    )
    corrected_from = CorrectedFromSerializer(
        source="latest_correction",
        allow_null=True,
        read_only=True,
        help_text="The result this one replaced when an appeal corrected it (null if never).",
    )

    @extend_schema_field(METRICS_FIELD)
    def get_metrics(self, evaluation: SellerEvaluation) -> dict[str, int | float | None]:
        return _metrics(evaluation.metrics)

    @extend_schema_field(CriterionResultSerializer(many=True))
    def get_criteria(self, evaluation: SellerEvaluation) -> list[dict[str, Any]]:
        return _criteria(evaluation.criteria)


class InquiryEvidenceSerializer(serializers.Serializer):
    conversation = serializers.CharField()
    sent_at = ApiDateTimeField(help_text="The buyer's message (the inquiry).")
    deadline = ApiDateTimeField(help_text="sent_at + the policy's response window.")
    answered_at = ApiDateTimeField(
        allow_null=True, help_text="The seller's first reply before the cutoff; null if none."
    )
    in_time = serializers.BooleanField()


class OrderEvidenceSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    due_at = ApiDateTimeField(allow_null=True)
    delivered_at = ApiDateTimeField(
        allow_null=True, help_text="null when not delivered before the period's cutoff."
    )
    completed_at = ApiDateTimeField(allow_null=True)
    cancelled_at = ApiDateTimeField(allow_null=True)
    cancelled_by = serializers.ChoiceField(choices=CancelledBy.choices, allow_null=True)
    on_time = serializers.BooleanField(allow_null=True, help_text="null when not delivered.")


class ReviewEvidenceSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    order = serializers.CharField(help_text="The reviewed order's external_id.")
    rating = serializers.IntegerField(min_value=1, max_value=5)


@example(
    {
        "seller": "s-1",
        "period": "2026-10",
        "metric": "on_time_rate",
        "count": 2,
        "next": "https://grades.example.com/api/v1/sellers/s-1/evidence?metric=on_time_rate"
        "&page=2&page_size=1&period=2026-10",
        "previous": None,
        "results": [
            {
                "external_id": "o-2",
                "due_at": "2026-10-04T10:00:00+09:00",
                "delivered_at": "2026-10-06T10:00:00+09:00",
                "completed_at": "2026-10-07T10:00:00+09:00",
                "cancelled_at": None,
                "cancelled_by": None,
                "on_time": False,
            }
        ],
    },
    response=True,
)
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


@example({"id": 7, "status": "pending"}, response=True, status_codes=["202"])
class RunCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    # Renders metrics.runs.Progress.

    chunks_done = serializers.IntegerField(help_text="Chunks of sellers computed and staged.")
    chunks_total = serializers.IntegerField(help_text="0 until the run is prepared.")
    sellers_done = serializers.IntegerField()


@example(
    {
        "id": 7,
        "period": "2026-10",
        "status": "succeeded",
        "trigger": "manual",
        "sellers": 300,
        "level_counts": {"Level 1": 237, "Level 2": 52, "Level 3": 10, "Master": 1, "none": 0},
        "created_at": "2026-11-01T00:05:00.120000+09:00",
        "started_at": "2026-11-01T00:05:00.180000+09:00",
        "finished_at": "2026-11-01T00:05:02.940000+09:00",
        "error": "",
        "progress": {"chunks_done": 1, "chunks_total": 1, "sellers_done": 300},
    },
    response=True,
)
class RunSerializer(serializers.Serializer):
    # Renders an EvaluationRun; its progress annotated by metrics.runs.with_progress, else one
    # query.

    id = serializers.IntegerField(source="pk")
    period = serializers.CharField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    sellers = serializers.IntegerField(source="seller_count", help_text="Sellers evaluated.")
    level_counts = serializers.SerializerMethodField(
        help_text='{level name: sellers}; no level: "none".'
    )
    created_at = IsoDateTimeField()
    started_at = IsoDateTimeField(allow_null=True)
    finished_at = IsoDateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    progress = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_level_counts(self, run: EvaluationRun) -> dict[str, int]:
        return dict(run.level_counts or {})

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, run: EvaluationRun) -> dict[str, Any]:
        return dict(ProgressSerializer(progress(run)).data)


# --- a period's grades (SPEC §7 `GET /api/v1/grades`) ----------------------------------------

GRADE_ITEM_FIELDS = ("seller", "period", "level", "previous_level", "at_risk", "metrics")
# The CSV's header: the item's fields, with one column per metric key (a flat table).
GRADE_CSV_COLUMNS = (*GRADE_ITEM_FIELDS[:-1], *METRIC_KEYS)
EXAMPLE_GRADE_ITEM = {
    "seller": "s-1",
    "period": "2026-10",
    "level": "Level 1",
    "previous_level": "Level 2",
    "at_risk": False,
    "metrics": EXAMPLE_METRICS,
}


def grade_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """One item of ``/grades`` from a ``selectors.GRADE_COLUMNS`` row: a plain dict, no
    serializer per row (an export renders 10,000 of them in a fraction of a second), in the
    shape ``GradeItemSerializer`` documents."""
    return {
        "seller": row["seller__external_id"],
        "period": row["period"],
        "level": row["level"],
        "previous_level": row["previous_level"],
        "at_risk": bool(row["at_risk"]),
        "metrics": _metrics(row["metrics"] or {}),
    }


def grade_csv_row(item: Mapping[str, Any]) -> list[Any]:
    metrics = item["metrics"]
    return [item[name] for name in GRADE_ITEM_FIELDS[:-1]] + [metrics[k] for k in METRIC_KEYS]


@example(EXAMPLE_GRADE_ITEM, response=True)
class GradeItemSerializer(serializers.Serializer):
    # Documents one item of GET /grades (rendered by grade_item).

    seller = serializers.CharField(help_text="The seller's external_id.")
    period = serializers.CharField(help_text="YYYY-MM.")
    level = serializers.CharField(allow_null=True, help_text="null: no level reached.")
    previous_level = serializers.CharField(
        allow_null=True,
        help_text="The level of the seller's evaluation of the period before; null if none.",
    )
    at_risk = serializers.BooleanField(help_text="The level is kept by demotion grace.")
    metrics = METRICS_FIELD


@example(
    {
        "next": "https://grades.example.com/api/v1/grades?period=2026-10&cursor=a123",
        "previous": None,
        "results": [EXAMPLE_GRADE_ITEM],
    },
    response=True,
)
class GradePageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text="The next page (absolute URL); null on the last page."
    )
    previous = serializers.URLField(
        allow_null=True, help_text="The previous page (absolute URL); null on the first page."
    )
    results = GradeItemSerializer(many=True, help_text="This page's grades, in seller order.")


class GradesQuerySerializer(serializers.Serializer):
    period = period_field("YYYY-MM; default: the latest evaluated period.")
    level = serializers.CharField(trim_whitespace=False, max_length=MAX_LEVEL_NAME)
    moved = serializers.ChoiceField(choices=["up", "down", "changed"])
    updated_since = serializers.CharField(trim_whitespace=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False

    def validate_period(self, value: str) -> Period:
        return Period.parse(value)

    def validate_updated_since(self, value: str) -> datetime:
        # Any RFC 3339 date-time (the schema's format): an offset is required; one before the
        # years grades exist means "all", one after them "none" (it is a bound, not a moment
        # to store); a leap second reads as the second before it.
        text = value.replace("t", "T").replace("z", "Z")
        if text[16:19] == ":60":  # YYYY-MM-DDThh:mm:60
            text = text[:17] + "59" + text[19:]
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise serializers.ValidationError(
                "Expected an ISO 8601 date-time with an offset, e.g. 2026-11-01T00:00:00+09:00."
            ) from exc
        if moment.utcoffset() is None:
            raise serializers.ValidationError(
                "Timezone required: send e.g. 2026-11-01T00:00:00+09:00 or ...Z."
            )
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError:
            in_utc = EARLIEST_MOMENT if moment.year < 2000 else LATEST_MOMENT
        return min(max(in_utc, EARLIEST_MOMENT), LATEST_MOMENT)


@example(
    {
        "external_id": "s-1",
        "username": "pixel_lab",
        "display_name": "Pixel Lab",
        "joined_at": "2025-01-01T00:00:00+09:00",
        "level": "Level 2",
        "period": "2026-10",
    },
    response=True,
)
class SellerWithGradeSerializer(SellerSerializer):
    # Renders a seller of selectors.sellers_with_grade: GET /api/v1/sellers.

    level = serializers.CharField(
        source="grade_level",
        allow_null=True,
        read_only=True,
        help_text="The level of the seller's latest evaluation (its current grade); null before "
        "the first evaluation or when it reached no level.",
    )
    period = serializers.CharField(
        source="grade_period",
        allow_null=True,
        read_only=True,
        help_text="YYYY-MM of that evaluation; null before the first.",
    )

    class Meta(SellerSerializer.Meta):
        fields = [*SellerSerializer.Meta.fields, "level", "period"]
        read_only_fields = fields
