"""Staff's appeal queue and the audit trail in Django admin (SPEC §8).

The queue lists open appeals oldest first. An appeal's page shows the order's evidence (its
lifecycle, review, cases and survey), the seller's level history and what accepting would do to
each affected period (a dry run), and decides it with a note; several appeals can be decided
at once from the list. Appeals and the audit are never deleted; the audit is read-only and
exportable as CSV.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from common.errors import AppError
from metrics.appeals import audit, services
from metrics.appeals.corrections import preview_correction
from metrics.models import MAX_APPEAL_NOTE, Appeal, AppealStatus, AuditEntry, SellerEvaluation
from reviews.models import Review, Survey


class DecisionForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=MAX_APPEAL_NOTE,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The seller reads this answer.",
    )


def _decide_many(
    request: HttpRequest, appeals: QuerySet[Appeal], status: str
) -> HttpResponse | None:
    """Decide the selected open appeals with one note (an intermediate page asks for it)."""
    open_ones = appeals.filter(status=AppealStatus.OPEN)
    if "apply" in request.POST:
        form = DecisionForm(request.POST)
        if form.is_valid():
            decided = 0
            for appeal_id in open_ones.values_list("pk", flat=True):
                try:
                    services.decide_appeal(
                        appeal_id=appeal_id,
                        status=status,
                        note=form.cleaned_data["note"],
                        actor=request.user,
                    )
                    decided += 1
                except AppError as exc:  # decided meanwhile by someone else
                    messages.warning(request, f"Appeal #{appeal_id}: {exc.message}")
            messages.success(request, f"{decided} appeal(s) {status}.")
            return None
    else:
        form = DecisionForm()
    return TemplateResponse(
        request,
        "admin/metrics/appeal/decide_many.html",
        {
            **admin.site.each_context(request),
            "title": f"{status.capitalize()} {open_ones.count()} appeal(s)",
            "appeals": open_ones.select_related("seller", "order"),
            "form": form,
            "status": status,
            "action": f"{status[:-2] if status.endswith('ed') else status}_selected",
            "opts": Appeal._meta,
        },
    )


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ["id", "opened_at", "seller_label", "order", "status", "correction", "reason"]
    list_filter = ["status", "correction"]
    list_select_related = ["seller", "order"]
    search_fields = ["seller__external_id", "seller__display_name", "order__external_id"]
    actions = ["accept_selected", "reject_selected"]
    change_form_template = "admin/metrics/appeal/change_form.html"
    readonly_fields = (
        "seller",
        "order",
        "reason",
        "status",
        "opened_at",
        "opened_by",
        "decided_at",
        "decided_by",
        "note",
        "correction",
        "corrected_at",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appeal]:
        # The queue: open appeals first, oldest first.
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_first=Case(
                    When(status=AppealStatus.OPEN, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("open_first", "opened_at", "id")
        )

    @admin.display(description="Seller", ordering="seller__external_id")
    def seller_label(self, appeal: Appeal) -> str:
        return str(appeal.seller)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a seller files an appeal (or the API on its behalf)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history is kept

    @admin.action(description="Accept selected appeals (corrects their grades)")
    def accept_selected(
        self, request: HttpRequest, queryset: QuerySet[Appeal]
    ) -> HttpResponse | None:
        self._require_change(request)
        return _decide_many(request, queryset, AppealStatus.ACCEPTED)

    @admin.action(description="Reject selected appeals")
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[Appeal]
    ) -> HttpResponse | None:
        self._require_change(request)
        return _decide_many(request, queryset, AppealStatus.REJECTED)

    def _require_change(self, request: HttpRequest) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:appeal_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="metrics_appeal_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, appeal_id: int) -> HttpResponse:
        """POST: accept or reject one appeal with a note, then back to the queue."""
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        form = DecisionForm(request.POST)
        status = request.POST.get("status")
        if form.is_valid() and status in (AppealStatus.ACCEPTED, AppealStatus.REJECTED):
            try:
                services.decide_appeal(
                    appeal_id=appeal_id,
                    status=status,
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except AppError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Appeal #{appeal_id} {status}.")
        else:
            messages.error(request, "Choose accept or reject; the note has at most 2,000 chars.")
        return HttpResponseRedirect(reverse("admin:metrics_appeal_changelist"))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        appeal = get_object_or_404(Appeal.objects.select_related("seller", "order"), pk=object_id)
        order = appeal.order
        context = {
            "appeal": appeal,
            "order": order,
            "review": Review.objects.filter(order=order).first(),
            "cases": list(order.cases.order_by("opened_at")),
            "survey": Survey.objects.filter(order=order).first(),
            "history": list(
                SellerEvaluation.objects.filter(seller_id=appeal.seller_id)
                .order_by("-period")
                .values("period", "level", "previous_level", "at_risk", "corrected_at")[:12]
            ),
            "decision_form": DecisionForm(),
            "can_decide": appeal.status == AppealStatus.OPEN
            and self.has_change_permission(request),
            "would_become": (
                preview_correction(appeal=appeal) if appeal.status == AppealStatus.OPEN else None
            ),
            "corrections": list(appeal.corrections.order_by("period")),
        }
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor_name", "seller", "order", "appeal", "period"]
    list_filter = ["action"]
    list_select_related = ["seller", "order"]
    search_fields = ["seller__external_id", "order__external_id", "actor_name"]
    change_list_template = "admin/metrics/auditentry/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="metrics_auditentry_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The whole audit trail as one streamed CSV, oldest first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = StreamingHttpResponse(
            audit.audit_csv(audit.entries().iterator(chunk_size=1000)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="gradecraft-audit.csv"'
        return response
