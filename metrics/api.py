"""Grade, preview, evidence and evaluation endpoints (SPEC §7). Thin: parse, call, shape.

A seller user reads only its own seller: another seller's id answers 404 (ids are not
confirmed); staff read everything; runs are staff only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gradecraft.api import IsStaff, Pagination
from orders.models import Seller

from . import runs, selectors
from .evidence import evidence_kind
from .models import EvaluationRun
from .policy import NoActivePolicy
from .serializers import (
    EvaluationSerializer,
    EvidenceQuerySerializer,
    EvidenceSerializer,
    GradeSerializer,
    RunCreatedSerializer,
    RunRequestSerializer,
    RunSerializer,
    evaluation_payload,
    grade_payload,
    preview_payload,
    run_payload,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class NoPolicy(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "No grade policy is active: staff must activate one in admin."
    default_code = "no_active_policy"


def _seller_or_404(request: Request, external_id: str) -> Seller:
    seller = selectors.visible_seller(user=request.user, external_id=external_id)
    if seller is None:
        raise Http404("No such seller.")
    return seller


class SellerGradeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=GradeSerializer,
        summary="The seller's grade for the latest evaluated period",
        description="Before the first evaluation: level, rank, period and effective_from are "
        "null, every metric is null and criteria is [].",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        evaluation = selectors.latest_evaluation(seller_id=seller.pk)
        return Response(grade_payload(seller=seller.external_id, evaluation=evaluation))


class SellerGradePreviewView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=GradeSerializer,
        summary="The projected grade if the month were evaluated now (not stored)",
        description="period = the current month; effective_from = the 1st of next month.",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        try:
            preview = runs.preview_grade(seller=seller)
        except NoActivePolicy as exc:
            raise NoPolicy() from exc
        return Response(preview_payload(seller=seller.external_id, preview=preview))


# Columns of the evidence CSV (SPEC §7) by item kind: the header even when there are no items.
EVIDENCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "inquiries": ("conversation", "sent_at", "deadline", "answered_at", "in_time"),
    "orders": (
        "external_id",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "on_time",
    ),
    "reviews": ("external_id", "order", "rating"),
}


def evidence_columns(metric: str, items: list[Mapping[str, Any]]) -> list[str]:
    try:
        base = EVIDENCE_COLUMNS[evidence_kind(metric)]
    except ValueError:
        base = ()
    extra = [key for item in items[:1] for key in item if key not in base]
    return [*base, *extra]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # Spreadsheet formula injection: ids come from the marketplace, so neutralise a leading
    # =, +, -, @ (OWASP "CSV injection").
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class EvidenceCSVRenderer(BaseRenderer):
    """``Accept: text/csv`` or ``?format=csv``: a header row, then one row per item."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if isinstance(data, Mapping) and "items" in data:
            items = list(data["items"])
            columns = evidence_columns(str(data.get("metric", "")), items)
            writer.writerow(columns)
            for item in items:
                writer.writerow([_csv_cell(item.get(column)) for column in columns])
        elif isinstance(data, Mapping):  # an error body
            writer.writerow(["field", "message"])
            for field, messages in data.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    writer.writerow([field, _csv_cell(message)])
        return buffer.getvalue().encode(self.charset)


class FormatOverrideNegotiation(DefaultContentNegotiation):
    """``?format=csv`` wins over the Accept header (DRF would answer 406 to a client that
    always sends ``Accept: application/json``); without it, Accept decides as usual."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        for renderer in renderers:
            if wanted and renderer.format == wanted:
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class SellerEvidenceView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = FormatOverrideNegotiation
    renderer_classes = [JSONRenderer, EvidenceCSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, required=True, description="YYYY-MM"),
            OpenApiParameter(
                "metric", OpenApiTypes.STR, required=True, description="A window metric key."
            ),
        ],
        responses={
            (200, "application/json"): EvidenceSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="A header row, then one row per item."
            ),
        },
        summary="The inquiries, orders or reviews behind a window metric, failing ones first",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        query = EvidenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period, metric = query.validated_data["period"], query.validated_data["metric"]
        try:
            items = selectors.seller_evidence(seller_id=seller.pk, period=period, metric=metric)
        except NoActivePolicy as exc:
            raise NoPolicy() from exc
        except (ValueError, OverflowError) as exc:  # a period too far out to have a window
            raise ValidationError({"detail": [str(exc)]}) from exc
        body = {
            "seller": seller.external_id,
            "period": str(period),
            "metric": metric,
            "items": items,
        }
        response = Response(body)
        if isinstance(getattr(request, "accepted_renderer", None), EvidenceCSVRenderer):
            filename = f"evidence-{period}-{metric}.csv"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class SellerEvaluationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=EvaluationSerializer(many=True),
        summary="The seller's evaluations, newest period first (a plain list: one per month)",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        evaluations = selectors.seller_evaluations(seller_id=seller.pk)
        return Response([evaluation_payload(evaluation) for evaluation in evaluations])


class EvaluationRunsView(APIView):
    permission_classes = [IsStaff]
    pagination_class = Pagination

    @extend_schema(
        request=RunRequestSerializer,
        responses={
            202: RunCreatedSerializer,
            400: OpenApiResponse(description="Bad period, or a period that has not ended."),
            409: OpenApiResponse(description="A run of this period is pending or running."),
        },
        summary="Evaluate a period (staff)",
        description="Queues the evaluation; with eager tasks it has run by the time the "
        "response is sent, and status says so.",
    )
    def post(self, request: Request) -> Response:
        data = RunRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run = runs.request_run(period=data.validated_data["period"], trigger="manual")
        except runs.RunAlreadyOpen as exc:
            raise Conflict(str(exc)) from exc
        run.refresh_from_db(fields=["status"])
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=RunSerializer(many=True), summary="Evaluation runs, newest first")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            EvaluationRun.objects.order_by("-created_at", "-id"), request, view=self
        )
        return paginator.get_paginated_response([run_payload(run) for run in page or []])


class EvaluationRunView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=RunSerializer, summary="One evaluation run (staff)")
    def get(self, request: Request, run_id: int) -> Response:
        run = selectors.evaluation_run(run_id=run_id)
        if run is None:
            raise Http404("No such evaluation run.")
        return Response(run_payload(run))
