"""Receivers of metrics' signals: they hand the work to Celery and never fail the sender (a
run is published whether or not its notifications could be queued)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from metrics.signals import (
    appeal_decided,
    grade_corrected,
    month_to_date_refreshed,
    run_published,
)
from notifications.tasks import (
    notify_appeal_decided,
    notify_at_risk,
    notify_grade_corrected,
    notify_run_published,
)

logger = logging.getLogger(__name__)


def on_run_published(sender: Any, *, run_id: int, period: str, **kwargs: Any) -> None:
    try:
        notify_run_published.apply_async(args=[run_id])
    except Exception:
        logger.exception("Notifications of run %s (%s) could not be queued", run_id, period)


def on_month_to_date_refreshed(sender: Any, *, as_of: datetime, period: str, **kwargs: Any) -> None:
    try:
        notify_at_risk.apply_async(args=[as_of.isoformat()])
    except Exception:
        logger.exception("At-risk emails of %s could not be queued", period)


def on_appeal_decided(sender: Any, *, appeal_id: int, **kwargs: Any) -> None:
    try:
        notify_appeal_decided.apply_async(args=[appeal_id])
    except Exception:
        logger.exception("Notifications of appeal %s could not be queued", appeal_id)


def on_grade_corrected(sender: Any, *, correction_id: int, **kwargs: Any) -> None:
    try:
        notify_grade_corrected.apply_async(args=[correction_id])
    except Exception:
        logger.exception("Notifications of correction %s could not be queued", correction_id)


def connect() -> None:
    appeal_decided.connect(on_appeal_decided, dispatch_uid="notifications.appeal_decided")
    grade_corrected.connect(on_grade_corrected, dispatch_uid="notifications.grade_corrected")
    run_published.connect(on_run_published, dispatch_uid="notifications.run_published")
    month_to_date_refreshed.connect(
        on_month_to_date_refreshed, dispatch_uid="notifications.month_to_date_refreshed"
    )
