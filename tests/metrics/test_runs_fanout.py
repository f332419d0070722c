"""A run in steps (SPEC §6, issue 8): prepare, chunks staged independently, one publication.

In-process here; tests/metrics/test_worker.py runs the same steps on real Celery workers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics import runs, tasks
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunChunk, RunStatus, SellerEvaluation, StagedEvaluation
from tests.factories import SellerFactory
from tests.metrics.test_runs import given_completed_orders, given_policy, levels_of

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SEP, OCT = Period(2026, 9), Period(2026, 10)


@pytest.fixture
def small_chunks(settings):
    settings.EVALUATION_CHUNK_SIZE = 2


def given_sellers(count: int):
    sellers = SellerFactory.create_batch(count, user=None)
    for seller in sellers:
        given_completed_orders(seller, count=1, at="2026-10-05 10:00")
    return sellers


def test_prepare_cuts_the_sellers_into_chunks_by_key(small_chunks):
    given_policy()
    sellers = given_sellers(5)
    run = runs.start_run(period=OCT, trigger="manual")

    pending = runs.prepare_run(run_id=run.pk)

    assert pending == [0, 1, 2]
    chunks = list(RunChunk.objects.filter(run=run).values_list("seller_count", flat=True))
    assert chunks == [2, 2, 1]
    run.refresh_from_db()
    assert (run.status, run.chunks_total) == (RunStatus.RUNNING, 3)
    first = RunChunk.objects.get(run=run, index=0)
    assert (first.first_seller_id, first.last_seller_id) == (sellers[0].pk, sellers[1].pk)


def test_nothing_is_published_until_the_last_chunk_is_staged(small_chunks):
    given_policy()
    given_completed_orders(SellerFactory(user=None), count=1, at="2026-10-05 10:00")
    runs.evaluate_period(period=OCT)  # the results a reader sees meanwhile
    given_sellers(3)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)

    assert runs.compute_chunk(run_id=run.pk, index=0) is False
    assert runs.finalize_run(run_id=run.pk).status == RunStatus.RUNNING  # not ready: no-op

    assert SellerEvaluation.objects.filter(period="2026-10").count() == 1  # the old result
    assert StagedEvaluation.objects.filter(run=run).count() == 2
    assert runs.compute_chunk(run_id=run.pk, index=1) is True
    assert runs.finalize_run(run_id=run.pk).status == RunStatus.SUCCEEDED
    assert SellerEvaluation.objects.filter(period="2026-10").count() == 4
    assert not StagedEvaluation.objects.filter(run=run).exists()  # working rows are gone


def test_a_chunk_delivered_twice_stages_each_seller_once(small_chunks):
    given_policy()
    given_sellers(4)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)

    runs.compute_chunk(run_id=run.pk, index=0)
    RunChunk.objects.filter(run=run, index=0).update(done_at=None)  # as if never marked done
    runs.compute_chunk(run_id=run.pk, index=0)
    runs.compute_chunk(run_id=run.pk, index=0)
    runs.compute_chunk(run_id=run.pk, index=1)
    done = runs.finalize_run(run_id=run.pk)

    assert StagedEvaluation.objects.filter(run=run).count() == 0
    assert SellerEvaluation.objects.filter(run=done).count() == 4
    assert done.seller_count == 4
    # A chunk redelivered after the publication changes nothing.
    assert runs.compute_chunk(run_id=run.pk, index=0) is False
    assert SellerEvaluation.objects.filter(run=done).count() == 4


def test_progress_is_reported_while_the_run_is_under_way(small_chunks, staff_client):
    given_policy()
    given_sellers(5)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)
    runs.compute_chunk(run_id=run.pk, index=2)

    body = staff_client.get(f"/api/v1/evaluations/{run.pk}").json()

    assert body["status"] == "running"
    assert body["progress"] == {"chunks_done": 1, "chunks_total": 3, "sellers_done": 1}


def test_the_run_list_reports_progress_without_a_query_per_run(
    staff_client, django_assert_max_num_queries
):
    given_policy()
    given_sellers(2)
    runs.evaluate_period(period=SEP)
    runs.evaluate_period(period=OCT)

    # token and user, the staff user's model permissions, the count, the page with progress
    with django_assert_max_num_queries(4):
        body = staff_client.get("/api/v1/evaluations").json()

    assert [run["progress"] for run in body["results"]] == [
        {"chunks_done": 1, "chunks_total": 1, "sellers_done": 2}
    ] * 2


def test_a_retried_run_redoes_only_the_chunks_not_done(small_chunks):
    given_policy()
    given_sellers(5)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)
    runs.compute_chunk(run_id=run.pk, index=1)

    assert runs.prepare_run(run_id=run.pk) == [0, 2]  # a takeover: the same chunks, not redone


def test_the_eager_task_runs_the_whole_fan_out_in_process(small_chunks):
    given_policy()
    given_sellers(5)
    run = runs.start_run(period=OCT, trigger="manual")

    assert tasks.evaluate_run.delay(run.pk).get() == "succeeded"
    assert levels_of(OCT) and set(levels_of(OCT).values()) == {"Silver"}
    assert RunChunk.objects.filter(run=run, done_at__isnull=False).count() == 3


def test_a_run_of_no_sellers_succeeds_with_no_chunks():
    given_policy()
    run = runs.start_run(period=OCT, trigger="manual")

    assert tasks.evaluate_run.delay(run.pk).get() == "succeeded"
    run.refresh_from_db()
    assert (run.chunks_total, run.seller_count) == (0, 0)


def test_a_run_whose_lease_expired_is_requeued_once(django_capture_on_commit_callbacks):
    given_policy()
    given_sellers(2)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)
    EvaluationRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stale_runs.delay().get() == [run.pk]
    assert tasks.sweep_stale_runs.delay().get() == []  # finished: nothing stale any more

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert SellerEvaluation.objects.filter(run=run).count() == 2


def test_a_run_under_a_live_lease_is_not_requeued():
    given_policy()
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)  # its worker's lease, now

    assert runs.expired_runs() == []
    assert runs.requeue_expired_runs(period=OCT) == []


def test_level_names_with_quotes_commas_and_backslashes_survive_staging():
    policy = given_policy()
    policy.levels.filter(name="Silver").update(name='Pro, "Top" \\N')
    given_sellers(2)

    outcome = runs.evaluate_period(period=OCT)

    assert set(levels_of(OCT).values()) == {'Pro, "Top" \\N'}
    assert outcome.level_counts['Pro, "Top" \\N'] == 2


def test_admin_lists_runs_with_their_progress(admin_client, small_chunks):
    given_policy()
    given_sellers(5)
    run = runs.start_run(period=OCT, trigger="manual")
    runs.prepare_run(run_id=run.pk)
    runs.compute_chunk(run_id=run.pk, index=0)

    page = admin_client.get("/admin/metrics/evaluationrun/").content.decode()

    assert "1/3 chunks, 2 sellers" in page


def test_a_correction_run_re_evaluates_its_sellers_and_keeps_the_others_results(small_chunks):
    """The lease, chunks and publication of a correction run (issue 22 builds appeals on it):
    only its sellers are cut into chunks and their rows replaced."""
    policy = given_policy()
    sellers = given_sellers(3)
    runs.evaluate_period(period=OCT)
    first = dict(SellerEvaluation.objects.filter(period="2026-10").values_list("seller_id", "run"))
    policy.levels.filter(name="Silver").update(name="Silver2")

    run = runs.start_run(
        period=OCT, trigger="manual", kind="correction", seller_ids=[sellers[1].pk]
    )
    done = runs.execute_run(run_id=run.pk)

    assert (done.status, done.chunks_total, done.seller_count) == (RunStatus.SUCCEEDED, 1, 1)
    assert levels_of(OCT) == {
        sellers[0].external_id: "Silver",
        sellers[1].external_id: "Silver2",
        sellers[2].external_id: "Silver",
    }
    kept = dict(SellerEvaluation.objects.filter(period="2026-10").values_list("seller_id", "run"))
    assert kept == {**first, sellers[1].pk: run.pk}


def test_a_run_names_its_sellers_only_when_it_is_a_correction():
    with pytest.raises(ValueError, match="correction run names its sellers"):
        runs.start_run(period=OCT, trigger="manual", kind="correction")
    with pytest.raises(ValueError, match="correction run names its sellers"):
        runs.start_run(period=OCT, trigger="manual", seller_ids=[1])
