"""Recording what to tell, exactly once per change (the outbox).

A published run yields, per seller whose level changed, one ``level.changed`` webhook event
and one email; and one ``run.completed`` event. A month-to-date refresh yields one "at risk"
email per seller and period. Each row has a unique key derived from what it reports, created
with INSERT ... ON CONFLICT DO NOTHING: a retried task, a run published twice or a re-run that
finds the same change records nothing new, and rows already sent are never sent again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from metrics.engine.grading import (
    PolicySnapshot,
    criterion_shown,
    criterion_to_json,
    exact_from_json,
    grade,
)
from metrics.engine.periods import Period
from metrics.engine.registry import ENGINE_METRIC_KEYS
from metrics.engine.windows import criterion_window_metrics, windows_from_json
from metrics.models import EvaluationRun, MonthToDate, RunStatus, SellerEvaluation
from metrics.policy.services import NoActivePolicy, active_policy, snapshot_of
from metrics.runs import held_levels
from notifications.models import (
    EmailKind,
    EmailNotification,
    SellerPreference,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

# Sellers read per query when a run's changes or a month-to-date refresh are scanned.
BATCH_SIZE = 1000


@dataclass
class Outbox:
    """Rows recorded (or found unsent) that the caller hands to Celery after the commit."""

    emails: list[int] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


def key_of(*parts: Any) -> str:
    """A unique key of what a message reports (its kind and identity), fixed length."""
    text = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)
    return f"{parts[0]}:{hashlib.sha256(text.encode()).hexdigest()}"


def event_id_of(key: str) -> str:
    """The id integrations see: the same change always has the same id ("evt_" + 32 hex)."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def reason_rows(criteria: Iterable[dict[str, Any]], level: str | None) -> list[dict[str, Any]]:
    """The criteria of ``level`` as the API shows criteria: thresholds and actuals as JSON
    numbers (actuals rounded like the grade API)."""
    return [criterion_shown(item) for item in criteria if item["level"] == level]


def deciding_level(
    *, snapshot: PolicySnapshot, from_level: str | None, to_level: str | None
) -> str | None:
    """The level whose criteria explain a change: the level reached on the way up; on the way
    down, the level just above the new one (the first whose criteria failed)."""
    ranks = snapshot.ranks
    ordered = [level.name for level in sorted(snapshot.levels, key=lambda lv: lv.rank)]
    up = to_level is not None and (
        from_level is None
        or from_level not in ranks
        or (to_level in ranks and ranks[to_level] > ranks[from_level])
    )
    if up:
        return to_level
    if to_level is None:
        return ordered[0] if ordered else None
    if to_level not in ranks:
        return None
    index = ordered.index(to_level)
    return ordered[index + 1] if index + 1 < len(ordered) else None


def _pending_deliveries(events: Sequence[WebhookEvent]) -> list[int]:
    """Create the deliveries of ``events`` to every live endpoint subscribed to their type
    (idempotent), and return those not delivered nor given up."""
    endpoints = list(WebhookEndpoint.objects.filter(deleted_at__isnull=True))
    rows = [
        WebhookDelivery(event=event, endpoint=endpoint)
        for event in events
        for endpoint in endpoints
        if event.type in (endpoint.events or [])
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH_SIZE)
    return list(
        WebhookDelivery.objects.filter(
            event__in=[event.pk for event in events],
            endpoint__deleted_at__isnull=True,
            delivered_at__isnull=True,
            gave_up_at__isnull=True,
        ).values_list("pk", flat=True)
    )


def _events(rows: list[WebhookEvent]) -> list[WebhookEvent]:
    """Insert the events (a known key is left as it is) and return the stored rows."""
    WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH_SIZE)
    return list(WebhookEvent.objects.filter(key__in=[row.key for row in rows]))


def _unsent_emails(keys: list[str]) -> list[int]:
    return list(
        EmailNotification.objects.filter(
            key__in=keys, sent_at__isnull=True, gave_up_at__isnull=True
        ).values_list("pk", flat=True)
    )


