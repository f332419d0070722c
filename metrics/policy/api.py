"""``/api/v1/policy``: read the active grade policy; staff replace it (policy as code, SPEC §7).

The view is thin: validation is ``metrics.policy.services.validate_policy_data`` (the same
rules as the admin), writing is ``metrics.policy.services.create_active_policy``. The
serializers shape the output
and document both directions in the OpenAPI schema.

A 400 names each place that is wrong, flat, e.g.
``{"levels[1].criteria[0].value": ["response_rate is a rate: the threshold must be 0–100 …"]}``.
"""

import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import DocumentedQueryOnly, IsStaff, IsStaffOrReadOnly, acting_user
from common.api_schema import error_responses
from common.ingest import unknown_field_errors
from metrics.engine.grading import OPS
from metrics.engine.registry import METRIC_KEYS
from metrics.models import GradePolicy
from metrics.policy.limits import (
    MAX_ANY_OF,
    MAX_CRITERIA,
    MAX_CRITERIA_PER_LEVEL,
    MAX_CRITERION_WINDOW_DAYS,
    MAX_LEVEL_NAME,
    MAX_LEVELS,
    MAX_NAME,
    MAX_SCORE_PARTS,
    MAX_WINDOW_DAYS,
    MAX_WINDOW_MONTHS,
    SMALLINT_MAX,
)
from metrics.policy.presets import Preset, all_presets, get_preset
from metrics.policy.preview import job_data, preview_job, request_preview
from metrics.policy.services import (
    THRESHOLD_MINIMUM,
    VALUE_LIMIT,
    VALUE_PLACES,
    NoActivePolicy,
    active_policy,
    create_active_policy,
    policy_data,
)

# A name with something in it besides spaces (names are stored stripped).
NAMED = r"^[^\x00]*[^\s\x00][^\x00]*$"


