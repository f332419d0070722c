"""Two workers executing the same run at once (a duplicate delivery): one result set (SPEC §6).

Real threads on real connections, so the data is committed (``transaction=True``).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from tests.metrics.test_runs import a_seller, given_policy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_run_executed_twice_at_once_stores_one_result_per_seller():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer; the advisory lock is PostgreSQL's")
    given_policy()
    sellers = [a_seller() for _ in range(5)]
    run = runs.start_run(period=Period(2026, 10), trigger="manual")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def execute() -> None:
        try:
            start.wait()
            outcomes.append(runs.execute_run(run_id=run.pk).status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=execute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert SellerEvaluation.objects.filter(period="2026-10").count() == len(sellers)
    assert EvaluationRun.objects.get(pk=run.pk).seller_count == len(sellers)
