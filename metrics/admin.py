"""Admin for the grade policy (SPEC §5, §8) and read-only evaluation results.

Django has no nested inlines, so a policy is edited on two pages: the policy page (window
settings + its levels inline, each with a summary of its criteria and a link) and each level's
page (its criteria inline). Both pages validate the WHOLE policy as it would be after the save
with ``metrics.policy.services.validate_policy_data`` (the same rules as
``PUT /api/v1/policy``), from the formset's ``clean``: an incoherent policy shows the messages
and nothing is saved.

A policy an evaluation run used is frozen (every field and inline read-only, no delete): staff
"duplicate as draft", edit the copy and activate it. Activation deactivates the previous active
policy in the same transaction, so the one-active-policy constraint never trips in a form.
"""

import csv
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from metrics.engine.grading import (
    CriterionSpec,
    LevelSpec,
    PolicySnapshot,
    criterion_data,
    exact_from_json,
    grade,
    result_to_json,
    stored_windows,
)
from metrics.engine.periods import Period
from metrics.models import (
    Criterion,
    EvaluationRun,
    GradeLevel,
    GradePolicy,
    RunStatus,
    SellerEvaluation,
)
from metrics.policy.presets import PresetNotFound, all_presets, load_preset
from metrics.policy.preview import (
    NoEvaluatedPeriod,
    PreviewNotFound,
    PreviewResult,
    last_evaluated_run,
    preview_job,
    preview_policy,
    queue_preview,
    same_windows,
)
from metrics.policy.services import (
    PolicyConflict,
    PolicyInvalid,
    activate_policy,
    describe_errors,
    duplicate_policy,
    policy_data,
    policy_is_used,
    score_errors,
    snapshot_of,
    validate_policy_data,
)
from metrics.web import selectors, sentences

_POLICY_FIELDS = ("window_months", "window_days", "response_window_hours", "demotion_grace_months")


_CRITERION_FIELDS = ("metric", "op", "value", "any_of", "window_days")


def _policy_fields(policy: GradePolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "score": policy.score,
        **{f: getattr(policy, f) for f in _POLICY_FIELDS},
    }


def _criteria_data(level: GradeLevel | None) -> list[dict[str, Any]]:
    if level is None or level.pk is None:
        return []
    return [criterion_data(c) for c in Criterion.objects.filter(level=level).order_by("id")]


def _live_forms(formset: Any) -> list[Any]:
    """The forms that will exist after the save: filled in, not marked for deletion."""
    live = []
    for form in formset.forms:
        if not hasattr(form, "cleaned_data") or not form.cleaned_data:
            continue
        if formset.can_delete and formset._should_delete_form(form):
            continue
        live.append(form)
    return live


def _reject_if_incoherent(data: dict[str, Any]) -> None:
    errors = validate_policy_data(data)
    if errors:
        raise ValidationError(
            ["This policy is not saved: " + line for line in describe_errors(errors, data)]
        )


class LevelFormSet(BaseInlineFormSet):
    """The policy page: validate the policy fields + these levels + their stored criteria."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        levels = [
            {
                "name": form.cleaned_data.get("name"),
                "rank": form.cleaned_data.get("rank"),
                "criteria": _criteria_data(form.instance if form.instance.pk else None),
            }
            for form in _live_forms(self)
        ]
        _reject_if_incoherent({**_policy_fields(self.instance), "levels": levels})


class CriterionFormSet(BaseInlineFormSet):
    """A level's page: validate its whole policy with this level's new name, rank, criteria."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        level: GradeLevel = self.instance
        if level.policy_id is None:
            return  # the level form itself reports the missing policy
        policy = level.policy
        levels = []
        for other in GradeLevel.objects.filter(policy=policy).exclude(pk=level.pk):
            levels.append(
                {"name": other.name, "rank": other.rank, "criteria": _criteria_data(other)}
            )
        criteria = [
            {key: form.cleaned_data.get(key) for key in _CRITERION_FIELDS}
            for form in _live_forms(self)
        ]
        levels.append({"name": level.name, "rank": level.rank, "criteria": criteria})
        levels.sort(key=lambda lvl: lvl["rank"] if isinstance(lvl["rank"], int) else -1)
        _reject_if_incoherent({**_policy_fields(policy), "levels": levels})


def _frozen(policy: GradePolicy | None) -> bool:
    return policy is not None and policy_is_used(policy)