@extend_schema_field(
    {
        "type": "number",
        "minimum": int(THRESHOLD_MINIMUM),
        "maximum": int(VALUE_LIMIT),
        "exclusiveMaximum": True,
        "multipleOf": float(VALUE_PLACES),
        "description": f"A JSON number from {int(THRESHOLD_MINIMUM)} to below 10^15, at most 4 "
        "decimal places; within its metric's range (a rate 0–100, a rating 1–5, a count ≥ 0, "
        "a net promoter score -100 to 100).",
    }
)
class ThresholdField(serializers.DecimalField):
    """A threshold as a JSON number: 15, 4.7, 5000000 (not "15.0000")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=20, decimal_places=4, coerce_to_string=False, **kwargs)

    def to_representation(self, value: Any) -> Any:
        number = Decimal(value)
        if number == number.to_integral_value():
            return int(number)
        return float(number)


class PolicyCriterionSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(METRIC_KEYS))
    op = serializers.ChoiceField(choices=list(OPS))
    value = ThresholdField()
    any_of = serializers.CharField(
        max_length=MAX_ANY_OF,
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        help_text="Criteria of a level sharing this label pass when any one of them passes "
        "(empty, null or left out: none).",
    )
    window_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_CRITERION_WINDOW_DAYS,
        help_text="The criterion's own window: its window metric over the N days before the "
        "cutoff (1–3650) instead of the policy window; null or left out: the policy window. "
        "Cumulative metrics ignore it; refused on `success_score`.",
    )


class ScorePartSerializer(serializers.Serializer):
    # The criteria's choices (one MetricEnum in the schema); success_score is refused by the
    # rules with a message (a score cannot be made of itself).
    metric = serializers.ChoiceField(
        choices=list(METRIC_KEYS), help_text="Any metric key but `success_score`, at most once."
    )
    weight = ThresholdField(help_text="Above 0.")
    zero = ThresholdField(help_text="The value worth 0 of this part.")
    full = ThresholdField(
        help_text="The value worth all of it; differs from `zero` (below it for a "
        "lower-is-better metric such as `case_rate`)."
    )


class PolicyLevelSerializer(serializers.Serializer):
    name = serializers.RegexField(
        NAMED, max_length=MAX_LEVEL_NAME, help_text="Unique in the policy (case-insensitive)."
    )
    rank = serializers.IntegerField(
        min_value=0, max_value=SMALLINT_MAX, help_text="Higher is better; unique in the policy."
    )
    criteria = serializers.ListField(
        child=PolicyCriterionSerializer(),
        required=False,
        max_length=MAX_CRITERIA_PER_LEVEL,
        help_text=f"At most {MAX_CRITERIA_PER_LEVEL} criteria a level.",
    )


# The default policy (SPEC §5, Kmong's published rules), as the API shows it.
EXAMPLE_POLICY: dict[str, Any] = {
    "name": "Kmong levels",
    "window_months": 3,
    "window_days": None,
    "response_window_hours": 24,
    "demotion_grace_months": 0,
    "levels": [
        {"name": "Level 1", "rank": 1, "criteria": []},
        {
            "name": "Level 2",
            "rank": 2,
            "criteria": [
                {"metric": "completed_orders", "op": ">=", "value": 15, "any_of": "volume"},
                {"metric": "revenue", "op": ">=", "value": 5000000, "any_of": "volume"},
                {"metric": "average_rating", "op": ">=", "value": 4.7, "any_of": ""},
                {"metric": "response_rate", "op": ">=", "value": 90, "any_of": ""},
            ],
        },
        {
            "name": "Level 3",
            "rank": 3,
            "criteria": [
                {"metric": "completed_orders", "op": ">=", "value": 100, "any_of": "volume"},
                {"metric": "revenue", "op": ">=", "value": 20000000, "any_of": "volume"},
                {"metric": "average_rating", "op": ">=", "value": 4.7, "any_of": ""},
                {"metric": "success_rate", "op": ">=", "value": 85, "any_of": ""},
            ],
        },
        {
            "name": "Master",
            "rank": 4,
            "criteria": [
                {"metric": "revenue_top_percent", "op": "<=", "value": 1, "any_of": ""},
                {"metric": "on_time_rate", "op": ">=", "value": 85, "any_of": ""},
                {"metric": "review_count", "op": ">=", "value": 1300, "any_of": ""},
            ],
        },
    ],
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("Default policy", value=EXAMPLE_POLICY, request_only=True),
        OpenApiExample("Default policy", value={"id": 1, **EXAMPLE_POLICY}, response_only=True),
    ]
)
class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The stored policy's id. In a PUT or preview it may be sent back as GET shows "
        "it and is ignored: the policy written gets a new id.",
    )
    name = serializers.RegexField(
        NAMED, max_length=MAX_NAME, required=False, help_text='Default "Grade policy".'
    )
    window_months = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=0,
        max_value=MAX_WINDOW_MONTHS,
        help_text="Rolling window of the rate metrics in months (0 = all time). Default 3; "
        "window_months and window_days may not both be null.",
    )
    window_days = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text="When set, wins over window_months: the N days before the cutoff.",
    )
    response_window_hours = serializers.IntegerField(
        required=False, min_value=1, max_value=SMALLINT_MAX, help_text="Default 24."
    )
    demotion_grace_months = serializers.IntegerField(
        required=False, min_value=0, max_value=SMALLINT_MAX, help_text="Default 0."
    )
    levels = serializers.ListField(
        child=PolicyLevelSerializer(),
        min_length=1,
        max_length=MAX_LEVELS,
        help_text=f"Ordered by rank. At most {MAX_LEVELS} levels and {MAX_CRITERIA} criteria in "
        "all.",
    )
    score = serializers.ListField(
        child=ScorePartSerializer(),
        required=False,
        max_length=MAX_SCORE_PARTS,
        help_text="Optional success score (SPEC §5): `success_score` = 100 × Σ weight × "
        "clamp((value − zero) / (full − zero), 0, 1) / Σ weight over the parts whose metric is "
        "not null (null when all are, or when the list is empty), on the policy-window values.",
    )


POLICY_400 = (
    "The policy breaks a rule; each key names the place, e.g. `levels[1].criteria[0].value` "
    "(a body that is not JSON: `detail`). Rules the schema cannot say: at least one level; "
    "level names and ranks unique; window_months or window_days set; a threshold within its "
    "metric's range (a rate 0–100, a rating 1–5, a count ≥ 0), at most 4 decimal places; a "
    "criterion's window_days 1–3650 and never on success_score; score parts with weight > 0, "
    "zero ≠ full, a metric other than success_score (`score[0].full`, ...)."
)


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    )


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _json_type(field: serializers.Field) -> tuple[Any, str]:
    """The JSON type a serializer field declares (what the schema shows): (check, said)."""
    if isinstance(field, serializers.ListField):
        child = field.child
        noun = (
            "score parts (empty for none)"
            if isinstance(child, ScorePartSerializer)
            else field.field_name
        )
        return (lambda v: isinstance(v, list)), f"a list of {noun}"
    check: Callable[[Any], bool]
    if isinstance(field, serializers.IntegerField):
        check, said = _is_int, "an integer"
    elif isinstance(field, serializers.DecimalField):
        check, said = _is_number, "a JSON number"
    elif isinstance(field, serializers.CharField | serializers.ChoiceField):
        check, said = (lambda v: isinstance(v, str)), "a string"
    else:  # pragma: no cover - every field of the policy body is one of the above
        raise TypeError(f"no JSON type for {field!r}")
    if field.allow_null:
        return (lambda v: v is None or check(v)), f"{said} or null"
    return check, said


def policy_json_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The JSON types of a policy body (the API's schema), checked before its rules.

    ``metrics.policy.services`` validates the rules for the admin too, whose form sends every
    value as text; the API takes exactly the types its schema declares (a threshold is a JSON
    number, not "4.7"), so a client that follows the schema and one that does not are told
    apart. The accepted keys and their types are read from the serializers that generate the
    schema (one declaration); keys absent from the body are left to the rules (required or
    defaulted there).
    """
    errors: dict[str, list[str]] = {}

    def walk(place: str, item: Mapping[str, Any], serializer: serializers.Serializer) -> None:
        fields = {name: f for name, f in serializer.fields.items() if not f.read_only}
        # SPEC §2: a field the policy does not have is a 400 naming it (common.ingest's check).
        for name, messages in unknown_field_errors(item, frozenset(fields)).items():
            errors[f"{place}.{name}" if place else name] = messages
        for name, field in fields.items():
            if name not in item:
                continue
            where = f"{place}.{name}" if place else name
            ok, said = _json_type(field)
            if not ok(item[name]):
                errors[where] = [f"Must be {said}."]
                continue
            child = getattr(field, "child", None)
            if not isinstance(child, serializers.Serializer):
                continue
            members = ", ".join(f'"{key}"' for key, f in child.fields.items() if not f.read_only)
            for index, element in enumerate(item[name]):
                if isinstance(element, Mapping):
                    walk(f"{where}[{index}]", element, child)
                else:
                    errors[f"{where}[{index}]"] = [f"Must be an object with {members}."]

    walk("", data, PolicySerializer())
    return errors


