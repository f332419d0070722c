"""``/api/v1/policy``: read the active grade policy; staff replace it (policy as code, SPEC §7).

The view is thin: validation is ``metrics.policy.services.validate_policy_data`` (the same
rules as the admin), writing is ``metrics.policy.services.create_active_policy``. The
serializers shape the output
and document both directions in the OpenAPI schema.

A 400 names each place that is wrong, flat, e.g.
``{"levels[1].criteria[0].value": ["response_rate is a rate: the threshold must be 0–100 …"]}``.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import DocumentedQueryOnly, IsStaffOrReadOnly
from common.api_schema import error_responses
from metrics.engine.grading import OPS
from metrics.engine.registry import METRIC_KEYS
from metrics.models import GradePolicy
from metrics.policy.limits import (
    MAX_ANY_OF,
    MAX_CRITERIA,
    MAX_CRITERIA_PER_LEVEL,
    MAX_LEVEL_NAME,
    MAX_LEVELS,
    MAX_NAME,
)
from metrics.policy.services import (
    NoActivePolicy,
    active_policy,
    create_active_policy,
    policy_data,
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
        default="",
        help_text="Criteria of a level sharing this label pass when any one of them passes.",
    )


class PolicyLevelSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_LEVEL_NAME)
    rank = serializers.IntegerField(min_value=0, help_text="Higher is better.")
    criteria = PolicyCriterionSerializer(
        many=True,
        required=False,
        help_text=f"At most {MAX_CRITERIA_PER_LEVEL} criteria a level.",
    )


class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=MAX_NAME, required=False)
    window_months = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=0,
        help_text="Rolling window of the rate metrics in months (0 = all time). Default 3.",
    )
    window_days = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        help_text="When set, wins over window_months: the N days before the cutoff.",
    )
    response_window_hours = serializers.IntegerField(required=False, min_value=1)
    demotion_grace_months = serializers.IntegerField(required=False, min_value=0)
    levels = PolicyLevelSerializer(
        many=True,
        help_text=f"Ordered by rank. At most {MAX_LEVELS} levels and {MAX_CRITERIA} criteria in "
        "all.",
    )


POLICY_400 = (
    "The policy breaks a rule; each key names the place, e.g. `levels[1].criteria[0].value` "
    "(a body that is not JSON: `detail`). Rules the schema cannot say: at least one level; "
    "level names and ranks unique; window_months or window_days set; a threshold within its "
    "metric's range (a rate 0–100, a rating 1–5, a count ≥ 0), at most 4 decimal places."
)


class PolicyView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        operation_id="policy_retrieve",
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
        "runs that used it.",
    )
    def put(self, request: Request) -> Response:
        if not isinstance(request.data, Mapping):
            return Response(
                {"non_field_errors": ["Send a JSON object describing the policy."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        had_active = GradePolicy.objects.filter(is_active=True).exists()
        # PolicyInvalid (400, field messages) and PolicyConflict (409) are application errors,
        # answered by common.api.exception_handler.
        policy = create_active_policy(data=request.data, actor=request.user)
        return Response(
            PolicySerializer(policy_data(policy)).data,
            status=status.HTTP_200_OK if had_active else status.HTTP_201_CREATED,
        )
