"""What an appeal's decision and its corrections tell (SPEC §7 appeals), through the one outbox.

* Every decision: one ``appeal.decided`` webhook event ``{"appeal", "seller", "order",
  "status", "note", "decided_at"}`` and one email to the seller in its language.
* Every correction that changes a level: one ``grade.corrected`` event ``{"seller", "period",
  "from", "to", "appeal"}`` and one email. A correction that changes only figures tells nothing.

Keys are derived from the appeal and the correction, so a repeated task records nothing new.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from metrics.engine.periods import Period
from metrics.models import Appeal, AppealStatus, EvaluationCorrection
from notifications.models import EmailKind, EmailNotification, WebhookEvent
from notifications.outbox import (
    Outbox,
    _events,
    _pending_deliveries,
    _unsent_emails,
    event_id_of,
    key_of,
)


def record_appeal_decided(*, appeal_id: int) -> Outbox:
    outbox = Outbox()
    appeal = (
        Appeal.objects.select_related("seller", "order")
        .filter(pk=appeal_id)
        .exclude(status=AppealStatus.OPEN)
        .first()
    )
    if appeal is None or appeal.decided_at is None:
        return outbox
    key = key_of("appeal_decided", appeal.pk)
    with transaction.atomic():
        events = _events(
            [
                WebhookEvent(
                    key=key,
                    event_id=event_id_of(key),
                    type=WebhookEvent.APPEAL_DECIDED,
                    created_at=timezone.now(),
                    data={
                        "appeal": appeal.pk,
                        "seller": appeal.seller.external_id,
                        "order": appeal.order.external_id,
                        "status": appeal.status,
                        "note": appeal.note,
                        "decided_at": appeal.decided_at.isoformat(),
                    },
                )
            ]
        )
        EmailNotification.objects.bulk_create(
            [
                EmailNotification(
                    key=key,
                    kind=EmailKind.APPEAL_DECIDED,
                    seller_id=appeal.seller_id,
                    period=str(Period.containing(appeal.decided_at)),
                    context={
                        "status": appeal.status,
                        "order": appeal.order.external_id,
                        "note": appeal.note,
                    },
                )
            ],
            ignore_conflicts=True,
        )
        outbox.deliveries = _pending_deliveries(events)
        outbox.emails = _unsent_emails([key])
    return outbox


def record_grade_corrected(*, correction_id: int) -> Outbox:
    outbox = Outbox()
    correction = (
        EvaluationCorrection.objects.select_related("seller").filter(pk=correction_id).first()
    )
    if correction is None or correction.from_level == correction.to_level:
        return outbox
    key = key_of("grade_corrected", correction.pk)
    with transaction.atomic():
        events = _events(
            [
                WebhookEvent(
                    key=key,
                    event_id=event_id_of(key),
                    type=WebhookEvent.GRADE_CORRECTED,
                    created_at=timezone.now(),
                    data={
                        "seller": correction.seller.external_id,
                        "period": correction.period,
                        "from": correction.from_level,
                        "to": correction.to_level,
                        "appeal": correction.appeal_id,
                    },
                )
            ]
        )
        EmailNotification.objects.bulk_create(
            [
                EmailNotification(
                    key=key,
                    kind=EmailKind.GRADE_CORRECTED,
                    seller_id=correction.seller_id,
                    period=correction.period,
                    context={
                        "from": correction.from_level,
                        "to": correction.to_level,
                        "effective_from": Period.parse(correction.period).cutoff.isoformat(),
                    },
                )
            ],
            ignore_conflicts=True,
        )
        outbox.deliveries = _pending_deliveries(events)
        outbox.emails = _unsent_emails([key])
    return outbox
