"""API shapes of reviews and surveys. The ``*WriteSerializer`` only document the bodies:
validation runs through ``reviews.services`` (shared by PUT and bulk)."""

from __future__ import annotations

from rest_framework import serializers

from common.api import ApiModelSerializer
from common.api_schema import example
from common.ingest_schema import bulk_of
from reviews.models import Review, Survey
from reviews.services import REVIEW, SURVEY

REVIEW_BODY = {
    "order": "o-1",
    "rating": 5,
    "comment": "Fast and professional.",
    "created_at": "2026-10-06T10:00:00+09:00",
}


SURVEY_BODY = {
    "order": "o-1",
    "csat": 5,
    "nps": 9,
    "answered_at": "2026-10-06T12:00:00+09:00",
}


@example(
    {
        "external_id": "r-1",
        "order": "o-1",
        "seller": "s-1",
        "rating": 5,
        "comment": "Fast and professional.",
        "created_at": "2026-10-06T10:00:00+09:00",
    },
    response=True,
)
class ReviewSerializer(ApiModelSerializer):
    order = serializers.CharField(source="order.external_id", read_only=True)
    seller = serializers.CharField(
        source="order.seller.external_id",
        read_only=True,
        help_text="The order's seller (a review's seller is its order's seller).",
    )

    class Meta:
        model = Review
        fields = ["external_id", "order", "seller", "rating", "comment", "created_at"]
        read_only_fields = fields


# Generated from the review contract (``common.contracts``): the parser's fields, documented.
ReviewWriteSerializer = example(REVIEW_BODY, request=True)(
    REVIEW.write_serializer("ReviewWriteSerializer")
)


@example({"external_id": "v-1", "order": "o-1", "seller": "s-1", **SURVEY_BODY}, response=True)
class SurveySerializer(ApiModelSerializer):
    order = serializers.CharField(source="order.external_id", read_only=True)
    seller = serializers.CharField(
        source="order.seller.external_id",
        read_only=True,
        help_text="The order's seller (a survey's seller is its order's seller).",
    )
    csat = serializers.IntegerField(allow_null=True, read_only=True, min_value=1, max_value=5)
    nps = serializers.IntegerField(allow_null=True, read_only=True, min_value=0, max_value=10)

    class Meta:
        model = Survey
        fields = ["external_id", "order", "seller", "csat", "nps", "answered_at"]
        read_only_fields = fields


# Generated from the survey contract (``common.contracts``): the parser's fields, documented.
SurveyWriteSerializer = example(SURVEY_BODY, request=True)(
    SURVEY.write_serializer("SurveyWriteSerializer")
)


ReviewBulkSerializer = bulk_of(
    ReviewWriteSerializer, "ReviewBulkItemSerializer", example={"external_id": "r-1", **REVIEW_BODY}
)
SurveyBulkSerializer = bulk_of(
    SurveyWriteSerializer, "SurveyBulkItemSerializer", example={"external_id": "v-1", **SURVEY_BODY}
)
