"""A preview whose windows differ from the last run's is answered by a real Celery worker on the
real Redis broker (POST /api/v1/policy/preview → 202, then GET …/preview/{id})."""

from __future__ import annotations

import time

import pytest

from metrics import runs
from metrics.models import PolicyPreview, RunStatus
from tests.api_helpers import tiers_policy
from tests.metrics.test_runs import given_policy
from tests.metrics.test_worker import OCT, broker, given_sellers, worker

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

__all__ = ["broker"]  # the fixture, imported for this module's tests


def wait_for_preview(preview_id: str, timeout: float = 60) -> PolicyPreview:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = PolicyPreview.objects.get(pk=preview_id)
        if job.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return job
        time.sleep(0.05)
    raise AssertionError(f"preview {preview_id} still {job.status} after {timeout} s")


def test_a_worker_answers_a_preview_with_other_windows(broker, staff_client):
    given_policy()  # Bronze < Silver (1 order in a 1-month window) < Gold (2)
    given_sellers(5)  # one order completed in October each: Silver
    runs.evaluate_period(period=OCT)
    draft = tiers_policy(window_months=3)
    draft["levels"][1]["criteria"][0]["value"] = 2  # Silver now needs 2 orders

    response = staff_client.post("/api/v1/policy/preview", draft, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"  # queued on the broker, no worker yet
    with worker(broker):
        job = wait_for_preview(response.json()["id"])
    assert job.status == RunStatus.SUCCEEDED, job.error
    body = staff_client.get(f"/api/v1/policy/preview/{job.pk}").json()
    assert body["draft"] == {"level_counts": {"Bronze": 5, "Silver": 0, "Gold": 0, "none": 0}}
    assert body["current"] == {"level_counts": {"Bronze": 0, "Silver": 5, "Gold": 0, "none": 0}}
    assert [(m["from"], m["to"]) for m in body["movers"]] == [("Silver", "Bronze")] * 5