class PolicyView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        operation_id="policy_retrieve",
        tags=["policy"],
        responses={
            200: PolicySerializer,
            **error_responses(404, descriptions={404: "No active policy."}),
        },
        summary="The active grade policy",
    )
    def get(self, request: Request) -> Response:
        try:
            policy = active_policy()
        except NoActivePolicy as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return Response(PolicySerializer(policy_data(policy)).data)

    @extend_schema(
        operation_id="policy_replace",
        tags=["policy"],
        request=PolicySerializer,
        responses={
            200: PolicySerializer,
            201: PolicySerializer,
            **error_responses(
                400,
                409,
                descriptions={
                    400: POLICY_400,
                    409: "Another policy was activated at the same time; nothing was written.",
                },
            ),
        },
        summary="Replace the active grade policy (staff)",
        description="Validates like the admin does and makes the policy the new active one "
        "(200; 201 when no policy was active). The previous policy is kept, inactive, for the "
        "runs that used it. " + POLICY_400,
    )
    def put(self, request: Request) -> Response:
        if not isinstance(request.data, Mapping):
            return Response(
                {"non_field_errors": ["Send a JSON object describing the policy."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        type_errors = policy_json_errors(request.data)
        if type_errors:
            return Response(type_errors, status=status.HTTP_400_BAD_REQUEST)
        had_active = GradePolicy.objects.filter(is_active=True).exists()
        # PolicyInvalid (400, field messages) and PolicyConflict (409) are application errors,
        # answered by common.api.exception_handler.
        policy = create_active_policy(data=request.data, actor=acting_user(request))
        return Response(
            PolicySerializer(policy_data(policy)).data,
            status=status.HTTP_200_OK if had_active else status.HTTP_201_CREATED,
        )


# --- presets (SPEC §7) -------------------------------------------------------------------


class PresetPolicySerializer(PolicySerializer):
    id = None  # type: ignore[assignment]  # a preset is not a stored policy


class PresetSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The preset's key, e.g. `etsy_star_seller`.")
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="The program's page and the date it was read."
    )
    notes = serializers.CharField(help_text="What is approximated or left out, and how.")
    policy = PresetPolicySerializer(help_text="In the `GET /api/v1/policy` shape (no `id`).")


def _preset_data(preset: Preset) -> dict[str, Any]:
    data = preset.to_data()
    data["policy"] = {key: value for key, value in data["policy"].items() if key != "id"}
    return data


_PRESET_EXAMPLE = {
    "name": "facebook_responsive",
    "source": "Meta Business Help Centre, 'Very responsive to messages' badge (…)",
    "notes": "Window of the last 7 days …",
    "policy": {
        "name": "Facebook very responsive",
        "window_months": None,
        "window_days": 7,
        "response_window_hours": 24,
        "demotion_grace_months": 0,
        "levels": [
            {"name": "Page", "rank": 1, "criteria": []},
            {
                "name": "Very responsive",
                "rank": 2,
                "criteria": [
                    {"metric": "response_rate", "op": ">=", "value": 90, "any_of": ""},
                    {
                        "metric": "median_first_response_minutes",
                        "op": "<=",
                        "value": 15,
                        "any_of": "",
                    },
                ],
            },
        ],
    },
}


class PresetListView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        operation_id="policy_presets_list",
        tags=["policy"],
        responses={200: PresetSerializer(many=True)},
        summary="Policy presets: each marketplace's seller program as a policy",
        description="Load one with `manage.py load_policy NAME`, in admin (Grade policies › "
        "Start from a preset), or `PUT /api/v1/policy` with its `policy`.",
        # One preset: the schema shows it as the list's item.
        examples=[OpenApiExample("One preset", value=_PRESET_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        presets = [_preset_data(p) for p in all_presets()]
        return Response(PresetSerializer(presets, many=True).data)


class PresetView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        operation_id="policy_presets_retrieve",
        tags=["policy"],
        responses={
            200: PresetSerializer,
            **error_responses(404, descriptions={404: "No preset of that name."}),
        },
        summary="One policy preset",
        examples=[OpenApiExample("Facebook", value=_PRESET_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, name: str) -> Response:
        # PresetNotFound is a NotFound: 404 {"detail"} through common.api.exception_handler.
        return Response(PresetSerializer(_preset_data(get_preset(name=name))).data)


# --- preview (SPEC §7) -------------------------------------------------------------------


class LevelCountsSerializer(serializers.Serializer):
    level_counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Sellers per level name, in rank order; `none` = no level reached.",
    )


class MoverSerializer(serializers.Serializer):
    seller = serializers.CharField(help_text="The seller's external_id.")
    # "from" is a Python keyword: declared through the class namespace.
    locals()["from"] = serializers.CharField(
        allow_null=True, help_text="Level stored by the last run."
    )
    to = serializers.CharField(allow_null=True, help_text="Level under the draft.")


class PreviewSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="The last evaluated period, YYYY-MM.")
    current = LevelCountsSerializer(help_text="As the last run stored it.")
    draft = LevelCountsSerializer(help_text="Under the draft policy.")
    movers = MoverSerializer(many=True, help_text="Sellers whose level would change.")


class PreviewJobSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="A random id; the job is readable by its creator only.")
    status = serializers.CharField(help_text="pending, running, succeeded or failed.")


class PreviewJobResultSerializer(PreviewJobSerializer):
    period = serializers.CharField(required=False)
    current = LevelCountsSerializer(required=False)
    draft = LevelCountsSerializer(required=False)
    movers = MoverSerializer(many=True, required=False)
    error = serializers.CharField(required=False, help_text="Why it failed (status failed).")


_PREVIEW_EXAMPLE = {
    "period": "2026-10",
    "current": {"level_counts": {"Level 1": 40, "Level 2": 9, "Level 3": 1, "Master": 0}},
    "draft": {"level_counts": {"Seller": 45, "Star Seller": 5, "none": 0}},
    "movers": [{"seller": "s-17", "from": "Level 2", "to": "Star Seller"}],
}


_JOB_ID = "0b6f3c1e-4a52-4c4e-9d7e-2f1a8e5b7c90"


class PolicyPreviewView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="policy_preview",
        tags=["policy"],
        request=PolicySerializer,
        responses={
            200: PreviewSerializer,
            202: PreviewJobSerializer,
            **error_responses(
                400,
                409,
                429,
                descriptions={
                    400: POLICY_400,
                    409: "No period has been evaluated yet.",
                    429: "The user already has POLICY_PREVIEW_MAX_OPEN_PER_USER previews "
                    "computing.",
                },
            ),
        },
        summary="What a draft policy would do to the last evaluated period (staff)",
        description="The draft (the `PUT /api/v1/policy` shape) is validated like PUT. Nothing "
        "is saved and the active policy is untouched. When the draft's windows "
        "(window_months / window_days, response_window_hours) are the last run's, the run's "
        "stored metrics are re-graded at once (200). When they differ, the metrics are "
        "recomputed for the draft's windows as a dry run in a task: 202 `{id, status}`, the "
        "answer at `GET /api/v1/policy/preview/{id}`, readable by its creator (and superusers) "
        "only. The same draft posted again by the same user while its job is fresh "
        "(POLICY_PREVIEW_FRESH_SECONDS) answers that job; past "
        "POLICY_PREVIEW_MAX_OPEN_PER_USER jobs computing, 429.",
        examples=[
            OpenApiExample("Draft policy", value=EXAMPLE_POLICY, request_only=True),
            OpenApiExample("Re-graded", value=_PREVIEW_EXAMPLE, response_only=True),
            OpenApiExample(
                "Queued (other windows)",
                value={"id": _JOB_ID, "status": "pending"},
                response_only=True,
                status_codes=["202"],
            ),
            OpenApiExample(
                "Nothing evaluated yet",
                value={"detail": "No period has been evaluated yet: …"},
                response_only=True,
                status_codes=["409"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, Mapping):
            return Response(
                {"non_field_errors": ["Send a JSON object describing the policy."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        type_errors = policy_json_errors(request.data)
        if type_errors:
            return Response(type_errors, status=status.HTTP_400_BAD_REQUEST)
        # PolicyInvalid (400) and NoEvaluatedPeriod (409) through common.api.exception_handler.
        answer = request_preview(data=request.data, actor=acting_user(request))
        if answer.result is not None:
            return Response(answer.result.to_data())
        assert answer.job is not None
        answer.job.refresh_from_db(fields=["status"])
        return Response(
            {"id": str(answer.job.pk), "status": answer.job.status},
            status=status.HTTP_202_ACCEPTED,
        )


class PolicyPreviewResultView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="policy_preview_retrieve",
        tags=["policy"],
        responses={
            200: PreviewJobResultSerializer,
            **error_responses(
                404, descriptions={404: "No such preview, or another user's preview."}
            ),
        },
        summary="A queued policy preview (staff)",
        description="`{id, status}`; once `succeeded`, also the answer of "
        "`POST /api/v1/policy/preview` (`period`, `current`, `draft`, `movers`).",
        examples=[
            OpenApiExample(
                "Succeeded", value={"id": _JOB_ID, "status": "succeeded", **_PREVIEW_EXAMPLE}
            ),
            OpenApiExample("Running", value={"id": _JOB_ID, "status": "running"}),
        ],
    )
    def get(self, request: Request, preview_id: uuid.UUID) -> Response:
        return Response(job_data(preview_job(preview_id=preview_id, actor=request.user)))
