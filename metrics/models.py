"""Grade policy (SPEC §5) and evaluations (SPEC §6).

A policy is configuration, not code: ordered levels, each with criteria on any metric key of
``metrics.engine.registry.METRICS``. A policy that a run used is kept, read-only, so every stored
result can be explained by the exact rules it was graded under (``EvaluationRun.policy_snapshot``).
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from metrics.engine.grading import OPS
from metrics.engine.registry import METRICS
from metrics.policy.limits import (
    MAX_ANY_OF,
    MAX_CRITERION_WINDOW_DAYS,
    MAX_LEVEL_NAME,
    MAX_NAME,
)


class GradePolicy(models.Model):
    name = models.CharField(max_length=MAX_NAME, default="Default policy")
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
    score = models.JSONField(
        default=list,
        blank=True,
        help_text='Optional success score (SPEC §5): a list of {"metric", "weight" > 0, "zero", '
        '"full"}; each metric maps linearly to 0 at zero and 1 at full (clamped), weighted. '
        "Empty: no score (success_score is null).",
    )
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
    name = models.CharField(max_length=MAX_LEVEL_NAME)
    rank = models.PositiveSmallIntegerField(help_text="Higher is better: Level 1 < … < Master.")

    class Meta:
        ordering = ["policy", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "name"], name="level_name_unique_in_policy"),
            models.UniqueConstraint(fields=["policy", "rank"], name="level_rank_unique_in_policy"),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    level = models.ForeignKey(GradeLevel, on_delete=models.CASCADE, related_name="criteria")
    metric = models.CharField(max_length=40, choices=[(k, k) for k in METRICS])
    op = models.CharField(max_length=2, choices=[(op, op) for op in OPS])
    value = models.DecimalField(max_digits=20, decimal_places=4)
    any_of = models.CharField(
        max_length=MAX_ANY_OF,
        blank=True,
        help_text="Criteria of one level sharing this label pass when any one of them passes.",
    )
    window_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CRITERION_WINDOW_DAYS)],
        help_text="Its own window: the metric over the N days before the cutoff (1–3650) instead "
        "of the policy window. Empty: the policy window. Cumulative metrics ignore it.",
    )

    class Meta:
        verbose_name_plural = "criteria"
        ordering = ["level", "id"]

    def __str__(self) -> str:
        group = f" [any of {self.any_of}]" if self.any_of else ""
        window = f" over {self.window_days} days" if self.window_days else ""
        return f"{self.metric} {self.op} {self.value}{window}{group}"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"


class RunKind(models.TextChoices):
    # Every seller of the period, published in place of the period's results.
    PERIOD = "period", "Period"
    # Some sellers of an already published period (``seller_ids``), re-evaluated: the chunks,
    # leases and sweep are the same; publishing them (appeals, issue 22) is not built yet.
    CORRECTION = "correction", "Correction"


class EvaluationRun(models.Model):
    """A run of the evaluation (SPEC §6); its life is the table in docs/architecture.md.

    The lease (``lease_owner``, ``lease_expires_at``): who holds the run and until when. A
    pending run's lease is the queue's (its message must be taken within one lease); a running
    one's is renewed by whoever works on it (the run's task, then every chunk's). The minute
    sweep re-queues a run whose lease expired (``metrics.runs.lease``).
    """

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
    kind = models.CharField(max_length=10, choices=RunKind.choices, default=RunKind.PERIOD)
    # A correction's sellers (primary keys); null: every seller of the period.
    seller_ids = models.JSONField(null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True)  # "" while queued
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    seller_count = models.PositiveIntegerField(default=0)
    level_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    figures_stored_at = models.DateTimeField(null=True, blank=True)

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
    level = models.CharField(max_length=MAX_LEVEL_NAME, null=True, blank=True)
    level_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    computed_level = models.CharField(max_length=MAX_LEVEL_NAME, null=True, blank=True)
    previous_level = models.CharField(max_length=MAX_LEVEL_NAME, null=True, blank=True)
    at_risk = models.BooleanField(default=False)
    grace_used = models.PositiveSmallIntegerField(default=0)
    # Exact values, JSON-safe: ints, Decimal as "123.45", Fraction as "num/den", null.
    metrics = models.JSONField(default=dict)
    criteria = models.JSONField(default=list)
    next_level = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when an accepted appeal corrected this published result (EvaluationCorrection keeps
    # what it was: SPEC §7 ``corrected_from``).
    corrected_at = models.DateTimeField(null=True, blank=True)
    # The latest EvaluationCorrection of this result when a selector attached it
    # (``web.selectors.attach_corrections``); None otherwise. Not a column.
    latest_correction: "EvaluationCorrection | None" = None
    # When this grade was last written or corrected (a publication, a re-run, the previous level
    # relinked after a re-run of the period before): `GET /api/v1/grades?updated_since=` reads it.
    # The writers set it from the application's clock (as created_at); the database default
    # covers any other INSERT.
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-period", "seller_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "period"], name="one_evaluation_per_seller_period"
            ),
        ]
        indexes = [
            models.Index(fields=["period", "level"]),
            models.Index(fields=["period", "updated_at"], name="evaluation_period_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.period}: {self.level}"


# --- a run's working tables: filled while it runs, published (or dropped) by its finalize step.


class RunChunk(models.Model):
    """One slice of a run's sellers (pk range), computed by one task; ``done_at`` once staged.

    Progress (SPEC §7) is read from these rows. A chunk is queued (no owner, under its run's
    lease), leased (a worker computing it renews ``lease_expires_at``) or done; the sweep
    re-queues a leased chunk whose lease expired while its run's lease is alive, and a run
    re-queued as a whole redoes only the chunks that are not done.
    """

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_seller_id = models.BigIntegerField()
    last_seller_id = models.BigIntegerField()
    seller_count = models.PositiveIntegerField()
    started_at = models.DateTimeField(null=True, blank=True)  # when a worker last began it
    lease_owner = models.CharField(max_length=200, blank=True)  # "" while queued
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="one_chunk_per_run_index"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index}"


class RunSellerFigures(models.Model):
    """A seller's order and review figures for one of the run's windows (``metrics.engine.compute``:
    one pass per run, all-time and every window); the chunks add the inquiries."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="+")
    seller_id = models.BigIntegerField()
    # The window of these figures: 0 the policy window, N a criterion's own N days (SPEC §5).
    window_days = models.PositiveSmallIntegerField(default=0)
    joined_at = models.DateTimeField()
    completed_orders = models.BigIntegerField()
    revenue_cents = models.BigIntegerField()
    unique_buyers = models.BigIntegerField()
    review_count = models.BigIntegerField()
    revenue_rank = models.BigIntegerField(null=True)
    ranked_sellers = models.BigIntegerField()
    window_completed_orders = models.BigIntegerField()
    window_revenue_cents = models.BigIntegerField()
    finished_completed = models.BigIntegerField()
    finished_cancelled = models.BigIntegerField()
    seller_cancelled = models.BigIntegerField()
    delivered_orders = models.BigIntegerField()
    delivered_on_time = models.BigIntegerField()
    window_buyers = models.BigIntegerField()
    repeat_buyers = models.BigIntegerField()
    window_review_count = models.BigIntegerField()
    rating_sum = models.BigIntegerField()
    negative_reviews = models.BigIntegerField()
    # Program and customer-success figures (SPEC §4).
    window_orders = models.BigIntegerField(default=0)
    defective_orders = models.BigIntegerField(default=0)
    case_orders = models.BigIntegerField(default=0)
    unresolved_case_orders = models.BigIntegerField(default=0)
    cases_opened = models.BigIntegerField(default=0)
    dispatch_orders = models.BigIntegerField(default=0)
    late_shipments = models.BigIntegerField(default=0)
    shipped_orders = models.BigIntegerField(default=0)
    valid_tracking = models.BigIntegerField(default=0)
    csat_responses = models.BigIntegerField(default=0)
    csat_satisfied = models.BigIntegerField(default=0)
    nps_responses = models.BigIntegerField(default=0)
    nps_promoters = models.BigIntegerField(default=0)
    nps_detractors = models.BigIntegerField(default=0)
    resolved_conversations = models.BigIntegerField(default=0)
    resolution_middle_micros = models.BigIntegerField(default=0)
    resolution_middle_count = models.BigIntegerField(default=0)
    previous_buyers = models.BigIntegerField(default=0)
    retained_buyers = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "run seller figures"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "seller_id", "window_days"], name="one_figures_per_run_seller_window"
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} seller {self.seller_id} figures"


