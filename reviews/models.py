"""Buyer reviews and post-order surveys (SPEC §2): one of each per order; their seller is
their order's seller."""

from django.db import models
from django.db.models import Q

from orders.models import Order


class Review(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="review")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Survey(models.Model):
    """A post-order satisfaction survey (SPEC §2): CSAT 1–5 and/or NPS 0–10, at least one."""

    external_id = models.CharField(max_length=100, unique=True)
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="survey")
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["answered_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | (Q(csat__gte=1) & Q(csat__lte=5)),
                name="survey_csat_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | (Q(nps__gte=0) & Q(nps__lte=10)),
                name="survey_nps_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=False) | Q(nps__isnull=False),
                name="survey_csat_or_nps",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id
