"""The suite's settings, plus the app that breaks every chunk of this process."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.chunk_failure"]  # noqa: F405
