"""The start of a spawned chunk process (``metrics.runs.chunks.ChunkProcesses``).

Outside ``metrics.runs`` on purpose: a spawned process unpickles its initializer by importing
its module before Django is set up, and ``metrics.runs`` imports models. Only the standard
library is imported here. (The work it is sent afterwards, ``chunks.apply_here``, is unpickled
once Django is set up.)
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
