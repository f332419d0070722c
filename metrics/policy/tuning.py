"""One-page threshold tuning in admin (issue 11): a draft policy's levels and criteria on one
form, its impact on the last run's stored metrics beside them, and activation from the same
page. Today's alternative is a page per level.

The whole policy is validated on save exactly like the API and the other admin pages
(``metrics.policy.services``); a frozen policy (a run used it) is shown read-only with the way
out: duplicate it as a draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.forms import formset_factory
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from metrics.engine.grading import OPS
from metrics.engine.registry import METRICS
from metrics.models import GradePolicy, PolicyPreview, RunStatus
from metrics.policy.limits import (
    MAX_ANY_OF,
    MAX_CRITERION_WINDOW_DAYS,
    MAX_LEVEL_NAME,
    SMALLINT_MAX,
)
from metrics.policy.preview import (
    NoEvaluatedPeriod,
    PreviewResult,
    TooManyPreviews,
    last_evaluated_run,
    preview_policy,
    queue_preview,
    same_windows,
)
from metrics.policy.services import (
    PolicyConflict,
    PolicyInvalid,
    activate_policy,
    describe_errors,
    policy_data,
    policy_is_used,
    replace_policy_levels,
    snapshot_of,
)

# Blank rows offered for new levels and criteria on each visit.
EXTRA_LEVELS = 1
EXTRA_CRITERIA = 3


class LevelRow(forms.Form):
    name = forms.CharField(max_length=MAX_LEVEL_NAME)
    rank = forms.IntegerField(min_value=0, max_value=SMALLINT_MAX)


class CriterionRow(forms.Form):
    level = forms.CharField(max_length=MAX_LEVEL_NAME, help_text="The level's name.")
    # A blank first choice, so an untouched extra row posts nothing and is left out.
    metric = forms.ChoiceField(choices=lambda: [("", "---------"), *metric_choices()])
    op = forms.ChoiceField(choices=[("", "--"), *((op, op) for op in OPS)])
    value = forms.DecimalField(max_digits=20, decimal_places=4)
    any_of = forms.CharField(max_length=MAX_ANY_OF, required=False)
    window_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CRITERION_WINDOW_DAYS,
        help_text="Its own window in days (empty: the policy window).",
    )


def metric_choices() -> list[tuple[str, str]]:
    """Each metric by its name and unit in the admin's language ("Response rate (%)"),
    read when the form is built so the active language applies."""
    from metrics.web.sentences import metric_choice_label

    return [(key, metric_choice_label(key)) for key in METRICS]


LevelRows = formset_factory(LevelRow, extra=EXTRA_LEVELS, can_delete=True)
CriterionRows = formset_factory(CriterionRow, extra=EXTRA_CRITERIA, can_delete=True)


def _initial(policy: GradePolicy) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = policy_data(policy)
    levels = [{"name": lvl["name"], "rank": lvl["rank"]} for lvl in data["levels"]]
    criteria = [
        {
            "level": lvl["name"],
            **{k: c[k] for k in ("metric", "op", "any_of", "window_days")},
            # 15, not 15.0000 (the column's scale); 5000000, not 5E+6
            "value": format(c["value"].normalize(), "f"),
        }
        for lvl in data["levels"]
        for c in lvl["criteria"]
    ]
    return levels, criteria


def _live(formset: Any) -> list[dict[str, Any]]:
    # A blank extra row has no cleaned data; a row marked for deletion is left out.
    return [form.cleaned_data for form in _live_forms(formset)]


def _levels_data(
    levels: list[dict[str, Any]], criteria: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The policy shape's ``levels`` from the two tables; criteria naming no level are errors."""
    by_name = {lvl["name"]: {**lvl, "criteria": []} for lvl in levels}
    unknown = []
    for c in criteria:
        level = by_name.get(c["level"])
        if level is None:
            unknown.append(
                f"Criterion {c['metric']} {c['op']} {c['value']}: no level named "
                f"“{c['level']}” in the levels above."
            )
            continue
        level["criteria"].append(
            {k: c[k] for k in ("metric", "op", "value")}
            | {"any_of": c.get("any_of") or "", "window_days": c.get("window_days")}
        )
    return sorted(by_name.values(), key=lambda lvl: lvl["rank"]), unknown


def _live_forms(formset: Any) -> list[Any]:
    return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


def _mark_unknown_levels(level_rows: Any, criterion_rows: Any) -> None:
    """Put "no level named …" on the criterion row's level field, where it is to be fixed."""
    names = {f.cleaned_data["name"] for f in _live_forms(level_rows)}
    for form in _live_forms(criterion_rows):
        if form.cleaned_data["level"] not in names:
            form.add_error("level", "No level of this name in the levels above.")


