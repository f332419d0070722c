"""System checks of the evaluation runs' two timings (``manage.py check``, and every start-up of
the web app and the workers): the lease and the deadline against the broker's visibility
timeout (``metrics.runs.lease``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

# Redis's own default when no visibility timeout is configured.
DEFAULT_VISIBILITY_TIMEOUT = 3600


@register()
def run_timings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A run is failed only after a re-queued task (one lease) and a redelivered one (the
    visibility timeout) had their chance to finish it; old names are said to be deprecated."""
    lease = settings.EVALUATION_LEASE_SECONDS
    deadline = settings.EVALUATION_DEADLINE_SECONDS
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT)
    messages: list[CheckMessage] = []
    if lease < 1:
        messages.append(
            Error(
                f"EVALUATION_LEASE_SECONDS ({lease}) must be at least 1.",
                id="metrics.E002",
            )
        )
    if deadline <= max(visibility, lease):
        messages.append(
            Error(
                f"EVALUATION_DEADLINE_SECONDS ({deadline}) must exceed CELERY_VISIBILITY_TIMEOUT "
                f"({visibility}) and EVALUATION_LEASE_SECONDS ({lease}).",
                hint="Otherwise a run is marked failed before a redelivered or re-queued task "
                "could finish it.",
                id="metrics.E001",
            )
        )
    for name in getattr(settings, "EVALUATION_DEPRECATED_TIMINGS", []):
        messages.append(
            Warning(
                f"{name} is deprecated.",
                hint="Set EVALUATION_LEASE_SECONDS (for EVALUATION_STALE_AFTER_SECONDS) and "
                "EVALUATION_DEADLINE_SECONDS (for EVALUATION_STUCK_AFTER_SECONDS); "
                "EVALUATION_REQUEUE_PENDING_SECONDS is no longer read (a run waits one lease).",
                id="metrics.W001",
            )
        )
    return messages
