"""``/api/v1/`` routes of the metrics app; a trailing slash is optional everywhere.

Each route is documented once, without the slash (SPEC §7's spelling); the slash variant is
left out of the OpenAPI schema (``schema=None``), as in ``orders.urls``.
"""

from django.urls import URLPattern, path
from rest_framework.views import APIView

from metrics.appeals.api import AppealDecisionView, SellerAppealsView
from metrics.policy.api import (
    PolicyPreviewResultView,
    PolicyPreviewView,
    PolicyView,
    PresetListView,
    PresetView,
)
from metrics.web import api


def both(route: str, view: type[APIView], name: str) -> list[URLPattern]:
    return [
        path(route, view.as_view(), name=name),
        path(f"{route}/", view.as_view(schema=None)),
    ]


SELLER = "sellers/<str:external_id>"

urlpatterns: list = [
    *both("policy", PolicyView, "policy"),
    *both(f"{SELLER}/grade", api.SellerGradeView, "seller-grade"),
    *both(f"{SELLER}/grade/preview", api.SellerGradePreviewView, "seller-grade-preview"),
    *both(f"{SELLER}/evidence", api.SellerEvidenceView, "seller-evidence"),
    *both(f"{SELLER}/evaluations", api.SellerEvaluationsView, "seller-evaluations"),
    *both("grades", api.GradesView, "grades"),
    *both("sellers", api.SellerListView, "sellers-list"),
    *both(f"{SELLER}/appeals", SellerAppealsView, "seller-appeals"),
    *both("appeals/<int:appeal_id>/decision", AppealDecisionView, "appeal-decision"),
    *both("evaluations", api.EvaluationRunsView, "evaluation-runs"),
    *both("evaluations/<int:run_id>", api.EvaluationRunView, "evaluation-run"),
    *both("policy/presets", PresetListView, "policy-presets"),
    *both("policy/presets/<str:name>", PresetView, "policy-preset"),
    *both("policy/preview", PolicyPreviewView, "policy-preview"),
    *both("policy/preview/<uuid:preview_id>", PolicyPreviewResultView, "policy-preview-result"),
]