def record_run_published(*, run_id: int) -> Outbox:
    """The emails and webhook deliveries of a published run, recorded once (see module).

    A change is a level different from the level of the seller's previous evaluation; a
    seller's first evaluation is not one.

    Emails go only for the latest evaluated period: a re-run of an older period changes
    history, not the level a seller holds now; webhooks report every period (they carry it).
    """
    outbox = Outbox()
    run = EvaluationRun.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED).first()
    if run is None:
        return outbox
    period = Period.parse(run.period)
    snapshot = PolicySnapshot.from_json(run.policy_snapshot)
    now = timezone.now()
    latest = not SellerEvaluation.objects.filter(period__gt=run.period).exists()
    with transaction.atomic():
        events: list[WebhookEvent] = []
        email_keys: list[str] = []
        # A first evaluation assigns a level; it does not change one (no email, no event):
        # only sellers graded in an earlier period are read in full (one query decides).
        earlier = SellerEvaluation.objects.filter(
            seller_id=OuterRef("seller_id"), period__lt=run.period
        )
        changed = (
            SellerEvaluation.objects.filter(run_id=run_id)
            .annotate(graded_before=Exists(earlier))
            .order_by("seller_id")
            .values_list("pk", "level", "previous_level", "graded_before")
        )
        ids = [
            pk for pk, level, previous, before in changed.iterator() if before and level != previous
        ]
        for start in range(0, len(ids), BATCH_SIZE):
            batch = (
                SellerEvaluation.objects.filter(pk__in=ids[start : start + BATCH_SIZE])
                .select_related("seller")
                .order_by("seller_id")
            )
            emails = []
            level_events = []
            for evaluation in batch:
                old, new = evaluation.previous_level, evaluation.level
                reasons = reason_rows(
                    evaluation.criteria,
                    deciding_level(snapshot=snapshot, from_level=old, to_level=new),
                )
                key = key_of("level_changed", evaluation.seller_id, run.period, old, new)
                level_events.append(
                    WebhookEvent(
                        key=key,
                        event_id=event_id_of(key),
                        type=WebhookEvent.LEVEL_CHANGED,
                        created_at=now,
                        data={
                            "seller": evaluation.seller.external_id,
                            "period": run.period,
                            "from": old,
                            "to": new,
                            "reasons": reasons,
                        },
                    )
                )
                if latest:
                    email_keys.append(key)
                    emails.append(
                        EmailNotification(
                            key=key,
                            kind=EmailKind.LEVEL_CHANGED,
                            seller_id=evaluation.seller_id,
                            period=run.period,
                            context={
                                "from": old,
                                "to": new,
                                "direction": snapshot.move(old, new),
                                "effective_from": period.cutoff.isoformat(),
                                "reasons": reasons,
                            },
                        )
                    )
            EmailNotification.objects.bulk_create(emails, ignore_conflicts=True)
            events += _events(level_events)
        key = key_of("run_completed", run.pk)
        events += _events(
            [
                WebhookEvent(
                    key=key,
                    event_id=event_id_of(key),
                    type=WebhookEvent.RUN_COMPLETED,
                    created_at=now,
                    data={
                        "id": run.pk,
                        "period": run.period,
                        "status": run.status,
                        "sellers": run.seller_count,
                        "level_counts": dict(run.level_counts or {}),
                        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                    },
                )
            ]
        )
        outbox.deliveries = _pending_deliveries(events)
        outbox.emails = _unsent_emails(email_keys)
    return outbox


@dataclass(frozen=True)
class AtRisk:
    seller_id: int
    held_level: str
    projected_level: str | None
    kept_by_grace: bool
    reasons: list[dict[str, Any]]


def sellers_at_risk(*, as_of: datetime, snapshot: PolicySnapshot) -> list[AtRisk]:
    """Sellers whose month so far (the month-to-date figures refreshed at ``as_of``) grades
    below the level they hold, under the active policy: the coming evaluation would demote
    them, or keep them only by grace. Graded by the one ``grading.grade``."""
    period = Period.containing(as_of)
    ranks = snapshot.ranks
    found: list[AtRisk] = []
    rows = (
        MonthToDate.objects.filter(as_of__gte=as_of, as_of__lt=period.cutoff)
        .order_by("seller_id")
        .values_list("seller_id", "metrics", "windows")
    )
    batch: list[tuple[int, dict[str, Any], Any]] = []

    def flush() -> None:
        held = held_levels(seller_ids=[seller_id for seller_id, _, _ in batch], period=period)
        # Per-criterion windows (SPEC §5): stored beside the metrics by the refresh; computed
        # here, to as_of, only for a row stored under another policy's windows.
        windows = {seller_id: windows_from_json(own, snapshot) for seller_id, _, own in batch}
        missing = [seller_id for seller_id, own in windows.items() if own is None]
        windows |= criterion_window_metrics(seller_ids=missing, cutoff=as_of, snapshot=snapshot)
        for seller_id, stored, _ in batch:
            level, grace_used = held.get(seller_id, (None, 0))
            if level is None or level not in ranks or set(stored) != set(ENGINE_METRIC_KEYS):
                continue
            metrics = {key: exact_from_json(stored[key]) for key in ENGINE_METRIC_KEYS}
            result = grade(
                metrics,
                snapshot,
                held_level=level,
                grace_used=grace_used,
                windows=windows.get(seller_id),
            )
            computed = result.computed_level
            if computed is not None and ranks[computed] >= ranks[level]:
                continue
            criteria = [criterion_to_json(c) for c in result.criteria]
            reasons = reason_rows(
                criteria, deciding_level(snapshot=snapshot, from_level=level, to_level=computed)
            )
            found.append(
                AtRisk(
                    seller_id=seller_id,
                    held_level=level,
                    projected_level=computed,
                    kept_by_grace=result.at_risk,
                    reasons=reasons,
                )
            )
        batch.clear()

    for row in rows.iterator(chunk_size=BATCH_SIZE):
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return found


def record_at_risk(*, as_of: datetime) -> Outbox:
    """One "at risk" email per seller and period (opt-out per seller), recorded once.

    Only from ``NOTIFICATIONS_AT_RISK_FROM_DAY`` of the month (local time): early in a month the
    window's rates have almost no data, and nearly every seller would look at risk.
    """
    outbox = Outbox()
    if timezone.localtime(as_of).day < settings.NOTIFICATIONS_AT_RISK_FROM_DAY:
        return outbox
    try:
        snapshot = snapshot_of(active_policy())
    except NoActivePolicy:
        return outbox
    period = Period.containing(as_of)
    opted_out = set(
        SellerPreference.objects.filter(at_risk_emails=False).values_list("seller_id", flat=True)
    )
    rows = [
        EmailNotification(
            key=key_of("at_risk", item.seller_id, str(period)),
            kind=EmailKind.AT_RISK,
            seller_id=item.seller_id,
            period=str(period),
            context={
                "from": item.held_level,
                "to": item.projected_level,
                "kept_by_grace": item.kept_by_grace,
                "as_of": as_of.isoformat(),
                "effective_from": period.cutoff.isoformat(),
                "reasons": item.reasons,
            },
        )
        for item in sellers_at_risk(as_of=as_of, snapshot=snapshot)
        if item.seller_id not in opted_out
    ]
    with transaction.atomic():
        EmailNotification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH_SIZE)
        outbox.emails = _unsent_emails([row.key for row in rows])
    return outbox