def _mark_fields(
    errors: dict[str, list[str]], levels: list[dict[str, Any]], level_rows: Any, criterion_rows: Any
) -> None:
    """Put the policy's field messages (``levels[i].criteria[j].value`` …) on the rows and
    fields they are about: the i-th level of ``levels`` (by rank) is the level row of that
    name; its j-th criterion is the j-th criterion row naming that level."""
    level_forms = {f.cleaned_data["name"]: f for f in _live_forms(level_rows)}
    criterion_forms: dict[str, list[Any]] = {}
    for form in _live_forms(criterion_rows):
        criterion_forms.setdefault(form.cleaned_data["level"], []).append(form)
    pattern = re.compile(r"levels\[(\d+)\](?:\.criteria\[(\d+)\])?(?:\.(\w+))?$")
    for key, messages_ in errors.items():
        found = pattern.match(key)
        if found is None:
            continue
        index, c_index, field = found.groups()
        if int(index) >= len(levels):
            continue
        name = levels[int(index)]["name"]
        if c_index is None:
            form = level_forms.get(name)
        else:
            rows = criterion_forms.get(name, [])
            form = rows[int(c_index)] if int(c_index) < len(rows) else None
        if form is None:
            continue
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)


@dataclass(frozen=True)
class Impact:
    """The draft's impact as the page shows it: the result, or the job still computing it
    (other windows), or why there is none."""

    result: PreviewResult | None = None
    job: PolicyPreview | None = None
    error: str = ""


def _impact(policy: GradePolicy, request: HttpRequest) -> Impact:
    """The draft on the last evaluated period, as the preview page computes it: the run's
    stored metrics re-graded at once when the windows are the run's; otherwise the queued
    preview job (``queue_preview``: the user's identical draft shares its fresh job), never a
    recomputation inside the request."""
    try:
        run = last_evaluated_run()
    except NoEvaluatedPeriod:
        return Impact()
    snapshot = snapshot_of(policy)
    if same_windows(run=run, snapshot=snapshot):
        return Impact(result=preview_policy(snapshot=snapshot, run=run, recompute=False))
    try:
        job = queue_preview(snapshot=snapshot, run=run, actor=request.user)
    except TooManyPreviews as exc:
        return Impact(error=exc.message)
    if job.status == RunStatus.SUCCEEDED and job.result:
        return Impact(result=PreviewResult.from_job(job.result), job=job)
    if job.status == RunStatus.FAILED:
        return Impact(job=job, error=job.error)
    return Impact(job=job)


def tune_view(model_admin: ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the draft's levels and criteria, and its impact; POST: save (then maybe activate)."""
    policy = GradePolicy.objects.filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    # The policy's view permission to see it and its impact; change permission to save.
    if not model_admin.has_view_permission(request, policy):
        raise PermissionDenied
    may_change = model_admin.has_change_permission(request, None)  # the permission alone
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    frozen = policy_is_used(policy)
    can_change = may_change and not frozen
    initial_levels, initial_criteria = _initial(policy)
    errors: list[str] = []
    if request.method == "POST" and can_change:
        level_rows = LevelRows(request.POST, prefix="level", initial=initial_levels)
        criterion_rows = CriterionRows(request.POST, prefix="criterion", initial=initial_criteria)
        if not (level_rows.is_valid() and criterion_rows.is_valid()):
            errors = ["Some rows are incomplete or invalid: see the fields marked below."]
        else:
            levels, errors = _levels_data(_live(level_rows), _live(criterion_rows))
            if errors:
                _mark_unknown_levels(level_rows, criterion_rows)
            else:
                try:
                    replace_policy_levels(policy=policy, levels=levels)
                    if "_activate" in request.POST:
                        activate_policy(policy=policy)
                except PolicyInvalid as exc:
                    errors = describe_errors(exc.errors, {**policy_data(policy), "levels": levels})
                    _mark_fields(exc.errors, levels, level_rows, criterion_rows)
                except PolicyConflict as exc:
                    errors = [str(exc)]
                else:
                    done = "saved and activated" if "_activate" in request.POST else "saved"
                    messages.success(request, f"“{policy.name}” {done}.")
                    return HttpResponseRedirect(request.path)
    else:
        level_rows = LevelRows(prefix="level", initial=initial_levels)
        criterion_rows = CriterionRows(prefix="criterion", initial=initial_criteria)
    # After an error the shown impact would be the saved policy's, not the one on the form:
    # leave it out until the form saves (and queue no preview job for it).
    found = Impact() if errors else _impact(policy, request)
    impact = found.result
    moves = (
        sorted(
            ((old, new, n) for (old, new), n in impact.moves.items() if old != new),
            key=lambda m: (-m[2], str(m[0]), str(m[1])),
        )
        if impact
        else []
    )
    # Sellers per level now (the run's stored levels) and under the draft, in rank order.
    level_counts = (
        [
            (name, impact.current.get(name, 0), impact.draft.get(name, 0))
            for name in dict.fromkeys([*impact.draft, *impact.current])
        ]
        if impact
        else []
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Tune “{policy.name}”",
        "policy": policy,
        "frozen": frozen,
        "can_change": can_change,
        "level_rows": level_rows,
        "criterion_rows": criterion_rows,
        "errors": errors,
        "impact_cleared": bool(errors),
        "impact": impact,
        "impact_job": found.job if impact is None else None,
        "impact_error": found.error,
        "moves": moves,
        "level_counts": level_counts,
        "change_url": reverse("admin:metrics_gradepolicy_change", args=[policy.pk]),
        "preview_url": reverse("admin:metrics_gradepolicy_preview", args=[policy.pk]),
    }
    return render(request, "admin/metrics/gradepolicy/tune.html", context)
