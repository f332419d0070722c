"""Buyer reviews (SPEC §2): one per order; the review's seller is its order's seller."""

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
