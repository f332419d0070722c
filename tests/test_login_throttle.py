"""Sign-in throttling (issue 10 #2): failed logins lock out a username from an address, and the
address itself, for a cool-off; the right password does not get through meanwhile.

Attempts are database rows (django-axes' database handler): each test's transaction rolls them
back. Every test runs at a fixed instant, so the cool-off is measured on the test's clock.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PASSWORD = "right-horse-battery"


@pytest.fixture(autouse=True)
def _fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def account():
    return UserFactory(username="alice", password=PASSWORD)


def log_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def given_failures(count: int, username: str = "alice", address: str = "203.0.113.7") -> None:
    for _ in range(count):
        log_in(Client(), username, "wrong", address)


def test_the_right_password_signs_in_after_fewer_failures_than_the_limit(account):
    given_failures(settings.AXES_FAILURE_LIMIT - 1)
    browser = Client()

    response = log_in(browser, "alice", PASSWORD)

    assert response.status_code == 302 and signed_in(browser)


def test_after_the_limit_even_the_right_password_is_refused_with_429(account):
    given_failures(settings.AXES_FAILURE_LIMIT)
    browser = Client()

    response = log_in(browser, "alice", PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert not signed_in(browser)


def test_a_hundred_wrong_passwords_then_the_right_one_does_not_sign_in(account):
    given_failures(100)
    browser = Client()

    log_in(browser, "alice", PASSWORD)

    assert not signed_in(browser)


def test_an_address_that_failed_on_many_usernames_is_locked_out_for_all(account):
    for n in range(settings.AXES_FAILURE_LIMIT):
        given_failures(1, username=f"guess{n}")
    browser = Client()

    response = log_in(browser, "alice", PASSWORD)

    assert response.status_code == 429 and not signed_in(browser)


def test_the_account_still_signs_in_from_another_address(account):
    given_failures(settings.AXES_FAILURE_LIMIT, address="203.0.113.7")
    browser = Client()

    log_in(browser, "alice", PASSWORD, address="198.51.100.20")

    assert signed_in(browser)


def test_the_lockout_ends_after_the_cool_off(account):
    given_failures(settings.AXES_FAILURE_LIMIT)
    browser = Client()

    with time_machine.travel(NOW + settings.AXES_COOLOFF_TIME + timedelta(seconds=1), tick=False):
        log_in(browser, "alice", PASSWORD)

    assert signed_in(browser)


def test_the_lockout_still_holds_just_before_the_cool_off_ends(account):
    given_failures(settings.AXES_FAILURE_LIMIT)
    browser = Client()

    with time_machine.travel(NOW + settings.AXES_COOLOFF_TIME - timedelta(seconds=1), tick=False):
        log_in(browser, "alice", PASSWORD)

    assert not signed_in(browser)


def test_the_admin_login_is_throttled_too(account):
    account.is_staff = True
    account.save()
    given_failures(settings.AXES_FAILURE_LIMIT)
    browser = Client()

    response = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
    )

    assert response.status_code == 429 and not signed_in(browser)


def test_a_forged_x_forwarded_for_does_not_escape_the_lockout(account):
    """With no proxy configured the header is the client's own claim: the address stays
    REMOTE_ADDR whatever it says."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/login/",
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    client = Client()

    response = client.post(
        "/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )

    assert response.status_code == 429
    assert not signed_in(client)


def test_behind_a_configured_proxy_the_forwarded_client_is_locked_out_not_the_proxy(
    account, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/login/",
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    attacker, owner = Client(), Client()

    refused = attacker.post(
        "/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    allowed = owner.post(
        "/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="192.0.2.50",
    )

    assert refused.status_code == 429 and not signed_in(attacker)
    assert allowed.status_code == 302 and signed_in(owner)
