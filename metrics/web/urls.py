"""``/api/v1/`` routes of the metrics app; a trailing slash is optional everywhere."""

from django.urls import path, re_path

from metrics.policy.api import (
    PolicyPreviewResultView,
    PolicyPreviewView,
    PolicyView,
    PresetListView,
    PresetView,
)
from metrics.web import api

SELLER = r"^sellers/(?P<external_id>[^/]+)"

urlpatterns: list = [
    path("policy", PolicyView.as_view(), name="policy"),
    path("policy/", PolicyView.as_view(schema=None)),  # slash variant, documented once
    # The SPEC paths, documented once; each takes a trailing slash too.
    path("policy/presets", PresetListView.as_view(), name="policy-presets"),
    path("policy/presets/", PresetListView.as_view(schema=None)),
    path("policy/presets/<str:name>", PresetView.as_view(), name="policy-preset"),
    path("policy/presets/<str:name>/", PresetView.as_view(schema=None)),
    path("policy/preview", PolicyPreviewView.as_view(), name="policy-preview"),
    path("policy/preview/", PolicyPreviewView.as_view(schema=None)),
    path(
        "policy/preview/<int:preview_id>",
        PolicyPreviewResultView.as_view(),
        name="policy-preview-result",
    ),
    path("policy/preview/<int:preview_id>/", PolicyPreviewResultView.as_view(schema=None)),
    re_path(rf"{SELLER}/grade/?$", api.SellerGradeView.as_view(), name="seller-grade"),
    re_path(
        rf"{SELLER}/grade/preview/?$",
        api.SellerGradePreviewView.as_view(),
        name="seller-grade-preview",
    ),
    re_path(rf"{SELLER}/evidence/?$", api.SellerEvidenceView.as_view(), name="seller-evidence"),
    re_path(
        rf"{SELLER}/evaluations/?$",
        api.SellerEvaluationsView.as_view(),
        name="seller-evaluations",
    ),
    re_path(r"^evaluations/?$", api.EvaluationRunsView.as_view(), name="evaluation-runs"),
    re_path(
        r"^evaluations/(?P<run_id>[0-9]+)/?$",
        api.EvaluationRunView.as_view(),
        name="evaluation-run",
    ),
]