class GradeLevelInline(admin.TabularInline):
    model = GradeLevel
    formset = LevelFormSet
    fields = ["name", "rank", "criteria_summary"]
    readonly_fields = ["criteria_summary"]
    extra = 0
    show_change_link = True
    ordering = ["rank"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GradeLevel]:
        return super().get_queryset(request).prefetch_related("criteria")

    @admin.display(description="criteria (edit them on the level's page: “Change”)")
    def criteria_summary(self, obj: GradeLevel) -> str:
        if obj.pk is None:
            return "Save the policy, then add criteria on the level's page."
        criteria = list(obj.criteria.all())
        if not criteria:
            return "none (always passes)"
        snapshot = LevelSpec(
            name=obj.name,
            rank=obj.rank,
            criteria=tuple(
                CriterionSpec(c.metric, c.op, c.value, c.any_of, c.window_days) for c in criteria
            ),
        )
        return format_html_join(
            "", "{}<br>", ((rule,) for rule in sentences.level_rules(snapshot, currency="KRW"))
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _frozen(obj) and super().has_delete_permission(request, obj)


class GradePolicyForm(forms.ModelForm):
    make_active = forms.BooleanField(
        required=False,
        label="Make this the active policy",
        help_text="Deactivates the current active policy when saved. The next evaluation uses "
        "this one.",
    )

    class Meta:
        model = GradePolicy
        fields = ["name", *_POLICY_FIELDS, "score"]
        help_texts = {
            "score": 'Optional success score: a JSON list such as [{"metric": "response_rate", '
            '"weight": 30, "zero": 50, "full": 100}]. Each metric maps to 0 at zero and 1 at '
            "full (clamped; zero above full for a lower-is-better metric), weighted; "
            "success_score is 100 × the weighted mean over the parts that are not null. "
            "Empty list: no score.",
        }

    def clean_score(self) -> Any:
        score = self.cleaned_data.get("score")
        errors = score_errors(score)
        if errors:
            raise ValidationError(describe_errors(errors))
        return score if score else []


@admin.register(GradePolicy)
class GradePolicyAdmin(admin.ModelAdmin):
    form = GradePolicyForm
    inlines = [GradeLevelInline]
    list_display = [
        "name",
        "is_active",
        "window",
        "response_window_hours",
        "demotion_grace_months",
        "level_count",
        "run_count",
        "created_at",
        "created_by",
    ]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["is_active", "created_at", "created_by"]
    actions = ["activate_selected", "duplicate_as_draft", "preview_impact_of_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GradePolicy]:
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(_levels=Count("levels", distinct=True), _runs=Count("runs", distinct=True))
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", *_POLICY_FIELDS, "score", "is_active", "created_at", "created_by"]
        if not _frozen(obj) and not (obj is not None and obj.is_active):
            fields.insert(len(_POLICY_FIELDS) + 2, "make_active")
        return fields

    @admin.display(description="window")
    def window(self, obj: GradePolicy) -> str:
        if obj.window_days:
            return f"{obj.window_days} days"
        if obj.window_months == 0:
            return "all time"
        return f"{obj.window_months} months"

    @admin.display(description="levels")
    def level_count(self, obj: Any) -> int:
        return int(obj._levels)

    @admin.display(description="runs that used it")
    def run_count(self, obj: Any) -> int:
        return int(obj._runs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (obj.is_active or _frozen(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # A bulk delete would bypass the per-object rules above (active or used policies).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: GradePolicy, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if form.cleaned_data.get("make_active"):
            self._activate(request, form.instance)

    def _activate(self, request: HttpRequest, policy: GradePolicy) -> None:
        try:
            activate_policy(policy=policy)
        except PolicyInvalid as exc:
            for line in describe_errors(exc.errors, policy_data(policy)):
                self.message_user(request, f"Not activated: {line}", messages.ERROR)
        except PolicyConflict as exc:
            self.message_user(request, f"Not activated: {exc}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"“{policy.name}” is now the active policy; the previous one was deactivated.",
                messages.SUCCESS,
            )

    @admin.action(description="Activate the selected policy (deactivates the current one)")
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[GradePolicy]) -> None:
        policies = list(queryset[:2])
        if len(policies) != 1:
            self.message_user(
                request,
                "Select exactly one policy to activate: only one can be active.",
                messages.ERROR,
            )
            return
        self._activate(request, policies[0])

    @admin.action(description="Duplicate as an inactive draft (to change a used policy)")
    def duplicate_as_draft(self, request: HttpRequest, queryset: QuerySet[GradePolicy]) -> None:
        for policy in queryset:
            copy = duplicate_policy(policy=policy, actor=request.user)
            self.message_user(
                request, f"Created draft “{copy.name}” (#{copy.pk}).", messages.SUCCESS
            )

    @admin.action(description="Preview impact: how the last run's sellers would be graded")
    def preview_impact_of_selected(
        self, request: HttpRequest, queryset: QuerySet[GradePolicy]
    ) -> HttpResponse | None:
        policies = list(queryset[:2])
        if len(policies) != 1:
            self.message_user(request, "Select exactly one policy to preview.", messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse("admin:metrics_gradepolicy_preview", args=[policies[0].pk])
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "presets/",
                self.admin_site.admin_view(self.presets_view),
                name="metrics_gradepolicy_presets",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="metrics_gradepolicy_preview",
            ),
            path(
                "<int:pk>/duplicate/",
                self.admin_site.admin_view(self.duplicate_view),
                name="metrics_gradepolicy_duplicate",
            ),
            # One-page threshold tuning: levels, criteria, impact, activate (policy/tuning.py).
            path(
                "<int:pk>/tune/",
                self.admin_site.admin_view(self.tune_view),
                name="metrics_gradepolicy_tune",
            ),
        ]
        return own + super().get_urls()

    def duplicate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The policy page's "Duplicate as draft" button: POST makes an inactive copy."""
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        policy = get_object_or_404(GradePolicy, pk=pk)
        copy = duplicate_policy(policy=policy, actor=request.user)
        self.message_user(request, f"Created draft “{copy.name}” (#{copy.pk}).", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:metrics_gradepolicy_change", args=[copy.pk]))

    def tune_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from metrics.policy.tuning import tune_view

        return tune_view(self, request, pk)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The "preview impact" page (SPEC §8): counts per level now and under this policy,
        and every seller who would move, for the last evaluated period. Nothing is saved."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        policy = get_object_or_404(GradePolicy, pk=pk)
        snapshot = snapshot_of(policy)
        result, error, computing = None, "", False
        job_id = request.GET.get("job", "")
        if job_id:
            # A recomputation for other windows, done by the preview task (the API's too); the
            # user's own job only (another's is a 404, as in the API).
            try:
                job = preview_job(preview_id=job_id, actor=request.user)
            except PreviewNotFound:
                raise Http404("No such preview.") from None
            if job.status == RunStatus.SUCCEEDED and job.result:
                result = PreviewResult.from_job(job.result)
            elif job.status == RunStatus.FAILED:
                error = job.error
            else:
                computing = True
        else:
            try:
                run = last_evaluated_run()
            except NoEvaluatedPeriod as exc:
                error = str(exc)
            else:
                if not same_windows(run=run, snapshot=snapshot):
                    # Other windows: the metrics are recomputed by a task, not in this request.
                    job = queue_preview(snapshot=snapshot, run=run, actor=request.user)
                    return redirect(f"{request.path}?job={job.pk}")
                result = preview_policy(snapshot=snapshot, run=run)
        rows = []
        movers: list[dict[str, Any]] = []
        if result is not None:
            levels = list(dict.fromkeys([*result.current, *result.draft]))
            rows = [(lv, result.current.get(lv, 0), result.draft.get(lv, 0)) for lv in levels]
            movers = _movers_explained(result, snapshot)
            if request.GET.get("format") == "csv":
                return _movers_csv(policy, result, movers)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview impact of “{policy.name}”",
            "policy": policy,
            "result": result,
            "rows": rows,
            "movers": movers,
            "csv_url": f"{request.path}?{'job=' + job_id + '&' if job_id else ''}format=csv",
            "error": error,
            "computing": computing,
        }
        return TemplateResponse(request, "admin/metrics/gradepolicy/preview.html", context)

    @staticmethod
    def _presets_context() -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "title": p.policy.get("name", p.name),
                "source": p.source,
                "notes": p.notes,
                "levels": [
                    (level.name, sentences.level_rules(level, currency="KRW"))
                    for level in sorted(
                        PolicySnapshot.from_json(p.policy).levels, key=lambda lv: lv.rank
                    )
                ],
            }
            for p in all_presets()
        ]

    def presets_view(self, request: HttpRequest) -> HttpResponse:
        """ "Start from a preset": each marketplace program; POST creates an inactive draft."""
        return _presets_page(self, request)


def _presets_page(model_admin: GradePolicyAdmin, request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not model_admin.has_add_permission(request):
            return HttpResponse(status=403)
        try:
            policy = load_preset(
                name=str(request.POST.get("preset", "")), actor=request.user, activate=False
            )
        except PresetNotFound as exc:
            model_admin.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:metrics_gradepolicy_presets"))
        model_admin.message_user(
            request,
            f"Created the inactive draft “{policy.name}” (#{policy.pk}) from the preset: "
            "edit it, preview its impact, then make it active.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:metrics_gradepolicy_change", args=[policy.pk]))
    if request.method != "GET":
        return HttpResponse(status=405)
    if not model_admin.has_view_permission(request):
        return HttpResponse(status=403)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Start from a preset",
        "presets": model_admin._presets_context(),
        "can_add": model_admin.has_add_permission(request),
    }
    return TemplateResponse(request, "admin/metrics/gradepolicy/presets.html", context)


