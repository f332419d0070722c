from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self) -> None:
        # Register the Celery tasks in every process, not only in workers (Celery's autodiscovery
        # imports them lazily, when a worker starts): runs are enqueued by task name
        # (metrics.runs.lifecycle), from the web, the commands and the beat alike.
        from metrics import checks, tasks  # noqa: F401
        from metrics.appeals.corrections import on_run_published
        from metrics.signals import run_published

        # A correction that waited for an open run of its period resumes once it is published.
        run_published.connect(on_run_published, dispatch_uid="metrics.appeals.run_published")