class StagedEvaluation(models.Model):
    """A computed result waiting for its run's finalize step, which moves every staged row of
    the run into SellerEvaluation in one transaction. A redelivered chunk replaces its rows."""

    # No index of its own: the unique (run, seller_id) below serves every read by run.
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    seller_id = models.BigIntegerField()
    level = models.CharField(max_length=MAX_LEVEL_NAME, null=True)
    level_rank = models.PositiveSmallIntegerField(null=True)
    computed_level = models.CharField(max_length=MAX_LEVEL_NAME, null=True)
    previous_level = models.CharField(max_length=MAX_LEVEL_NAME, null=True)
    at_risk = models.BooleanField(default=False)
    grace_used = models.PositiveSmallIntegerField(default=0)
    metrics = models.JSONField(default=dict)
    criteria = models.JSONField(default=list)
    next_level = models.JSONField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "seller_id"], name="one_staged_per_run_seller"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} seller {self.seller_id}: {self.level}"


class MonthToDate(models.Model):
    """A seller's metrics for the month so far, as of ``as_of`` (SPEC §7 grade/preview).

    Refreshed for every seller by the beat (``metrics.tasks.refresh_month_to_date``) and for one
    seller on demand when its row is missing or older than ``PREVIEW_MAX_AGE_SECONDS``; the
    grade itself is always taken from these metrics under the active policy at read time. The
    window parameters say which policy window the metrics were computed for.
    """

    seller = models.OneToOneField(
        "orders.Seller", on_delete=models.CASCADE, primary_key=True, related_name="month_to_date"
    )
    as_of = models.DateTimeField()
    window_months = models.PositiveSmallIntegerField(null=True)
    window_days = models.PositiveSmallIntegerField(null=True)
    response_window_hours = models.PositiveSmallIntegerField()
    metrics = models.JSONField(default=dict)
    # {window days: {metric: value}}: what the policy's criteria with a window of their own
    # (SPEC §5) read over those days to as_of (``windows.windows_to_json``); {} without them.
    windows = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "month-to-date figures"

    def __str__(self) -> str:
        return f"{self.seller_id} as of {self.as_of:%Y-%m-%d %H:%M}"


