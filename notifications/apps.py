from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        # metrics sends the signals and knows nothing of this app (docs/architecture.md); the
        # receivers hand the work to Celery. The tasks are registered in every process, so the
        # web process and the commands can enqueue them too.
        from notifications import receivers, tasks  # noqa: F401

        receivers.connect()
