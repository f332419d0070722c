from django.urls import path

from metrics.web import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("evidence/<str:metric>/", views.evidence, name="evidence"),
]
