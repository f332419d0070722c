"""``/api/v1/sellers/{external_id}/appeals`` and ``/api/v1/appeals/{id}/decision`` (SPEC §7).

A seller files and reads its own appeals (another seller's id answers 404); staff read every
seller's, file on a seller's behalf (a marketplace that collects appeals itself) and decide.
Thin: parse, call the service, shape.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import DocumentedQueryOnly, IsAuthenticated, IsStaff, acting_user
from common.api_schema import error_responses, example
from common.errors import InvalidInput
from common.ingest import unknown_field_errors
from metrics.appeals import services
from metrics.models import MAX_APPEAL_NOTE, MAX_APPEAL_REASON, Appeal, AppealStatus
from metrics.web.selectors import visible_seller
from metrics.web.serializers import IsoDateTimeField

APPEAL_FIELDS = frozenset({"order", "reason"})
DECISION_FIELDS = frozenset({"status", "note"})


def _body(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The JSON object of a write; a field the resource does not have is a 400 naming it."""
    data = request.data
    if not isinstance(data, dict):
        raise InvalidInput(errors={"non_field_errors": ["Expected a JSON object."]})
    unknown = unknown_field_errors(data, allowed)  # the API's one unknown-field check
    if unknown:
        raise InvalidInput(errors=unknown)
    return data


@example({"order": "o-1", "reason": "The buyer asked to cancel after delivery."}, request=True)
class AppealInSerializer(serializers.Serializer):
    """Documentation of the request body (parsed by ``services.file_appeal``)."""

    order = serializers.CharField(help_text="The external_id of one of the seller's orders.")
    reason = serializers.CharField(max_length=MAX_APPEAL_REASON)


@example({"status": "accepted", "note": "The buyer withdrew the claim."}, request=True)
class DecisionInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[AppealStatus.ACCEPTED, AppealStatus.REJECTED])
    note = serializers.CharField(max_length=MAX_APPEAL_NOTE, required=False, allow_blank=True)


class CorrectionOutSerializer(serializers.Serializer):
    period = serializers.CharField()
    from_level = serializers.CharField(allow_null=True)
    to_level = serializers.CharField(allow_null=True)
    corrected_at = IsoDateTimeField()


_APPEAL_OUT = {
    "id": 3,
    "seller": "s-1",
    "order": "ord-1042",
    "reason": "The buyer cancelled after the marketplace's outage.",
    "status": "accepted",
    "opened_at": "2026-11-03T10:00:00+09:00",
    "decided_at": "2026-11-04T09:30:00+09:00",
    "decided_by": "ops",
    "note": "Outage confirmed.",
    "correction": "done",
    "corrections": [
        {
            "period": "2026-10",
            "from_level": "Level 1",
            "to_level": "Level 2",
            "corrected_at": "2026-11-04T09:30:01+09:00",
        }
    ],
}


@example(_APPEAL_OUT, response=True)
class AppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seller = serializers.CharField(source="seller.external_id")
    order = serializers.CharField(source="order.external_id")
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=AppealStatus.choices)
    opened_at = IsoDateTimeField()
    decided_at = IsoDateTimeField(allow_null=True)
    decided_by = serializers.SerializerMethodField()
    note = serializers.CharField()
    correction = serializers.SerializerMethodField(
        help_text="null (open or rejected), pending (being corrected) or done."
    )
    corrections = CorrectionOutSerializer(many=True, source="corrections.all")

    def get_decided_by(self, appeal: Appeal) -> str | None:
        return appeal.decided_by.get_username() if appeal.decided_by else None

    def get_correction(self, appeal: Appeal) -> str | None:
        return appeal.correction or None


_EXAMPLE = OpenApiExample(
    "An appeal",
    value={"order": "ord-1042", "reason": "The buyer cancelled after the marketplace's outage."},
    request_only=True,
)
_FILED_EXAMPLE = OpenApiExample(
    "Filed",
    value={
        **_APPEAL_OUT,
        "status": "open",
        "decided_at": None,
        "decided_by": None,
        "note": "",
        "correction": None,
        "corrections": [],
    },
    response_only=True,
    status_codes=["201"],
)


def _seller_or_404(request: Request, external_id: str):  # type: ignore[no-untyped-def]
    seller = visible_seller(user=request.user, external_id=external_id)
    if seller is None:
        raise Http404("No such seller.")
    return seller


def _with_relations(appeals: Any) -> Any:
    return appeals.select_related("seller", "order", "decided_by").prefetch_related("corrections")


class SellerAppealsView(DocumentedQueryOnly, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["appeals"],
        responses=AppealSerializer(many=True),
        summary="The seller's appeals, newest first (a seller sees its own)",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        appeals = _with_relations(Appeal.objects.filter(seller=seller)).order_by(
            "-opened_at", "-id"
        )
        return Response(AppealSerializer(appeals, many=True).data)

    @extend_schema(
        tags=["appeals"],
        request=AppealInSerializer,
        responses={
            201: AppealSerializer,
            **error_responses(
                400,
                409,
                descriptions={
                    400: "Field messages: `order` (not one of the seller's orders, or older "
                    "than 12 months) or `reason` (required, at most 2,000 characters), or an "
                    "unknown field.",
                    409: "The order already has an open appeal, or is already left out of "
                    "the metrics.",
                },
            ),
        },
        examples=[_EXAMPLE, _FILED_EXAMPLE],
        summary="Appeal one order (the seller itself, or staff on its behalf)",
    )
    def post(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        body = _body(request, APPEAL_FIELDS)
        appeal = services.file_appeal(
            seller=seller,
            order_external_id=body.get("order"),
            reason=body.get("reason"),
            actor=acting_user(request),
        )
        fresh = _with_relations(Appeal.objects.filter(pk=appeal.pk)).get()
        return Response(AppealSerializer(fresh).data, status=status.HTTP_201_CREATED)


class AppealDecisionView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        tags=["appeals"],
        request=DecisionInSerializer,
        responses={
            200: AppealSerializer,
            **error_responses(
                400,
                404,
                409,
                descriptions={
                    400: 'Field messages: `status` ("accepted" or "rejected"), `note`, or an '
                    "unknown field.",
                    409: "The appeal was already decided.",
                },
            ),
        },
        summary="Accept or reject an appeal (staff); accepting corrects the grades",
        description="Accepting sets the order's excluded_from_metrics and re-evaluates the "
        "seller for every published period whose window holds one of the order's events, "
        "under each period's own policy snapshot (grade.corrected events). With eager tasks "
        "the correction is done when the answer is sent; else `correction` is `pending` "
        "until it is.",
    )
    def post(self, request: Request, appeal_id: int) -> Response:
        body = _body(request, DECISION_FIELDS)
        appeal = services.decide_appeal(
            appeal_id=appeal_id,
            status=body.get("status"),
            note=body.get("note"),
            actor=acting_user(request),
        )
        fresh = _with_relations(Appeal.objects.filter(pk=appeal.pk)).get()
        return Response(AppealSerializer(fresh).data)
