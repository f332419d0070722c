"""A real Celery worker on the real Redis broker and the test's PostgreSQL database (SPEC §6).

The worker is a subprocess pointed at the very test database pytest-django created, so the
data must be committed: ``transaction=True`` (``serialized_rollback`` puts the seeded policy
back afterwards for the tests that follow).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from gradecraft.celery import app as celery_app
from metrics import runs, tasks
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunChunk, RunStatus, SellerEvaluation
from metrics.tasks import evaluate_run
from orders.models import Order, Seller
from tests.factories import aware
from tests.metrics.test_runs import given_policy

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BROKER_URL = os.environ.get("WORKER_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[2]
OCT = Period(2026, 10)
# A short visibility timeout so that a killed worker's unacknowledged task is redelivered in
# seconds rather than the hour Redis waits by default.
# Seconds before Redis redelivers an unacknowledged task (2 h in production; see settings).
VISIBILITY_TIMEOUT = 3
WORKER_SCRIPT = """
import os
import sys
from datetime import UTC, datetime, timedelta
# The suite's clock guard (tests/conftest.py): the worker lives on the same shifted clock.
days = int(os.environ.get("GRADECRAFT_TEST_CLOCK_SHIFT_DAYS") or 0)
if days:
    import time_machine
    time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True).start()
