"""A correction on a real Celery worker (SPEC §7 appeals, issue 22 item 6): a worker killed
mid-correction leaves the old grade in place, and the redelivered task completes it."""

from __future__ import annotations

import signal
import time
from decimal import Decimal

import pytest
from django.db import connection

from metrics import runs
from metrics.appeals import services
from metrics.engine.periods import Period
from metrics.models import Appeal, Criterion, EvaluationCorrection, RunStatus, SellerEvaluation
from orders.models import Order, Seller
from tests.factories import UserFactory, aware
from tests.metrics.test_runs import given_policy
from tests.metrics.test_worker import broker, send, wait_for, worker  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

_LOCK_NAMESPACE = 0x6763  # metrics.runs.lifecycle: the advisory lock of a period's writers


def _wait_until_blocked_on_the_period_lock(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the correction never reached the period's lock")


def test_a_worker_killed_mid_correction_keeps_the_old_grade_and_the_retry_completes_it(
    broker,  # noqa: F811 - the fixture of tests/metrics/test_worker.py
):
    policy = given_policy(window_months=1)  # Bronze < Silver < Gold
    Criterion.objects.filter(level__policy=policy, level__name="Silver").update(
        metric="on_time_rate", value=Decimal(100)
    )
    seller = Seller.objects.create(
        external_id="w-appeal", username="w-appeal", joined_at=aware("2025-01-01 00:00")
    )
    orders = [
        Order.objects.create(
            external_id=f"w-order-{n}",
            seller=seller,
            buyer="b",
            amount=1000,
            created_at=aware("2026-10-08 10:00"),
            due_at=aware("2026-10-10 10:00"),
            delivered_at=aware(delivered),
            completed_at=aware("2026-10-12 10:00"),
        )
        for n, delivered in enumerate(("2026-10-09 10:00", "2026-10-11 10:00"))
    ]
    order = orders[1]  # delivered late: on time 50 %, so Bronze
    with worker(broker):
        run = runs.start_run(period=Period(2026, 10), trigger="manual")
        send(run.pk, broker)
        assert wait_for(run.pk, {RunStatus.SUCCEEDED, RunStatus.FAILED}).status == "succeeded"
    assert SellerEvaluation.objects.get(seller=seller).level == "Bronze"
    appeal = Appeal.objects.create(
        seller=seller, order=order, reason="Not mine", opened_at=aware("2026-11-02 10:00")
    )

    with worker(broker) as first:
        with connection.cursor() as cursor:  # hold the period's lock: the correction blocks
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, 202610])
        try:
            services.decide_appeal(
                appeal_id=appeal.pk, status="accepted", note="", actor=UserFactory(is_staff=True)
            )
            _wait_until_blocked_on_the_period_lock()
            first.send_signal(signal.SIGKILL)  # mid-correction, inside its transaction
            first.wait(timeout=10)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, 202610])

    assert SellerEvaluation.objects.get(seller=seller).level == "Bronze"  # the old grade
    assert not EvaluationCorrection.objects.exists()
    assert Appeal.objects.get(pk=appeal.pk).correction == "pending"

    with worker(broker):  # the unacknowledged task is redelivered to the next worker
        deadline = time.monotonic() + 60
        while Appeal.objects.get(pk=appeal.pk).correction != "done":
            assert time.monotonic() < deadline, "the correction was never completed"
            time.sleep(0.1)

    evaluation = SellerEvaluation.objects.get(seller=seller)
    assert evaluation.level == "Silver"  # the late order left out: every delivery on time
    assert evaluation.corrected_at is not None
    assert EvaluationCorrection.objects.get().from_level == "Bronze"
