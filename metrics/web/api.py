"""Grade, preview, evidence and evaluation endpoints (SPEC §7). Thin: parse, call, shape.

A seller user reads only its own seller: another seller's id answers 404 (ids are not
confirmed); staff read everything; runs are staff only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import (
    CURSOR_PATTERN,
    DocumentedQueryOnly,
    IsAuthenticated,
    IsStaff,
    IsStaffOrReadOnly,
    KeysetCursor,
    Pagination,
)
from common.api_schema import error_responses
from common.csv import safe_cell
from common.errors import InvalidInput
from common.ingest import usable_lookup
from common.ingest_api import SELLER_FILTER
from metrics import runs
from metrics.engine.evidence import ITEM_COLUMNS, EvidenceItems
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, SellerEvaluation
from metrics.policy.limits import MAX_LEVEL_NAME
from metrics.runs.preview import preview_grade
from metrics.web import selectors
from metrics.web.serializers import (
    EXAMPLE_GRADE_ITEM,
    GRADE_CSV_COLUMNS,
    PERIOD_PATTERN,
    WINDOW_METRICS,
    EvaluationSerializer,
    EvidencePageSerializer,
    EvidenceQuerySerializer,
    Grade,
    GradePageSerializer,
    GradePreviewSerializer,
    GradeSerializer,
    GradesQuerySerializer,
    Preview,
    RunCreatedSerializer,
    RunSerializer,
    RunStartSerializer,
    SellerWithGradeSerializer,
    grade_csv_row,
    grade_item,
)
from orders.models import Seller


def _seller_or_404(request: Request, external_id: str) -> Seller:
    seller = selectors.visible_seller(user=request.user, external_id=external_id)
    if seller is None:
        raise Http404("No such seller.")
    return seller


class SellerGradeView(DocumentedQueryOnly, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["grades"],
        responses=GradeSerializer,
        summary="The seller's grade for the latest evaluated period",
        description="Before the first evaluation: level, rank, period and effective_from are "
        "null, every metric is null and criteria is [].",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        evaluation = selectors.latest_evaluation(seller_id=seller.pk)
        return Response(GradeSerializer(Grade(seller.external_id, evaluation)).data)


class SellerGradePreviewView(DocumentedQueryOnly, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["grades"],
        responses={
            200: GradePreviewSerializer,
            **error_responses(503, descriptions={503: "No grade policy is active."}),
        },
        summary="The projected grade if the month were evaluated now (not stored)",
        description="period = the current month; effective_from = the 1st of next month; "
        "as_of = the instant the figures are computed to (a month-to-date refresh, at most "
        "PREVIEW_MAX_AGE_SECONDS old, or now).",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        preview = preview_grade(seller=seller)  # NoActivePolicy: 503 (common.api)
        return Response(GradePreviewSerializer(Preview(seller.external_id, preview)).data)


# --- evidence ---------------------------------------------------------------------------------


# The streamed CSV is handed to the server in pieces of about this many characters: one piece
# per row would mean a write (and, behind a proxy, a chunk) per row; a bounded buffer keeps the
# memory flat whatever the number of items.
CSV_PIECE_CHARS = 64 * 1024


def evidence_csv(items: EvidenceItems) -> Iterator[str]:
    """A header row, then one row per item, produced while the items are read (no list)."""
    columns = ITEM_COLUMNS[items.kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for item in items:
        writer.writerow([safe_cell(item[column]) for column in columns])
        if buffer.tell() >= CSV_PIECE_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class EvidenceCSVRenderer(BaseRenderer):
    """``Accept: text/csv`` or ``?format=csv`` selects the CSV answer in content negotiation.

    The view streams that answer itself (a ``StreamingHttpResponse``: every item, written as it
    is read) and answers everything else in JSON (``SellerEvidenceView.finalize_response``),
    so nothing is ever rendered through this class.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        raise NotImplementedError("The evidence CSV is streamed by SellerEvidenceView.")


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


class EvidencePagination(Pagination):
    """SPEC §7 evidence pages: the API's strict pages (``common.api.Pagination``)."""


