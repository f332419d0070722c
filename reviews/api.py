"""REST endpoints for reviews and surveys (SPEC §7), on the shared view bases of
``common.ingest_api``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from common.ingest_api import (
    SELLER_FILTER,
    BulkUpsertView,
    ScopedDetailView,
    ScopedListView,
    bulk_schema,
    detail_schema,
)
from reviews import selectors, services
from reviews.serializers import (
    ReviewBulkSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
    SurveyBulkSerializer,
    SurveySerializer,
    SurveyWriteSerializer,
)


@extend_schema_view(
    get=extend_schema(tags=["reviews"], summary="Reviews, newest first", parameters=[SELLER_FILTER])
)
class ReviewListView(ScopedListView):
    serializer_class = ReviewSerializer
    select = selectors.reviews_for


REVIEW_RULES = services.REVIEW.documented_rules  # its contract's (common.contracts)


@detail_schema("review", ReviewSerializer, ReviewWriteSerializer, rules=REVIEW_RULES)
class ReviewDetailView(ScopedDetailView):
    serializer_class = ReviewSerializer
    select = selectors.reviews_for
    upsert = services.upsert_review


@bulk_schema(
    "reviews",
    ReviewBulkSerializer,
    rules=REVIEW_RULES + " Each external_id, and each order, appears once a batch.",
)
class ReviewBulkView(BulkUpsertView):
    upsert_many = services.upsert_reviews


@extend_schema_view(
    get=extend_schema(
        tags=["surveys"], summary="Surveys, newest answered first", parameters=[SELLER_FILTER]
    )
)
class SurveyListView(ScopedListView):
    serializer_class = SurveySerializer
    select = selectors.surveys_for


SURVEY_RULES = services.SURVEY.documented_rules


@detail_schema("survey", SurveySerializer, SurveyWriteSerializer, rules=SURVEY_RULES)
class SurveyDetailView(ScopedDetailView):
    serializer_class = SurveySerializer
    select = selectors.surveys_for
    upsert = services.upsert_survey


@bulk_schema(
    "surveys",
    SurveyBulkSerializer,
    rules=SURVEY_RULES + " Each external_id, and each order, appears once a batch.",
)
class SurveyBulkView(BulkUpsertView):
    upsert_many = services.upsert_surveys
