"""Grade policy (SPEC §5) and evaluations (SPEC §6).

A policy is configuration, not code: ordered levels, each with criteria on any metric key of
``metrics.registry.METRICS``. A policy that a run used is kept, read-only, so every stored
result can be explained by the exact rules it was graded under (``EvaluationRun.policy_snapshot``).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from .registry import METRICS


class GradePolicy(models.Model):
    name = models.CharField(max_length=100, default="Default policy")
    is_active = models.BooleanField(default=False)
    window_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=3,
        help_text="Rolling window of the rate metrics in months (0 = all time before the cutoff).",
    )
    window_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="When set, wins over window_months: the N days before the cutoff.",
    )
    response_window_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1)]
    )
    demotion_grace_months = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name_plural = "grade policies"
        ordering = ["-is_active", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_policy"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}{' (active)' if self.is_active else ''}"


class GradeLevel(models.Model):
    policy = models.ForeignKey(GradePolicy, on_delete=models.CASCADE, related_name="levels")
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(help_text="Higher is better: Level 1 < … < Master.")

    class Meta:
        ordering = ["policy", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "name"], name="level_name_unique_in_policy"),
            models.UniqueConstraint(fields=["policy", "rank"], name="level_rank_unique_in_policy"),
        ]

    def __str__(self) -> str:
        return self.name


class Op(models.TextChoices):
    GTE = ">=", ">="
    LTE = "<=", "<="


class Criterion(models.Model):
    level = models.ForeignKey(GradeLevel, on_delete=models.CASCADE, related_name="criteria")
    metric = models.CharField(max_length=40, choices=[(k, k) for k in METRICS])
    op = models.CharField(max_length=2, choices=Op.choices)
    value = models.DecimalField(max_digits=20, decimal_places=4)
    any_of = models.CharField(
        max_length=50,
        blank=True,
        help_text="Criteria of one level sharing this label pass when any one of them passes.",
    )

    class Meta:
        verbose_name_plural = "criteria"
        ordering = ["level", "id"]

    def __str__(self) -> str:
        group = f" [any of {self.any_of}]" if self.any_of else ""
        return f"{self.metric} {self.op} {self.value}{group}"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"


class EvaluationRun(models.Model):
    period = models.CharField(max_length=7, db_index=True, help_text="YYYY-MM")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    policy = models.ForeignKey(
        GradePolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    policy_snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    seller_count = models.PositiveIntegerField(default=0)
    level_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two runs of one period at once: the database refuses the second (SPEC §6).
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(status__in=["pending", "running"]),
                name="one_open_run_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} #{self.pk} ({self.status})"


class SellerEvaluation(models.Model):
    """One seller's result for one period: every metric, the level, and why."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="evaluations")
    seller = models.ForeignKey(
        "orders.Seller", on_delete=models.CASCADE, related_name="evaluations"
    )
    period = models.CharField(max_length=7)
    level = models.CharField(max_length=50, null=True, blank=True)
    level_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    computed_level = models.CharField(max_length=50, null=True, blank=True)
    previous_level = models.CharField(max_length=50, null=True, blank=True)
    at_risk = models.BooleanField(default=False)
    grace_used = models.PositiveSmallIntegerField(default=0)
    # Exact values, JSON-safe: ints, Decimal as "123.45", Fraction as "num/den", null.
    metrics = models.JSONField(default=dict)
    criteria = models.JSONField(default=list)
    next_level = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "seller_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "period"], name="one_evaluation_per_seller_period"
            ),
        ]
        indexes = [models.Index(fields=["period", "level"])]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.period}: {self.level}"