PAGE_SIZE_PARAMETER = OpenApiParameter(
    "page_size",
    {"type": "integer", "minimum": 1, "maximum": EvidencePagination.max_page_size},
    default=EvidencePagination.page_size,
    description="Items a page of the JSON answer: 1 to 1,000 (more is a 400, not a silent "
    "cap). Ignored by the CSV, which has every item.",
)
PAGE_PARAMETER = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 1},
    default=1,
    description="Page of the JSON answer, from 1. A page past the last one is a 404 (page 1 "
    "always exists, empty when there are no items); not a whole number ≥ 1 is a 400. "
    "Ignored by the CSV.",
)


EVIDENCE_200_DESCRIPTION = (
    "JSON: one page of the items (`?page=`, `?page_size=`). CSV: every item (not a page), "
    "streamed: a header row (also when there are no items), then one row per item, failing "
    "ones first; booleans are true/false, null is an empty cell, and a text cell whose first "
    "non-blank character (after NFKC normalisation) is = + - @, a tab or a carriage return is "
    "prefixed with ' (spreadsheet formula guard, common/csv.py)."
)


class SellerEvidenceView(DocumentedQueryOnly, APIView):
    permission_classes = [IsAuthenticated]
    query_params = Pagination.query_params | {"period", "metric", "format"}
    content_negotiation_class = FormatOverrideNegotiation
    renderer_classes = [JSONRenderer, EvidenceCSVRenderer]
    pagination_class = EvidencePagination

    @extend_schema(
        tags=["grades"],
        parameters=[
            OpenApiParameter(
                "period",
                {"type": "string", "pattern": PERIOD_PATTERN},
                required=True,
                description="YYYY-MM, a month from 1900-01 to 2999-12.",
            ),
            OpenApiParameter(
                "metric",
                {"type": "string", "enum": list(WINDOW_METRICS)},
                required=True,
                description="A window metric key of SPEC §4 (cumulative metrics have no "
                "evidence items).",
            ),
            PAGE_PARAMETER,
            PAGE_SIZE_PARAMETER,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv"],
                description="csv: every item as one streamed CSV (wins over the Accept header; "
                "`Accept: text/csv` does the same).",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                EvidencePageSerializer, description=EVIDENCE_200_DESCRIPTION
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description=EVIDENCE_200_DESCRIPTION,
                examples=[
                    OpenApiExample(
                        "CSV",
                        value="external_id,due_at,delivered_at,completed_at,cancelled_at,"
                        "cancelled_by,on_time\r\n"
                        "o-2,2026-10-04T10:00:00+09:00,2026-10-06T10:00:00+09:00,"
                        "2026-10-07T10:00:00+09:00,,,false\r\n",
                        media_type="text/csv",
                        status_codes=["200"],
                    )
                ],
            ),
            **error_responses(
                400,
                404,
                503,
                descriptions={
                    400: "Field messages for a bad period, metric, page or page_size, or an "
                    "unknown query parameter; JSON also when CSV was asked for.",
                    404: "No such seller (or not yours), or a page past the last one; JSON "
                    "also when CSV was asked for.",
                    503: "The period was never evaluated and no grade policy is active.",
                },
            ),
        },
        summary="The inquiries, orders or reviews behind a window metric, failing ones first",
        description="JSON: one page of the items, `{count, next, previous, results}` (next and "
        "previous are absolute URLs or null) plus the seller, period and metric asked for. "
        "CSV (`?format=csv` or `Accept: text/csv`): every item, streamed.",
    )
    def get(self, request: Request, external_id: str) -> HttpResponseBase:
        seller = _seller_or_404(request, external_id)
        query = EvidenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period, metric = query.validated_data["period"], query.validated_data["metric"]
        try:
            items = selectors.seller_evidence(seller_id=seller.pk, period=period, metric=metric)
        except (ValueError, OverflowError) as exc:  # a period too far out to have a window
            raise ValidationError({"period": [f"No evidence window for {period}: {exc}"]}) from exc

        paginator = self.pagination_class()
        if isinstance(request.accepted_renderer, EvidenceCSVRenderer):
            # The CSV has every item, but page and page_size are still read as documented.
            paginator.get_page_size(request)
            paginator.get_page_number(request, None)
            response = StreamingHttpResponse(
                evidence_csv(items), content_type="text/csv; charset=utf-8"
            )
            filename = f"evidence-{period}-{metric}.csv"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response

        # EvidenceItems counts and slices like a queryset (one COUNT, one LIMIT/OFFSET query).
        page: list[dict[str, Any]] | None = paginator.paginate_queryset(
            items,  # type: ignore[arg-type]
            request,
            view=self,
        )
        body = paginator.get_paginated_response(page).data
        return Response(
            {"seller": seller.external_id, "period": str(period), "metric": metric, **body}
        )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # Only a successful CSV answer is CSV (a StreamingHttpResponse, whatever the stubs say).
        # Errors (400, 401, 404, 503...) and OPTIONS are JSON even when CSV was asked for:
        # field messages a client can parse, the shape of every other endpoint's errors.
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and isinstance(
            response.accepted_renderer, EvidenceCSVRenderer
        ):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class SellerEvaluationsView(DocumentedQueryOnly, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["grades"],
        responses=EvaluationSerializer(many=True),
        summary="The seller's evaluations, newest period first (a plain list: one per month)",
    )
    def get(self, request: Request, external_id: str) -> Response:
        seller = _seller_or_404(request, external_id)
        evaluations = selectors.seller_evaluations(seller_id=seller.pk)
        return Response(EvaluationSerializer(evaluations, many=True).data)


