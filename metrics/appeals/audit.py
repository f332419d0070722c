"""The audit trail of appeals, decisions, exclusions and corrections (append-only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from common.csv import safe_cell
from metrics.models import Appeal, AuditAction, AuditEntry
from metrics.web.api import CSV_PIECE_CHARS
from orders.models import Order, Seller

AUDIT_COLUMNS = (
    "at",
    "action",
    "actor",
    "seller",
    "order",
    "appeal",
    "period",
    "detail",
)


def record(
    *,
    action: AuditAction,
    actor: Any = None,
    seller: Seller | None = None,
    order: Order | None = None,
    appeal: Appeal | None = None,
    period: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """One audit entry, now, in the caller's transaction (it commits or rolls back with the
    change it records)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=user,
        actor_name=user.get_username() if user is not None else "system",
        action=action,
        seller=seller,
        order=order,
        appeal=appeal,
        period=period,
        detail=detail or {},
    )


def entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("seller", "order").order_by("at", "id")


def audit_csv(rows: Iterable[AuditEntry]) -> Iterator[str]:
    """The entries as CSV lines (header first), every cell guarded against formulas; times in
    RFC 3339 UTC without microseconds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(AUDIT_COLUMNS)
    yield flush()
    for entry in rows:
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    entry.at.astimezone(UTC),  # safe_cell: RFC 3339 to the second
                    entry.action,
                    entry.actor_name,
                    entry.seller.external_id if entry.seller else "",
                    entry.order.external_id if entry.order else "",
                    entry.appeal_id or "",
                    entry.period,
                    _detail_text(entry.detail),
                )
            ]
        )
        if buffer.tell() >= CSV_PIECE_CHARS:  # one write per ~64 kB, not per row
            yield flush()
    yield flush()


def _detail_text(detail: dict[str, Any]) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(detail.items()))
