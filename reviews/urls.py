"""``/api/v1/reviews`` and ``/api/v1/surveys``, with or without a trailing slash (see
``orders.urls``)."""

from orders.urls import ingest_routes
from reviews import api

urlpatterns = [
    *ingest_routes(
        "reviews",
        list_view=api.ReviewListView,
        bulk_view=api.ReviewBulkView,
        detail_view=api.ReviewDetailView,
    ),
    *ingest_routes(
        "surveys",
        list_view=api.SurveyListView,
        bulk_view=api.SurveyBulkView,
        detail_view=api.SurveyDetailView,
    ),
]
