"""Throttling of requests that fail authentication (issue 10 #3).

DRF checks permissions before throttles, so anonymous and bad-token requests used to get 401 for
ever. Now every 401 counts against the client's address; past THROTTLE_AUTH_FAILURES (30 a
minute by default) the address gets 429 with Retry-After, before its credentials are checked.
The count lives in the cache, which production shares between processes (Redis).
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LIMIT = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_failure"].split("/")[0])
ATTACKER = "203.0.113.9"


@pytest.fixture(autouse=True)
def _fixed_clock():
    # The window is a minute: hold the clock so a slow machine cannot let entries expire.
    with time_machine.travel("2026-11-20 03:00:00+00:00", tick=False) as traveller:
        yield traveller


def get(path: str = "/api/v1/sellers", address: str = ATTACKER, token: str | None = None):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(path, REMOTE_ADDR=address)


def test_anonymous_requests_get_401_up_to_the_limit_then_429_with_retry_after():
    statuses = [get().status_code for _ in range(LIMIT)]

    refused = get()

    assert statuses == [401] * LIMIT
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "failed authentication" in refused.json()["detail"]


def test_bad_tokens_are_throttled_and_then_even_a_good_token_from_that_address_waits(
    staff_user,
):
    from rest_framework.authtoken.models import Token

    good = Token.objects.create(user=staff_user).key
    statuses = [get(token=f"{n:040x}").status_code for n in range(LIMIT)]

    assert statuses == [401] * LIMIT
    assert get(token=good).status_code == 429
    assert get(token=good, address="198.51.100.1").status_code == 200


def test_the_refusal_ends_when_the_failures_leave_the_window(_fixed_clock):
    for _ in range(LIMIT):
        get()
    assert get().status_code == 429

    _fixed_clock.shift(61)

    assert get().status_code == 401


def test_successful_requests_do_not_count(staff_user):
    from rest_framework.authtoken.models import Token

    good = Token.objects.create(user=staff_user).key
    for _ in range(LIMIT + 5):
        assert get(token=good).status_code == 200

    assert get().status_code == 401


def test_a_forged_x_forwarded_for_does_not_spread_the_failures():
    client = APIClient()
    for n in range(LIMIT):
        client.get("/api/v1/sellers", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.9.0.{n}")

    refused = client.get("/api/v1/sellers", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.9.1.1")

    assert refused.status_code == 429


def test_behind_a_configured_proxy_each_forwarded_client_counts_for_itself(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()
    for _ in range(LIMIT):
        client.get("/api/v1/sellers", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER)

    attacker = client.get("/api/v1/sellers", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER)
    other = client.get("/api/v1/sellers", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.8")

    assert attacker.status_code == 429
    assert other.status_code == 401


REQUESTS = """
import django, sys
django.setup()
from rest_framework.test import APIClient
client = APIClient()
print(" ".join(
    str(client.get("/api/v1/sellers", REMOTE_ADDR="203.0.113.77").status_code)
    for _ in range(int(sys.argv[1]))
))
"""


@pytest.mark.worker
def test_processes_sharing_the_redis_cache_count_together(tmp_path):
    """Two web processes, one count: the second sees the first one's failures."""
    broker = urlsplit(os.environ.get("WORKER_TEST_BROKER_URL", "redis://127.0.0.1:6379/14"))
    cache_url = f"redis://{broker.netloc}/9"
    redis.Redis.from_url(cache_url).flushdb()  # a fresh cache database for this test
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": cache_url,
    }
    first_part = LIMIT - 5

    def run(count: int) -> list[int]:
        result = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", REQUESTS, str(count)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return [int(s) for s in result.stdout.split()]

    first = run(first_part)
    second = run(10)

    assert first == [401] * first_part
    assert second == [401] * 5 + [429] * 5
