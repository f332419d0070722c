"""Notifications of grade changes (issue 11): seller emails and webhooks (SPEC §7).

Every message goes through an outbox row with a unique key derived from what it reports
(``level.changed`` of one seller and period from one level to another, one run completed, one
"at risk" warning per seller and period). Rows are created idempotently (INSERT ... ON CONFLICT
DO NOTHING), so a retried task or a re-run that finds the same change creates nothing new, and
each row is marked when sent: a message goes out once per change.
"""

from __future__ import annotations

from django.db import models


class Language(models.TextChoices):
    KOREAN = "ko", "한국어"
    ENGLISH = "en", "English"


class SellerPreference(models.Model):
    """How a seller is told: language, address, and whether it wants "at risk" warnings.

    Optional: a seller without one is written to at its login's email address, in
    ``NOTIFICATIONS_DEFAULT_LANGUAGE``.
    """

    seller = models.OneToOneField(
        "orders.Seller",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    language = models.CharField(max_length=8, choices=Language.choices, blank=True)
    email = models.EmailField(
        blank=True, help_text="Where the emails go; empty: the email of the seller's login."
    )
    at_risk_emails = models.BooleanField(
        default=True,
        help_text='Send a mid-month "at risk" warning when the month so far would lose a level.',
    )

    class Meta:
        verbose_name = "seller notification preference"

    def __str__(self) -> str:
        return f"{self.seller_id}: {self.language or 'default'}"


class EmailKind(models.TextChoices):
    LEVEL_CHANGED = "level_changed", "Level changed"
    AT_RISK = "at_risk", "At risk"
    APPEAL_DECIDED = "appeal_decided", "Appeal decided"
    GRADE_CORRECTED = "grade_corrected", "Grade corrected"


class EmailNotification(models.Model):
    """One email to a seller (the outbox row); ``sent_at`` once the backend accepted it.
    Claimed, retried and given up like a webhook delivery (``notifications.sending``)."""

    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    seller = models.ForeignKey(
        "orders.Seller", on_delete=models.CASCADE, related_name="email_notifications"
    )
    period = models.CharField(max_length=7)
    # What the email says, fixed when the change is recorded: levels, reasons, dates.
    context = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    recipient = models.EmailField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # After a failure: when the sweep sends it again (notifications.sending, the one outbox).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the row until then (a lease, not a lock held across the SMTP call).
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["seller", "period"])]

    def __str__(self) -> str:
        return self.key


class WebhookEvent(models.Model):
    LEVEL_CHANGED = "level.changed"
    RUN_COMPLETED = "run.completed"
    APPEAL_DECIDED = "appeal.decided"
    GRADE_CORRECTED = "grade.corrected"
    TYPES = (LEVEL_CHANGED, RUN_COMPLETED, APPEAL_DECIDED, GRADE_CORRECTED)

    # The id integrations see ("evt_…"), derived from ``key``: the same change, the same id.
    event_id = models.CharField(max_length=40, unique=True)
    key = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=20, choices=[(t, t) for t in TYPES])
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    # DELETE /api/v1/webhooks/{id}: no new deliveries; the delivery log keeps its rows.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: the delivery log (admin) and the retry state."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="one_delivery_per_event_endpoint"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.event_id} → #{self.endpoint_id}"