class EvaluationRunsView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaff]
    pagination_class = Pagination
    query_params = Pagination.query_params

    @extend_schema(
        tags=["evaluations"],
        request=RunStartSerializer,
        responses={
            202: RunCreatedSerializer,
            **error_responses(
                400,
                409,
                descriptions={
                    400: "A period that is not YYYY-MM from 1900-01 to 2999-12, or that has "
                    "not ended yet (field messages under `period`, saying from when it can be "
                    "evaluated).",
                    409: "A run of the period is already pending or running (`detail`).",
                },
            ),
        },
        summary="Evaluate a period (staff)",
        description="Queues the evaluation; with eager tasks it has run by the time the "
        "response is sent, and status says so.",
    )
    def post(self, request: Request) -> Response:
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            period = runs.parse_completed_period(text=str(data.validated_data["period"]))
        except ValueError as exc:
            # A well-formed period that has not ended (or is too early): a field message
            # under `period` that says from when it can be evaluated.
            raise InvalidInput(errors={"period": [str(exc)]}) from exc
        # RunAlreadyOpen is a Conflict: 409 through common.api.exception_handler.
        run = runs.request_run(period=period, trigger="manual")
        run.refresh_from_db(fields=["status"])
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=["evaluations"],
        responses=RunSerializer(many=True),
        summary="Evaluation runs, newest first",
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            runs.with_progress(EvaluationRun.objects.order_by("-created_at", "-id")),
            request,
            view=self,
        )
        return paginator.get_paginated_response(RunSerializer(page or [], many=True).data)


