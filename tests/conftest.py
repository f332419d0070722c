import importlib

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import SellerFactory, UserFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_user(db):
    return UserFactory(username="integration", is_staff=True)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=staff_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def seller(db):
    return SellerFactory()


@pytest.fixture
def seller_client(seller) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=seller.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


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
