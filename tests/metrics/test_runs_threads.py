"""``manage.py evaluate`` in one process computes chunks on threads of their own connections.

Transactional tests: the threads' connections must see the committed data (inside a test
transaction the run falls back to one chunk after the other on the test's connection).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunChunk, RunStatus, SellerEvaluation
from metrics.runs import chunks
from tests.factories import MessageFactory, OrderFactory, SellerFactory, aware
from tests.metrics.test_runs import given_policy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OCT = Period(2026, 10)


def given_marketplace(sellers: int) -> None:
    for n in range(sellers):
        seller = SellerFactory(user=None)
        for k in range(n % 4):
            OrderFactory(
                seller=seller,
                created_at=aware(f"2026-10-0{k + 1} 10:00"),
                delivered_at=aware(f"2026-10-0{k + 2} 10:00"),
                completed_at=aware(f"2026-10-0{k + 3} 10:00"),
            )
        MessageFactory(seller=seller, conversation="c", sent_at=aware("2026-10-10 09:00"))
        if n % 3:
            MessageFactory(
                seller=seller,
                conversation="c",
                sender="seller",
                sent_at=aware("2026-10-10 09:00") + timedelta(hours=n * 3),
            )


def stored_metrics() -> dict[int, dict]:
    return dict(
        SellerEvaluation.objects.filter(period=str(OCT)).values_list("seller_id", "metrics")
    )


def test_threads_store_exactly_what_one_chunk_after_the_other_stores(settings):
    assert connection.vendor == "postgresql"
    settings.EVALUATION_CHUNK_SIZE = 3
    given_policy()
    given_marketplace(20)
    settings.EVALUATION_THREADS = 0
    runs.evaluate_period(period=OCT)
    one_by_one = stored_metrics()

    settings.EVALUATION_THREADS = 2
    outcome = runs.evaluate_period(period=OCT)

    assert outcome.run is not None and outcome.run.status == RunStatus.SUCCEEDED
    assert stored_metrics() == one_by_one
    assert len(one_by_one) == 20
    assert RunChunk.objects.filter(run=outcome.run, done_at__isnull=False).count() == 7


def test_an_error_in_a_thread_fails_the_run_and_publishes_nothing(settings, monkeypatch):
    settings.EVALUATION_CHUNK_SIZE = 3
    settings.EVALUATION_THREADS = 2
    given_policy()
    given_marketplace(10)

    def broken(**kwargs):
        raise RuntimeError("chunk exploded")

    monkeypatch.setattr(chunks, "chunk_inquiries", broken)
    run = runs.start_run(period=OCT, trigger="manual")

    with pytest.raises(RuntimeError, match="chunk exploded"):
        runs.execute_run(run_id=run.pk)

    failed = EvaluationRun.objects.get(pk=run.pk)
    assert failed.status == RunStatus.FAILED
    assert "chunk exploded" in failed.error
    assert not SellerEvaluation.objects.filter(period=str(OCT)).exists()
