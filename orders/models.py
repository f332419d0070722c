"""Sellers, orders, cases, buyer–seller messages and conversations (SPEC §2).

The database enforces what it can (unique external ids, amount ≥ 0, coherent order lifecycle),
so that no path, not even a raw bulk write, can store an order the metrics would misread.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Seller(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    username = models.CharField(max_length=150, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    joined_at = models.DateTimeField()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="seller",
        help_text="The login the seller uses for the dashboard.",
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_id"]
        indexes = [models.Index(fields=["joined_at"])]

    def __str__(self) -> str:
        return f"{self.display_name or self.username} ({self.external_id})"


class CancelledBy(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    ADMIN = "admin", "Admin"


class OrderStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Tracking(models.TextChoices):
    """Whether the carrier accepted the order's tracking id (SPEC §2 dispatch fields)."""

    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


class Order(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="orders")
    buyer = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    currency = models.CharField(max_length=3, default="KRW")
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    # Dispatch (optional, marketplaces that ship goods): the promised latest dispatch, the
    # seller's dispatch confirmation and whether the carrier accepted the tracking id
    # ("" = not known, which the metrics count as not valid, like "invalid").
    ship_by = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    tracking = models.CharField(max_length=10, choices=Tracking.choices, blank=True)
    excluded_from_metrics = models.BooleanField(
        default=False,
        help_text="Staff only: leave this order out of every rate (e.g. a dispute resolved in "
        "the seller's favour).",
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["seller", "created_at"]),
            models.Index(fields=["seller", "due_at"]),
            models.Index(fields=["seller", "delivered_at"]),
            models.Index(fields=["seller", "completed_at"]),
            models.Index(fields=["seller", "cancelled_at"]),
            models.Index(fields=["seller", "buyer"]),
            models.Index(fields=["seller", "ship_by"]),
            models.Index(fields=["seller", "shipped_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="order_not_completed_and_cancelled",
            ),
            models.CheckConstraint(
                condition=(Q(cancelled_at__isnull=True) & Q(cancelled_by=""))
                | (Q(cancelled_at__isnull=False) & Q(cancelled_by__in=CancelledBy.values)),
                name="order_cancelled_by_with_cancelled_at",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | (Q(delivered_at__isnull=False) & Q(completed_at__gte=F("delivered_at"))),
                name="order_completed_after_delivered",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": F("created_at")}),
                    name=f"order_{field}_not_before_created",
                )
                for field in (
                    "due_at",
                    "delivered_at",
                    "completed_at",
                    "cancelled_at",
                    "ship_by",
                    "shipped_at",
                )
            ],
            models.CheckConstraint(
                condition=Q(tracking="") | Q(shipped_at__isnull=False),
                name="order_tracking_needs_shipped_at",
            ),
            models.CheckConstraint(
                condition=Q(tracking__in=["", *Tracking.values]), name="order_tracking_known"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def status(self) -> str:
        if self.cancelled_at:
            return OrderStatus.CANCELLED
        if self.completed_at:
            return OrderStatus.COMPLETED
        if self.delivered_at:
            return OrderStatus.DELIVERED
        return OrderStatus.IN_PROGRESS


class CaseKind(models.TextChoices):
    DISPUTE = "dispute", "Dispute"
    CLAIM = "claim", "Claim"
    CHARGEBACK = "chargeback", "Chargeback"


class CaseOutcome(models.TextChoices):
    SELLER_RESOLVED = "seller_resolved", "Seller resolved"
    BUYER_FAVOUR = "buyer_favour", "Decided for the buyer"
    SELLER_FAVOUR = "seller_favour", "Decided for the seller"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Case(models.Model):
    """A dispute, claim or chargeback on an order (SPEC §2). Its seller is its order's seller.

    ``outcome`` is "" while the case is open (the API says null) and required once closed.
    """

    external_id = models.CharField(max_length=100, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=12, choices=CaseKind.choices)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=CaseOutcome.choices, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["order", "opened_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CaseKind.values), name="case_kind_known"),
            models.CheckConstraint(
                condition=(Q(closed_at__isnull=True) & Q(outcome=""))
                | (Q(closed_at__isnull=False) & Q(outcome__in=CaseOutcome.values)),
                name="case_outcome_once_closed",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="case_closed_not_before_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Sender(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class Message(models.Model):
    """One message of a buyer–seller conversation. No body is stored (privacy)."""

    external_id = models.CharField(max_length=100, unique=True)
    conversation = models.CharField(max_length=100)
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="messages")
    buyer = models.CharField(max_length=100)
    sender = models.CharField(max_length=10, choices=Sender.choices)
    sent_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [
            # Inquiry detection walks each conversation newest message first: this index
            # gives that order (no sort) and, with the sender included, every column the walk
            # reads (an index-only scan, no heap page), and the one message before the window
            # of a conversation is its next entry. Measured at scale S, a chunk of 1,000
            # sellers: 0.75 s with the (seller, conversation, sent_at, id) index it replaces
            # (a bitmap heap scan and a sort spilled to disk) against 0.34-0.40 s
            # (bench/README.md, issue 23).
            models.Index(
                fields=["seller", "conversation", "-sent_at", "-id"],
                include=["sender"],
                name="message_conversation_walk",
            ),
            models.Index(fields=["seller", "sent_at"]),
        ]

    def __str__(self) -> str:
        return self.external_id


class Conversation(models.Model):
    """A buyer–seller thread's resolution (SPEC §2): ``external_id`` is the ``conversation``
    string of its messages. Messages need no conversation row, and one may arrive before or
    after them: the two are joined on (seller, external_id = Message.conversation)."""

    external_id = models.CharField(max_length=100, unique=True)
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="conversations")
    buyer = models.CharField(max_length=100)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-resolved_at", "-id"]
        indexes = [models.Index(fields=["seller", "resolved_at"])]

    def __str__(self) -> str:
        return self.external_id


class LoginLink(models.Model):
    """A single-use sign-in link a marketplace sends its seller (SPEC §7 login-link).

    Only a hash of the token is stored: a database leak does not leak working links.
    """

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="login_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"login link for {self.seller_id} until {self.expires_at:%Y-%m-%d %H:%M}"
