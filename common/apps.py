from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared machinery of the apps: application errors, the API base pieces, ingestion."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "common"

    def ready(self) -> None:
        from common import checks  # noqa: F401 - registers the deployment checks
