import importlib
import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.api_helpers import JAN_15_2027, grant_api_permissions, token_client
from tests.factories import SellerFactory, UserFactory

# The clock guard (issue 7): ``GRADECRAFT_TEST_CLOCK_SHIFT_DAYS=N`` runs the whole session with the
# wall clock moved N days ahead (time-machine, ticking), so a test that silently depends on
# today's date fails now instead of on some later day in CI. ``make test`` runs the PostgreSQL
# suite shifted by 400 days and the SQLite re-run unshifted; the worker tests pass the same
# shift to their worker subprocesses (tests/metrics/test_worker.py). A test's own
# ``time_machine.travel`` nests inside the shift and wins while it lasts.
CLOCK_SHIFT_ENV = "GRADECRAFT_TEST_CLOCK_SHIFT_DAYS"
_clock_shift: time_machine.travel | None = None


def clock_shift_days() -> int:
    return int(os.environ.get(CLOCK_SHIFT_ENV) or 0)


def pytest_configure(config: pytest.Config) -> None:
    global _clock_shift
    days = clock_shift_days()
    if days:
        _clock_shift = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        _clock_shift.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _clock_shift
    if _clock_shift is not None:
        _clock_shift.stop()
        _clock_shift = None


def pytest_report_header(config: pytest.Config) -> str:
    days = clock_shift_days()
    return f"clock: shifted {days:+d} days (now {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_user(db):
    """The integration's staff login, with the model permissions the API asks for."""
    return grant_api_permissions(UserFactory(username="integration", is_staff=True))


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return token_client(staff_user)


@pytest.fixture
def seller(db):
    return SellerFactory()


@pytest.fixture
def seller_client(seller) -> APIClient:
    return token_client(seller.user)


@pytest.fixture
def clock_at_2027_01_15():
    """The clock stopped at 2027-01-15 12:00 KST, the instant the outside-in scenarios of the
    metrics API are written for (2026-09 … 2026-12 have ended, 2027-01 has not)."""
    with time_machine.travel(JAN_15_2027, tick=False):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every seller factory hashes a login password; PBKDF2 (~0.9 s each) would dominate.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle history lives in the cache; one test's requests must not throttle the next.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _seeded_policy_in_transactional_tests(request):
    """A transactional test's flush also wipes the policy the data migration seeded: re-seed it.

    (pytest-django's serialized_rollback does not reliably restore it when such tests run
    after other transactional tests.)
    """
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from metrics.models import GradePolicy

    if not GradePolicy.objects.filter(is_active=True).exists():
        migration = importlib.import_module("metrics.migrations.0002_default_policy")
        migration.seed_default_policy(apps, None)
