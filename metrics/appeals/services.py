"""Filing and deciding appeals (SPEC §2 Appeal, §7 appeals): the writes, each with its audit.

A decision is taken once: the appeal row is locked (``select_for_update``) and a second
decision of the same appeal, by another staff user at the same moment, is a 409. Accepting
sets the order's ``excluded_from_metrics`` in the same transaction and owes a correction
(``Appeal.correction`` = pending), which ``corrections.correct_appeal`` carries out after the
commit (a Celery task; the sweep resumes one whose worker died).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, InvalidInput, NotFound
from metrics import signals
from metrics.appeals import audit
from metrics.models import (
    MAX_APPEAL_NOTE,
    MAX_APPEAL_REASON,
    Appeal,
    AppealStatus,
    AuditAction,
    CorrectionState,
)
from orders.models import Order, Seller

# SPEC §7: only the seller's own orders of the last 12 months can be appealed.
APPEAL_MONTHS = 12


def appealable_since(now: datetime) -> datetime:
    """The earliest order creation that can still be appealed: 12 calendar months before now
    (local time; 29 February falls back to the 28th)."""
    local = timezone.localtime(now)
    year = local.year - APPEAL_MONTHS // 12
    try:
        return local.replace(year=year)
    except ValueError:  # 29 February
        return local.replace(year=year, day=28)


def _text(value: Any, *, field: str, limit: int, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise InvalidInput(errors={field: ["This field is required."]})
        return ""
    if not isinstance(value, str):
        raise InvalidInput(errors={field: ["Must be a string."]})
    text = value.strip()
    if required and not text:
        raise InvalidInput(errors={field: ["Must not be blank."]})
    if len(text) > limit:
        raise InvalidInput(
            errors={field: [f"Ensure this field has no more than {limit} characters."]}
        )
    return text


def file_appeal(*, seller: Seller, order_external_id: Any, reason: Any, actor: Any) -> Appeal:
    """Open an appeal of one of the seller's orders (one open appeal per order: 409)."""
    if not isinstance(order_external_id, str) or not order_external_id:
        raise InvalidInput(errors={"order": ["The external_id of one of the seller's orders."]})
    text = _text(reason, field="reason", limit=MAX_APPEAL_REASON, required=True)
    order = Order.objects.filter(seller=seller, external_id=order_external_id).first()
    if order is None:
        # Another seller's order is not confirmed either: the same message.
        raise InvalidInput(errors={"order": ["No such order of this seller."]})
    now = timezone.now()
    if order.created_at < appealable_since(now):
        raise InvalidInput(
            errors={"order": [f"Only orders of the last {APPEAL_MONTHS} months can be appealed."]}
        )
    if order.excluded_from_metrics:
        raise Conflict("This order is already left out of the metrics.")
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                seller=seller,
                order=order,
                reason=text,
                opened_at=now,
                opened_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            audit.record(
                action=AuditAction.APPEAL_OPENED,
                actor=actor,
                seller=seller,
                order=order,
                appeal=appeal,
                detail={"reason": text[:200]},
            )
    except IntegrityError as exc:  # one_open_appeal_per_order: a concurrent or earlier one
        raise Conflict("This order already has an open appeal.") from exc
    return appeal


def decide_appeal(*, appeal_id: int, status: Any, note: Any, actor: Any) -> Appeal:
    """Accept or reject an open appeal, once. Accepting excludes the order and owes a
    correction, carried out after the commit."""
    if status not in (AppealStatus.ACCEPTED, AppealStatus.REJECTED):
        raise InvalidInput(errors={"status": ['Must be "accepted" or "rejected".']})
    text = _text(note, field="note", limit=MAX_APPEAL_NOTE, required=False)
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("order", "seller")
            .filter(pk=appeal_id)
            .first()
        )
        if appeal is None:
            raise NotFound("No such appeal.")
        if appeal.status != AppealStatus.OPEN:
            raise Conflict(f"This appeal was already decided ({appeal.status}).")
        now = timezone.now()
        appeal.status = status
        appeal.note = text
        appeal.decided_at = now
        appeal.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        fields = ["status", "note", "decided_at", "decided_by"]
        if status == AppealStatus.ACCEPTED:
            appeal.correction = CorrectionState.PENDING
            appeal.correction_requested_at = now
            fields += ["correction", "correction_requested_at"]
            order = Order.objects.select_for_update().get(pk=appeal.order_id)
            if not order.excluded_from_metrics:
                order.excluded_from_metrics = True
                order.save(update_fields=["excluded_from_metrics", "modified"])
                audit.record(
                    action=AuditAction.ORDER_EXCLUDED,
                    actor=actor,
                    seller=appeal.seller,
                    order=order,
                    appeal=appeal,
                )
        appeal.save(update_fields=fields)
        audit.record(
            action=(
                AuditAction.APPEAL_ACCEPTED
                if status == AppealStatus.ACCEPTED
                else AuditAction.APPEAL_REJECTED
            ),
            actor=actor,
            seller=appeal.seller,
            order=appeal.order,
            appeal=appeal,
            detail={"note": text[:200]} if text else {},
        )
        transaction.on_commit(
            partial(signals.appeal_decided.send, sender=Appeal, appeal_id=appeal.pk)
        )
        if status == AppealStatus.ACCEPTED:
            from metrics.appeals.corrections import enqueue_correction

            enqueue_correction(appeal_id=appeal.pk)
    return appeal


def seller_appeals(*, seller_id: int) -> list[Appeal]:
    """The seller's appeals, newest first (one query)."""
    return list(
        Appeal.objects.filter(seller_id=seller_id)
        .select_related("order", "seller")
        .order_by("-opened_at", "-id")
    )
