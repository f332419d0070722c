from django.urls import path

from metrics.web import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("evidence/<str:metric>/", views.evidence, name="evidence"),
    path("appeals/", views.file_appeal, name="file-appeal"),
    path("staff/sellers/<str:external_id>/", views.staff_seller, name="staff-seller"),
    path(
        "staff/sellers/<str:external_id>/dashboard/",
        views.staff_seller_dashboard,
        name="staff-seller-dashboard",
    ),
]
