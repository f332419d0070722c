"""System checks of the deployment (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """API throttles count in the cache: one per process would multiply every limit by the
    number of web processes (and forget it at each restart)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in LOCAL_CACHES:
        return [
            Warning(
                "The default cache is local to each process, so API throttles count per process.",
                hint="Set CACHE_URL to a shared cache, e.g. redis://redis:6379/1.",
                id="common.W001",
            )
        ]
    return []