class PolicyPreview(models.Model):
    """A what-if of a draft policy whose windows differ from the last run's (SPEC §7
    ``POST /api/v1/policy/preview`` → 202): the metrics are recomputed for the draft's windows
    by a task, as a dry run; only this row (the draft, then the answer) is written.

    The id is a random UUID (not a sequence: ids are not guessed). A job is read only by its
    creator and superusers. ``draft_key`` identifies the draft for its creator and the run it
    compares with: the same draft asked again while its job is fresh gets that job.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    period = models.CharField(max_length=7, help_text="YYYY-MM: the last evaluated period")
    draft = models.JSONField(help_text="The draft policy (PolicySnapshot.to_json)")
    draft_key = models.CharField(max_length=64, blank=True, db_index=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "status"], name="preview_by_user_status")]

    def __str__(self) -> str:
        return f"policy preview {self.pk} of {self.period} ({self.status})"


# --- appeals and corrections (SPEC §2 Appeal, §7 appeals): a seller contests one order.


class AppealStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class CorrectionState(models.TextChoices):
    """The correction an accepted appeal owes: none (open or rejected), pending, done."""

    NONE = "", "None"
    PENDING = "pending", "Pending"
    DONE = "done", "Done"


MAX_APPEAL_REASON = 2000
MAX_APPEAL_NOTE = 2000


class Appeal(models.Model):
    """A seller's request to leave one order out of its metrics. Never deleted (history)."""

    seller = models.ForeignKey("orders.Seller", on_delete=models.PROTECT, related_name="appeals")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="appeals")
    reason = models.TextField(max_length=MAX_APPEAL_REASON)
    status = models.CharField(
        max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=MAX_APPEAL_NOTE)
    # The correction an accepted appeal owes, and when it last finished (the sweep resumes a
    # pending one whose worker died or that waited for a running evaluation of its period).
    correction = models.CharField(
        max_length=10, choices=CorrectionState.choices, blank=True, default=CorrectionState.NONE
    )
    correction_requested_at = models.DateTimeField(null=True, blank=True)
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(fields=["status", "opened_at"]),
            models.Index(fields=["seller", "opened_at"]),
            models.Index(fields=["correction", "correction_requested_at"]),
        ]
        constraints = [
            # One open appeal per order (SPEC §7: a second one is a 409).
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="open"), name="one_open_appeal_per_order"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(decided_at__isnull=True))
                | (Q(status__in=["accepted", "rejected"]) & Q(decided_at__isnull=False)),
                name="appeal_decided_at_once_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"appeal #{self.pk} on {self.order_id} ({self.status})"


class EvaluationCorrection(models.Model):
    """A published evaluation corrected after an appeal: what it was (``superseded``, the
    evaluation's stored fields) and what it became. The evaluation row itself is updated in
    place, so a period keeps exactly one result per seller (SPEC §6)."""

    seller = models.ForeignKey(
        "orders.Seller", on_delete=models.CASCADE, related_name="corrections"
    )
    period = models.CharField(max_length=7)
    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="corrections")
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    corrected_at = models.DateTimeField()
    from_level = models.CharField(max_length=MAX_LEVEL_NAME, null=True, blank=True)
    to_level = models.CharField(max_length=MAX_LEVEL_NAME, null=True, blank=True)
    superseded = models.JSONField(help_text="The evaluation as it was before the correction")

    class Meta:
        ordering = ["-corrected_at", "-id"]
        indexes = [models.Index(fields=["seller", "period", "corrected_at"])]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.period}: {self.from_level} -> {self.to_level}"


class AuditAction(models.TextChoices):
    APPEAL_OPENED = "appeal.opened", "Appeal opened"
    APPEAL_ACCEPTED = "appeal.accepted", "Appeal accepted"
    APPEAL_REJECTED = "appeal.rejected", "Appeal rejected"
    ORDER_EXCLUDED = "order.excluded", "Order excluded from metrics"
    ORDER_INCLUDED = "order.included", "Order counted again"
    GRADE_CORRECTED = "grade.corrected", "Grade corrected"


class AuditEntry(models.Model):
    """Who did what and when, for appeals, decisions, exclusions and corrections. Append-only:
    read-only in admin, exportable as CSV."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept if the user goes")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    seller = models.ForeignKey(
        "orders.Seller", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appeal = models.ForeignKey(
        Appeal, on_delete=models.PROTECT, null=True, blank=True, related_name="audit"
    )
    period = models.CharField(max_length=7, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