class EvaluationRunView(DocumentedQueryOnly, APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        tags=["evaluations"], responses=RunSerializer, summary="One evaluation run (staff)"
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = selectors.evaluation_run(run_id=run_id)
        if run is None:
            raise Http404("No such evaluation run.")
        return Response(RunSerializer(run).data)


# --- a period's grades for every seller (SPEC §7) ----------------------------------------------

# Rows fetched per round trip of the export's server-side cursor (PostgreSQL) or batch (SQLite):
# at scale S (10,000 sellers) 2,000 was measured against 500 and 5,000 within noise; memory
# stays that many rows whatever the period's size.
GRADE_EXPORT_CHUNK = 2000


class GradesNDJSONRenderer(EvidenceCSVRenderer):
    """``Accept: application/x-ndjson`` or ``?format=ndjson``: one JSON grade a line, streamed
    by ``GradesView`` (never rendered through this class)."""

    media_type = "application/x-ndjson"
    format = "ndjson"


class GradesCSVRenderer(EvidenceCSVRenderer):
    """``Accept: text/csv`` or ``?format=csv``: streamed by ``GradesView``."""


def _pieces(lines: Iterable[str]) -> Iterator[str]:
    """Lines joined into pieces of about ``CSV_PIECE_CHARS`` (a write per piece, not per row)."""
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= CSV_PIECE_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    yield "".join(buffer)


def grades_ndjson(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """One JSON object a line (``\\n``-terminated), produced while the rows are read."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return _pieces(dumps(grade_item(row)) + "\n" for row in rows)


def grades_csv(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """A header row, then one row per grade (a column per metric), formula-guarded cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def lines() -> Iterator[str]:
        writer.writerow(GRADE_CSV_COLUMNS)
        for row in rows:
            writer.writerow([safe_cell(cell) for cell in grade_csv_row(grade_item(row))])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return _pieces(lines())


GRADES_FORMATS = {"json", "csv", "ndjson"}
GRADES_200 = (
    "JSON: one page, `{next, previous, results}` by cursor (`next`/`previous` absolute URLs or "
    "null; they keep the period, filters and page_size, so a sync of a period stays on it). "
    "CSV and NDJSON: every grade of the filtered period (not a page), streamed in seller "
    "order; the CSV has a header row and one column per metric (null is an empty cell, "
    "booleans true/false, a text cell starting with = + - @ is prefixed with ')."
)


class GradesView(DocumentedQueryOnly, APIView):
    """Every seller's grade of a period, for integrations that sync grades (SPEC §7)."""

    permission_classes = [IsAuthenticated]
    query_params = KeysetCursor.query_params | {
        "period",
        "level",
        "moved",
        "updated_since",
        "format",
    }
    content_negotiation_class = FormatOverrideNegotiation
    renderer_classes = [JSONRenderer, GradesCSVRenderer, GradesNDJSONRenderer]
    pagination = KeysetCursor(key="seller_id")

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # An unknown ?format= is a 400 naming it (DRF would answer 404), in JSON.
        wanted = request.query_params.get("format")
        if wanted is not None and wanted not in GRADES_FORMATS:
            if force:
                return JSONRenderer(), JSONRenderer.media_type
            raise ValidationError({"format": [f"One of: {', '.join(sorted(GRADES_FORMATS))}."]})
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        tags=["grades"],
        parameters=[
            OpenApiParameter(
                "period",
                {"type": "string", "pattern": PERIOD_PATTERN},
                description="YYYY-MM; default: the latest evaluated period.",
            ),
            OpenApiParameter(
                "level",
                {"type": "string", "maxLength": MAX_LEVEL_NAME},
                description="Only sellers at this level (its name).",
            ),
            OpenApiParameter(
                "moved",
                {"type": "string", "enum": list(selectors.MOVES)},
                description="up / down: the level's rank is above / below the previous "
                "level's under the period's policy (no level, and a previous level that "
                "policy no longer has, rank lowest); changed: the level differs from the "
                "previous one. A first evaluation never moved.",
            ),
            OpenApiParameter(
                "updated_since",
                {"type": "string", "format": "date-time", "maxLength": 64},
                description="Only grades written or corrected at or after this instant "
                "(ISO 8601 with an offset; naive is a 400). A re-run rewrites its period's "
                "grades; a re-run of an older period rewrites the next period's "
                "previous_level. Sync from the start of your previous sync, less a minute.",
            ),
            OpenApiParameter(
                "cursor",
                {"type": "string", "pattern": CURSOR_PATTERN},
                description="Where a page starts: take it from next or previous.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": KeysetCursor(key="").max_page_size},
                default=100,
                description="Items a JSON page: 1 to 1,000 (more is a 400). Ignored by the "
                "streams, which have every grade.",
            ),
            OpenApiParameter(
                "format",
                {"type": "string", "enum": sorted(GRADES_FORMATS)},
                description="csv or ndjson: the whole filtered period streamed (wins over the "
                "Accept header; `Accept: text/csv` or `application/x-ndjson` do the same).",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(GradePageSerializer, description=GRADES_200),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description=GRADES_200,
                examples=[
                    OpenApiExample(
                        "CSV",
                        value=",".join(GRADE_CSV_COLUMNS)
                        + "\r\ns-1,2026-10,Level 1,Level 2,false,"
                        + ",".join("" for _ in GRADE_CSV_COLUMNS[5:])
                        + "\r\n",
                        media_type="text/csv",
                        status_codes=["200"],
                    )
                ],
            ),
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR,
                description=GRADES_200,
                examples=[
                    OpenApiExample(
                        "NDJSON",
                        value=json.dumps(EXAMPLE_GRADE_ITEM) + "\n",
                        media_type="application/x-ndjson",
                        status_codes=["200"],
                    )
                ],
            ),
            **error_responses(
                400,
                descriptions={
                    400: "Field messages for a bad period, level, moved, updated_since, "
                    "cursor or page_size, or an unknown query parameter; JSON also when a "
                    "stream was asked for."
                },
            ),
        },
        summary="Every seller's grade of a period (cursor pages, or the whole period streamed)",
        description="Staff and API keys read every seller; a seller's login reads its own "
        "grade. No evaluated period yet: an empty page (an empty stream).",
    )
    def get(self, request: Request) -> HttpResponseBase:
        # DRF reads an empty query value of an optional field as absent: here it is a 400.
        empty = {
            name: ["Give a value, or leave the parameter out."]
            for name in ("period", "level", "moved", "updated_since")
            if request.query_params.get(name) == ""
        }
        if empty:
            raise ValidationError(empty)
        query = GradesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        streamed = isinstance(request.accepted_renderer, GradesCSVRenderer | GradesNDJSONRenderer)
        if streamed:
            self.pagination.page_size(request)  # still read as documented
            self.pagination.position(request)
        period = query.validated_data.get("period")
        if period is None:
            latest = selectors.latest_graded_period()
            period = Period.parse(latest) if latest else None
        if period is None:
            rows: QuerySet[Any] = SellerEvaluation.objects.none()
        else:
            rows = selectors.period_grades(
                period=period,
                level=query.validated_data.get("level"),
                moved=query.validated_data.get("moved"),
                updated_since=query.validated_data.get("updated_since"),
            )
        if not request.user.is_staff:
            rows = rows.filter(seller__user_id=request.user.pk)
        rows = rows.values(*selectors.GRADE_COLUMNS)
        if streamed:
            as_csv = isinstance(request.accepted_renderer, GradesCSVRenderer)
            stream = rows.iterator(chunk_size=GRADE_EXPORT_CHUNK)
            response = StreamingHttpResponse(
                grades_csv(stream) if as_csv else grades_ndjson(stream),
                content_type="text/csv; charset=utf-8"
                if as_csv
                else "application/x-ndjson; charset=utf-8",
            )
            name = f"grades-{period or 'none'}.{'csv' if as_csv else 'ndjson'}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        page = self.pagination.page(rows, request, extra={"period": str(period)} if period else {})
        return Response(
            {
                "next": page["next"],
                "previous": page["previous"],
                "results": [grade_item(row) for row in page["items"]],
            }
        )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # As the evidence: only a successful stream is CSV/NDJSON; errors are JSON.
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and isinstance(
            response.accepted_renderer, EvidenceCSVRenderer
        ):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


@extend_schema_view(
    get=extend_schema(
        tags=["sellers"],
        summary="Sellers by external_id, each with its current level and period (a seller "
        "login sees only itself)",
        parameters=[SELLER_FILTER],
    )
)
class SellerListView(DocumentedQueryOnly, generics.ListAPIView):
    """``GET /api/v1/sellers``: the ingested sellers with their current grade (SPEC §7)."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = SellerWithGradeSerializer
    query_params = Pagination.query_params | {"seller"}

    def get_queryset(self) -> QuerySet[Seller]:
        sellers = selectors.sellers_with_grade(user=self.request.user)
        wanted = self.request.query_params.get("seller")
        if wanted is None:
            return sellers
        return sellers.filter(external_id=wanted) if usable_lookup(wanted) else sellers.none()
