from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world (``seed_demo``, ``demo_banner``): installed only in demo mode (settings
    ``DEMO``, on with DEBUG by default), never in a production configuration."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
