from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self) -> None:
        # Register the Celery tasks in every process, not only in workers (Celery's autodiscovery
        # imports them lazily, when a worker starts): runs are enqueued by task name
        # (metrics.runs.lifecycle), from the web, the commands and the beat alike.
        from metrics import checks, tasks  # noqa: F401