from gradecraft.celery import app
# Scan for unacknowledged tasks every second (kombu's default: every 10th call, 10 s apart).
options = dict(app.conf.broker_transport_options or {})
options.update(unacked_restore_interval=1, unacked_restore_throttle=1)
app.conf.broker_transport_options = options
print("transport options:", app.conf.broker_transport_options, flush=True)
app.worker_main(sys.argv[1:])
"""


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("the worker test needs PostgreSQL (the worker is another process)")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker() -> Iterator[str]:
    try:
        with celery_app.connection_for_write(BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1)
            connection.default_channel.client.flushdb()  # our own DB number: stale tasks out
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis broker not reachable at {BROKER_URL}: {exc}")
    eager = celery_app.conf.task_always_eager
    options = celery_app.conf.broker_transport_options
    url = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    _use_broker(BROKER_URL)  # what the code under test sends goes to the real broker too
    try:
        yield BROKER_URL
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.broker_transport_options = options
        _use_broker(url)


def _use_broker(url: str) -> None:
    """Point this process's Celery app at ``url`` (its cached connection pools are dropped)."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def worker(
    broker_url: str,
    *,
    pool: str = "solo",
    concurrency: int = 1,
    visibility_timeout: int = VISIBILITY_TIMEOUT,
    chunk_size: int | None = None,
) -> Iterator[subprocess.Popen[str]]:
    """A real worker process (its own process group, like a machine of its own)."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "TIME_ZONE": settings.TIME_ZONE,
        # Redis redelivers an unacknowledged task after this long (settings; 5 min in production).
        "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
        "EVALUATION_CHUNK_SIZE": str(chunk_size or settings.EVALUATION_CHUNK_SIZE),
        # One lease for every process of the deployment, the test's included.
        "EVALUATION_LEASE_SECONDS": str(settings.EVALUATION_LEASE_SECONDS),
    }
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-c",
            WORKER_SCRIPT,
            "worker",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-n",
            name,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_until_ready(process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        # The worker's log, shown by pytest when the test fails.
        if process.stdout is not None and not process.stdout.closed:
            print(process.stdout.read()[-6000:])


def _wait_until_ready(process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if " ready." in line:
            return
    raise AssertionError("the Celery worker did not start:\n" + "".join(seen[-40:]))


def send(run_id: int, broker_url: str) -> None:
    with celery_app.connection_for_write(broker_url) as connection:
        evaluate_run.apply_async(args=[run_id], connection=connection)


def wait_for(run_id: int, statuses: set[str], timeout: float = 60) -> EvaluationRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = EvaluationRun.objects.get(pk=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {run.status} after {timeout} s")


def given_sellers(count: int) -> list[Seller]:
    """Sellers with one order completed in October each (bulk: no per-row factory cost)."""
    joined = aware("2025-01-01 00:00")
    sellers = Seller.objects.bulk_create(
        Seller(external_id=f"w-{n}", username=f"w-{n}", joined_at=joined) for n in range(count)
    )
    completed = aware("2026-10-10 10:00")
    Order.objects.bulk_create(
        Order(
            external_id=f"wo-{seller.pk}",
            seller=seller,
            buyer=f"b-{seller.pk}",
            amount=1000,
            created_at=completed - timedelta(days=2),
            due_at=completed,
            delivered_at=completed - timedelta(hours=1),
            completed_at=completed,
        )
        for seller in sellers
    )
    return sellers


def test_a_real_worker_evaluates_a_period(broker):
    given_policy()
    given_sellers(5)
    run = runs.start_run(period=OCT, trigger="manual")

    with worker(broker):
        send(run.pk, broker)
        done = wait_for(run.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED})

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.seller_count == 5
    assert done.level_counts == {"Bronze": 0, "Silver": 5, "Gold": 0, "none": 0}
    assert SellerEvaluation.objects.filter(run=done, level="Silver").count() == 5
    assert done.started_at is not None
    assert done.finished_at is not None
    assert done.finished_at <= timezone.now()


def test_a_worker_killed_mid_run_loses_nothing_and_the_redelivery_completes_it(broker):
    given_policy()
    given_sellers(3000)  # a few seconds of work: time to kill the worker half-way
    run = runs.start_run(period=OCT, trigger="manual")

    with worker(broker) as first:
        send(run.pk, broker)
        wait_for(run.pk, {RunStatus.RUNNING})
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    killed = EvaluationRun.objects.get(pk=run.pk)
    assert killed.status == RunStatus.RUNNING  # not finished, not half-written:
    assert not SellerEvaluation.objects.filter(period=str(OCT)).exists()

    # acks_late: the task was never acknowledged, so Redis hands it to the next worker.
    with worker(broker):
        done = wait_for(run.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED}, timeout=90)

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert SellerEvaluation.objects.filter(run=done).count() == 3000


def chunks_done(run_id: int) -> int:
    return RunChunk.objects.filter(run_id=run_id, done_at__isnull=False).count()


def wait_for_chunks(run_id: int, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = chunks_done(run_id)
        if done >= at_least:
            return done
        time.sleep(0.02)
    raise AssertionError(f"run {run_id}: fewer than {at_least} chunks done after {timeout} s")


def test_two_workers_share_the_chunks_of_one_period(broker, settings):
    settings.EVALUATION_CHUNK_SIZE = 100
    given_policy()
    given_sellers(1200)
    run = runs.start_run(period=OCT, trigger="manual")

    with worker(broker, chunk_size=100) as one, worker(broker, chunk_size=100) as two:
        send(run.pk, broker)
        done = wait_for(run.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED}, timeout=120)
        one.terminate()
        two.terminate()
        logs = [one.communicate(timeout=30)[0], two.communicate(timeout=30)[0]]

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert SellerEvaluation.objects.filter(run=done).count() == 1200
    assert chunks_done(run.pk) == done.chunks_total == 12
    # Each worker computed some of the twelve chunks.
    per_worker = [log.count("metrics.tasks.evaluate_chunk") for log in logs]
    assert all(count >= 1 for count in per_worker), per_worker


def test_a_dead_worker_machine_is_taken_over_and_the_period_completes_exactly_once(
    broker, settings
):
    """The whole worker (parent and pool children) is SIGKILLed mid-run, as when its machine
    dies. Redis would hold the lost task for its visibility timeout (an hour here, so it cannot
    help): the run's lease expires, and the sweep re-queues it for the next worker, which
    computes the chunks that are not done."""
    settings.EVALUATION_LEASE_SECONDS = 2
    settings.EVALUATION_CHUNK_SIZE = 200
    given_policy()
    given_sellers(3000)
    run = runs.start_run(period=OCT, trigger="manual")

    with worker(
        broker, pool="prefork", concurrency=2, visibility_timeout=3600, chunk_size=200
    ) as machine:
        send(run.pk, broker)
        wait_for_chunks(run.pk, at_least=2)
        os.killpg(machine.pid, signal.SIGKILL)
        machine.wait(timeout=10)

    dead = EvaluationRun.objects.get(pk=run.pk)
    assert dead.status == RunStatus.RUNNING
    assert 2 <= chunks_done(run.pk) < dead.chunks_total == 15
    assert not SellerEvaluation.objects.filter(period=str(OCT)).exists()  # nothing half-published

    time.sleep(2.5)  # no renewal for longer than EVALUATION_LEASE_SECONDS: the lease expired
    # The beat's sweep, before any worker is back: a worker that started first would take the
    # chunks still queued at once, and the run would no longer look silent.
    assert tasks.sweep_stale_runs.apply().get() == [run.pk]
    with worker(broker, visibility_timeout=3600, chunk_size=200):
        done = wait_for(run.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED}, timeout=120)

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert SellerEvaluation.objects.filter(period=str(OCT)).count() == 3000
    assert SellerEvaluation.objects.values("seller").distinct().count() == 3000
    assert chunks_done(run.pk) == 15


def test_a_new_trigger_of_a_period_whose_run_went_silent_takes_it_over(
    broker, settings, staff_client
):
    settings.EVALUATION_LEASE_SECONDS = 2  # never claimed: the queue's lease expires
    given_policy()
    given_sellers(20)
    silent = runs.start_run(period=OCT, trigger="schedule")  # its worker never came

    assert (
        staff_client.post("/api/v1/evaluations", {"period": "2026-10"}, format="json").status_code
        == 409
    )
    time.sleep(2.5)
    with worker(broker):
        response = staff_client.post("/api/v1/evaluations", {"period": "2026-10"}, format="json")
        done = wait_for(silent.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED})

    assert response.status_code == 202
    assert response.json()["id"] == silent.pk
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert SellerEvaluation.objects.filter(period=str(OCT)).count() == 20
