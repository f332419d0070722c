"""``GET /healthz`` (SPEC §7): no authentication; database, broker and the last run."""

from __future__ import annotations

import os

import pytest
import time_machine
from celery import current_app

from metrics import runs
from metrics.engine.periods import Period
from tests.factories import aware

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_at():
    """Point this process's Celery app at a broker (its connection pools dropped), then back."""
    conf = current_app.conf
    saved = (conf.broker_url, conf.task_always_eager)

    def use(url: str) -> None:
        conf.broker_url, conf.task_always_eager = url, False
        current_app._pool = None
        current_app.amqp._producer_pool = None

    yield use
    conf.broker_url, conf.task_always_eager = saved
    current_app._pool = None
    current_app.amqp._producer_pool = None


def test_with_eager_tasks_and_no_run_yet_it_is_ok(api_client):
    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "eager",
        "last_run": None,
    }


def test_it_reports_the_last_run(api_client):
    with time_machine.travel(aware("2026-11-01 00:05"), tick=False):
        runs.evaluate_period(period=Period(2026, 10))

    body = api_client.get("/healthz").json()

    assert body["last_run"] == {
        "period": "2026-10",
        "status": "succeeded",
        "finished": "2026-10-31T15:05:00+00:00",
    }


def test_an_unreachable_broker_is_a_503_naming_the_broker(api_client, broker_at):
    broker_at("redis://127.0.0.1:1/0")  # nothing listens on port 1 of this machine

    response = api_client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("error", "ok")
    assert body["broker"].startswith("error: ")


@pytest.mark.worker
def test_a_reachable_broker_is_ok(api_client, broker_at):
    broker_at(os.environ.get("WORKER_TEST_BROKER_URL", "redis://127.0.0.1:6379/14"))

    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_only_get_is_answered(api_client):
    assert api_client.post("/healthz").status_code == 405
