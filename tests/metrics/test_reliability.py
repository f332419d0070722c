"""Reliability with the real services (issue 10 #5): the broker restarted empty under a queued
run, the database connection cut in the middle of a bulk ingest, and two beats at once.

A Redis server of the test's own (a free port) is restarted, so the suite's shared one is not;
the database is the suite's PostgreSQL test database, with a backend terminated by the test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg2
import pytest
import redis
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client

from metrics import runs, tasks
from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from orders.models import Seller
from tests.api_helpers import seller_body
from tests.metrics.test_runs import given_policy
from tests.metrics.test_worker import (
    OCT,
    _use_broker,
    celery_app,
    given_sellers,
    wait_for,
    worker,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of the test's own that keeps nothing on disk (a restart starts it empty)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: run scripts/ensure-services.sh"
    process = subprocess.Popen(  # noqa: S603 - Debian's redis-server, loopback only
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def own_broker() -> Iterator[str]:
    eager, url = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    port = _free_port()
    broker_url = f"redis://127.0.0.1:{port}/0"
    celery_app.conf.task_always_eager = False
    _use_broker(broker_url)
    try:
        yield broker_url
    finally:
        celery_app.conf.task_always_eager = eager
        _use_broker(url)


def test_a_run_queued_when_the_broker_restarts_empty_completes_once_a_worker_is_back(
    own_broker, settings
):
    settings.EVALUATION_LEASE_SECONDS = 1  # the queue's lease of the run: its message lost
    given_policy()
    sellers = given_sellers(6)
    port = int(own_broker.rsplit(":", 1)[1].split("/")[0])
    with redis_server(port):
        run = runs.request_run(period=OCT, trigger="manual")  # queued; no worker yet
        assert redis.Redis(port=port).llen("celery") == 1
    _use_broker(own_broker)  # the old connections died with that server

    with redis_server(port):  # back, empty: the run's message is gone
        assert redis.Redis(port=port).llen("celery") == 0
        with worker(own_broker):
            time.sleep(1)
            assert EvaluationRun.objects.get(pk=run.pk).status == RunStatus.PENDING
            time.sleep(1.1)
            assert tasks.sweep_stale_runs.apply().get() == [run.pk]  # the beat's minute sweep

            done = wait_for(run.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED})

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert SellerEvaluation.objects.filter(period=str(OCT)).count() == len(sellers)


def _blocked_backend(query_start: str, timeout: float = 20) -> int:
    """The pid of the backend waiting on a lock with a query starting so."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE %s AND datname = current_database()",
                [query_start + "%"],
            )
            row = cursor.fetchone()
            if row:
                return int(row[0])
            time.sleep(0.05)
    raise AssertionError(f"no backend blocked on {query_start!r}")


def test_a_bulk_ingest_whose_database_connection_is_cut_answers_503_and_writes_nothing():
    """The bulk has created its logins (auth_user) and waits to insert the sellers when its
    connection is terminated: the client gets a JSON 503, and not one login is left behind."""
    staff = get_user_model().objects.create_user(
        "integration", password="x", is_staff=True, is_superuser=True
    )
    users_before = get_user_model().objects.count()
    db = settings.DATABASES["default"]
    holder = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
    )  # fmt: skip
    holder.autocommit = False
    with holder.cursor() as cursor:  # inserts into the sellers' table wait for this lock
        cursor.execute(f"LOCK TABLE {Seller._meta.db_table} IN EXCLUSIVE MODE")
    answer: dict[str, object] = {}

    def ingest() -> None:
        try:
            client = Client()
            client.force_login(staff)
            body = [seller_body(f"cut-{n}") for n in range(50)]
            response = client.post("/api/v1/sellers/bulk", body, content_type="application/json")
            answer.update(
                status=response.status_code, body=response.json(), retry=response["Retry-After"]
            )
        finally:
            connections.close_all()

    thread = threading.Thread(target=ingest)
    thread.start()
    try:
        pid = _blocked_backend(f'INSERT INTO "{Seller._meta.db_table}"')
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        thread.join(timeout=30)
    finally:
        holder.rollback()
        holder.close()

    assert answer["status"] == 503, answer
    assert "nothing was written" in answer["body"]["detail"]  # type: ignore[index]
    assert answer["retry"]
    assert get_user_model().objects.count() == users_before
    assert not Seller.objects.filter(external_id__startswith="cut-").exists()
    # The next request gets a new connection and goes through.
    client = Client()
    client.force_login(staff)
    retried = client.post(
        "/api/v1/sellers/bulk", [seller_body("cut-0")], content_type="application/json"
    )
    assert retried.status_code == 200 and retried.json() == {"created": 1, "updated": 0}


def test_two_beats_ticking_at_once_start_one_run():
    """Two beat processes by mistake: both send the 1st-of-month task at the same instant, and
    two workers run it at once. The database's one-open-run-per-period rule lets one through."""
    given_policy()
    given_sellers(3)
    barrier = threading.Barrier(2)
    outcomes: list[int | None] = []

    def tick() -> None:
        barrier.wait()
        try:
            outcomes.append(tasks.evaluate_previous_month())  # as a worker executes it
        finally:
            connections.close_all()

    with time_machine.travel(OCT.cutoff + timedelta(minutes=5), tick=True):
        threads = [threading.Thread(target=tick) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    run = EvaluationRun.objects.get(period=str(OCT))
    assert sorted(outcomes, key=lambda outcome: outcome is None) == [run.pk, None]
    assert run.status == RunStatus.SUCCEEDED
    assert SellerEvaluation.objects.filter(period=str(OCT)).count() == 3
