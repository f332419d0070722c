"""The Celery app. Tasks live in each app's ``tasks.py``; settings come from Django (CELERY_*)."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradecraft.settings")

app = Celery("gradecraft")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_inconsistent_run_timings(**kwargs: Any) -> None:
    """A worker does not start while the runs' lease, deadline and the broker's visibility
    timeout disagree (the system check ``metrics.E001``/``E002``; Celery runs the checks at
    start-up but only logs them)."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()
    from metrics.checks import run_timings  # the one check (Celery already ran them all)

    errors = [message for message in run_timings() if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(str(message) for message in errors))
