"""The entry points of a spawned chunk process (``metrics.runs.chunks.apply_chunks``).

Outside ``metrics.runs`` on purpose: a spawned process unpickles these functions by importing
their module before Django is set up, and ``metrics.runs`` imports models. Only the standard
library is imported here at module level.
"""

from __future__ import annotations

import os
from typing import Any


def start(settings_module: str, databases: dict[str, dict[str, Any]]) -> None:
    """Set up Django with the parent's settings module and databases (a test database's name
    is set at run time, not in the settings module)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django
    from django.conf import settings

    settings.DATABASES.update(databases)
    django.setup()


def apply_chunk(task_name: str, run_id: int, index: int, walked: Any) -> None:
    """The chunk task, applied in this process with the inquiries the parent walked ahead."""
    from metrics.runs.chunks import apply_here

    apply_here(task_name, run_id=run_id, index=index, walked=walked)
