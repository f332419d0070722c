"""System checks of the evaluation runs' timing settings (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def run_timeouts(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """A stuck run is failed only after the broker had its chance to redeliver a lost task
    (visibility timeout) and the sweep its chance to take over a dead worker's run."""
    stuck = settings.EVALUATION_STUCK_AFTER_SECONDS
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    stale = settings.EVALUATION_STALE_AFTER_SECONDS
    if stuck > max(visibility, stale):
        return []
    return [
        Error(
            f"EVALUATION_STUCK_AFTER_SECONDS ({stuck}) must exceed CELERY_VISIBILITY_TIMEOUT "
            f"({visibility}) and EVALUATION_STALE_AFTER_SECONDS ({stale}).",
            hint="Otherwise a run is marked failed before a redelivered or taken-over task "
            "could finish it.",
            id="metrics.E001",
        )
    ]
