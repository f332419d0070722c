import pytest

from tests.orders.payloads import forget_throttles


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories hash a password per seller login; PBKDF2 would dominate these API tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    forget_throttles()
    yield
    forget_throttles()
