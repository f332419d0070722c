"""The test suite's settings: the project's, in development posture.

``DEBUG`` is off unless asked for (gradecraft/settings.py); the suite asks for it, like
``make run``, so the demo app is installed and requests are not redirected to HTTPS. The
variable is set in the environment, so the processes the tests start (Celery workers, commands)
see the same. Tests of the production posture start their own process with ``DEBUG=False``.
"""

import os

os.environ.setdefault("DEBUG", "True")

from gradecraft.settings import *  # noqa: E402,F403

# The suite's runs grade their chunks on threads: a spawned process would not see the suite's
# clock shift (tests/conftest.py) nor a test's settings overrides. The tests of the process path
# (tests/metrics/test_run_processes.py) turn it on.
EVALUATION_IN_PROCESS_PROCESSES = 0