class CriterionInline(admin.TabularInline):
    model = Criterion
    formset = CriterionFormSet
    fields = ["metric", "op", "value", "any_of", "window_days"]
    extra = 1
    ordering = ["id"]

    def _frozen_level(self, obj: Any) -> bool:
        return obj is not None and obj.policy_id is not None and _frozen(obj.policy)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen_level(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen_level(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen_level(obj) and super().has_delete_permission(request, obj)


@admin.register(GradeLevel)
class GradeLevelAdmin(admin.ModelAdmin):
    inlines = [CriterionInline]
    list_display = ["name", "rank", "policy", "criteria_count"]
    list_filter = ["policy"]
    list_select_related = ["policy"]
    ordering = ["policy", "rank"]
    search_fields = ["name", "policy__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GradeLevel]:
        return super().get_queryset(request).annotate(_criteria=Count("criteria"))

    @admin.display(description="criteria")
    def criteria_count(self, obj: Any) -> int:
        return int(obj._criteria)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["policy"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "policy":
            kwargs["queryset"] = GradePolicy.objects.filter(runs__isnull=True).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and _frozen(obj.policy):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Levels are removed on their policy's page, where the whole policy is validated.
        return False


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "period",
        "status",
        "trigger",
        "policy",
        "progress",
        "seller_count",
        "levels",
        "duration",
        "finished_at",
    ]
    readonly_fields = ["levels", "duration", "snapshot"]
    exclude = ["policy_snapshot", "level_counts"]
    list_filter = ["status", "trigger", "period"]
    list_select_related = ["policy"]
    search_fields = ["period"]
    actions = ["rerun_periods"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvaluationRun]:
        from metrics.runs import with_progress

        return with_progress(super().get_queryset(request))

    @admin.display(description="progress")
    def progress(self, run: EvaluationRun) -> str:
        """Chunks staged of the run's chunks (SPEC §7 progress), and the sellers in them."""
        from metrics.runs import progress

        done = progress(run)
        if not done.chunks_total:
            return "–"
        return f"{done.chunks_done}/{done.chunks_total} chunks, {done.sellers_done} sellers"

    @admin.display(description="sellers per level")
    def levels(self, run: EvaluationRun) -> str:
        """ "Level 2: 12 · Level 1: 30", best level first (from the run's snapshot ranks)."""
        counts = run.level_counts or {}
        ranks = PolicySnapshot.from_json(run.policy_snapshot or {}).ranks
        names = sorted(counts, key=lambda name: -ranks.get(name, -1))
        return (
            " · ".join(f"{name or 'no level'}: {sentences.number(counts[name])}" for name in names)
            or "–"
        )

    @admin.display(description="duration")
    def duration(self, run: EvaluationRun) -> str:
        if run.started_at is None or run.finished_at is None:
            return "–"
        seconds = max(0, int((run.finished_at - run.started_at).total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"

    @admin.display(description="policy used (snapshot)")
    def snapshot(self, run: EvaluationRun) -> str:
        """The stored policy as a table: settings, then each level with its rules as sentences."""
        policy = PolicySnapshot.from_json(run.policy_snapshot or {})
        window = sentences.window_phrase(
            window_months=policy.window_months, window_days=policy.window_days
        )
        head = format_html(
            "<table class='gc-snapshot'><tr><th>window</th><td>{}</td></tr>"
            "<tr><th>response window</th><td>{} h</td></tr>"
            "<tr><th>demotion grace</th><td>{}</td></tr>",
            window,
            policy.response_window_hours,
            policy.demotion_grace_months,
        )
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            (
                (level.name, "; ".join(sentences.level_rules(level, currency="KRW")) or "none")
                for level in sorted(policy.levels, key=lambda lv: lv.rank)
            ),
        )
        return mark_safe(head + rows + "</table>")  # noqa: S308 - parts escaped above

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Re-run the selected periods (replaces their results)")
    def rerun_periods(self, request: HttpRequest, queryset: QuerySet[EvaluationRun]) -> None:
        from metrics.runs import RunAlreadyOpen, request_run

        periods = sorted(set(queryset.values_list("period", flat=True)))
        for text in periods:
            try:
                run = request_run(period=Period.parse(text), trigger="manual")
            except RunAlreadyOpen:
                self.message_user(
                    request, f"{text}: a run of this period is already open.", messages.WARNING
                )
            except Exception as exc:  # the run is marked failed; say so instead of a 500
                self.message_user(request, f"{text}: re-run failed: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{text}: re-run #{run.pk} started.", messages.SUCCESS)


# Movers explained on the preview page, at most this many (the CSV has every mover).
PREVIEW_MOVERS_SHOWN = 500


def _movers_explained(result: PreviewResult, snapshot: PolicySnapshot) -> list[dict[str, Any]]:
    """Each mover with the seller's name, id and link, and the criteria that flipped between
    the stored grade and the draft's (re-graded by ``grade`` from the stored metrics; with
    other windows, the draft's criteria results the preview job kept). 1 query."""
    by_id = {m.seller: m for m in result.movers}
    stored = {
        e.seller.external_id: e
        for e in SellerEvaluation.objects.filter(
            period=result.period, seller__external_id__in=list(by_id)
        ).select_related("seller")
    }
    out = []
    for mover in result.movers:
        evaluation = stored.get(mover.seller)
        flipped: list[str] = []
        draft_criteria: list[dict[str, Any]] | None = None
        if evaluation is not None and mover.criteria is not None:
            # Recomputed for the draft's windows: the job kept the draft's criteria results.
            draft_criteria = list(mover.criteria)
        elif evaluation is not None and not result.recomputed:
            draft = grade(
                {k: exact_from_json(v) for k, v in evaluation.metrics.items()},
                snapshot,
                windows=stored_windows(evaluation.criteria),  # per-criterion windows (SPEC §5)
            )
            draft_criteria = result_to_json(draft)["criteria"]
        if evaluation is not None and draft_criteria is not None:
            flipped = [
                sentences.rule_sentence(
                    metric=c["metric"],
                    op=c["op"],
                    threshold=Decimal(str(c["value"])),
                    currency="KRW",
                )
                + (" ✓" if c["passed"] else " ✗")
                for c in selectors.flipped_criteria(evaluation.criteria, draft_criteria)
            ]
        seller = evaluation.seller if evaluation is not None else None
        out.append(
            {
                "id": mover.seller,
                "name": (seller.display_name or seller.username) if seller else "",
                "url": reverse("staff-seller", args=[mover.seller]) if seller else "",
                "from": mover.from_level,
                "to": mover.to_level,
                "flipped": flipped,
            }
        )
    return out


def _movers_csv(
    policy: GradePolicy, result: PreviewResult, movers: list[dict[str, Any]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="preview-{policy.pk}-{result.period}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["seller", "name", "from", "to", "flipped"])
    for m in movers:
        writer.writerow(
            [m["id"], m["name"], m["from"] or "", m["to"] or "", "; ".join(m["flipped"])]
        )
    return response


@admin.register(SellerEvaluation)
class SellerEvaluationAdmin(admin.ModelAdmin):
    list_display = [
        "seller",
        "seller_id_text",
        "period",
        "level",
        "previous_level",
        "computed_level",
        "at_risk",
        "grace_used",
        "run",
    ]
    list_filter = ["period", "level", "at_risk"]
    list_select_related = ["seller", "run"]
    search_fields = ["seller__external_id", "seller__username", "seller__display_name"]
    raw_id_fields = ["seller", "run"]

    @admin.display(description="seller id", ordering="seller__external_id")
    def seller_id_text(self, obj: SellerEvaluation) -> str:
        return obj.seller.external_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Appeals and the audit trail (their own module; registered by importing it).
from metrics.appeals import admin as appeals_admin  # noqa: E402,F401
