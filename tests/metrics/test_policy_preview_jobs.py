"""Preview jobs bounded and private (issue 20, findings 4-5): a user's identical draft shares
its fresh job, a per-user limit of jobs computing (429), a job readable by its creator and
superusers only (404), random ids, the window bounded; the tuning page checks the policy's
permissions and queues another-window draft instead of recomputing inside its GET."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client, TestCase

from metrics.engine.periods import Period
from metrics.models import PolicyPreview
from metrics.policy.preview import run_preview_job
from metrics.runs import evaluate_period
from tests.api_helpers import grant_api_permissions, token_client
from tests.factories import SellerFactory, UserFactory, aware
from tests.metrics.test_runs import given_completed_orders, given_policy

pytestmark = pytest.mark.django_db

URL = "/api/v1/policy/preview"


@pytest.fixture
def clock():
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def a_run(clock):
    """given_policy (one month's window) used by the 2026-10 run of one Silver seller."""
    policy = given_policy()
    given_completed_orders(SellerFactory(), count=2, at="2026-10-10 10:00")
    evaluate_period(period=Period.parse("2026-10"))
    return policy


def staff(name: str, *, superuser: bool = False, api: bool = True) -> Any:
    """A staff login, with the API's model permissions unless ``api`` is False (issue 19:
    staff are held to them)."""
    user = UserFactory(username=name, is_staff=True, is_superuser=superuser)
    return grant_api_permissions(user) if api else user


def draft(staff_client, *, window_days: int) -> dict[str, Any]:
    """The active policy (as GET /api/v1/policy shows it) with another window."""
    body = staff_client.get("/api/v1/policy").json()
    return {**body, "name": f"Draft {window_days}", "window_days": window_days}


def post(client, body: dict[str, Any], *, run_jobs: bool = False) -> Any:
    """POST a draft; with ``run_jobs`` the queued job runs at the commit (eager tasks), else it
    stays pending, as while a worker computes it."""
    with TestCase.captureOnCommitCallbacks(execute=run_jobs):
        return client.post(URL, body, format="json")


def test_the_same_draft_posted_again_gets_the_same_fresh_job(a_run, clock, settings):
    settings.POLICY_PREVIEW_FRESH_SECONDS = 600
    client = token_client(staff("kim"))
    body = draft(client, window_days=30)

    first = post(client, body)
    again = post(client, body)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert PolicyPreview.objects.count() == 1

    clock.shift(timedelta(seconds=601))  # no longer fresh: computed again
    later = post(client, body)
    assert later.json()["id"] != first.json()["id"]


def test_a_user_past_the_limit_of_jobs_computing_gets_429(a_run, settings):
    settings.POLICY_PREVIEW_MAX_OPEN_PER_USER = 2
    kim, lee = token_client(staff("kim")), token_client(staff("lee"))

    answers = [post(kim, draft(kim, window_days=days)).status_code for days in (30, 40, 50)]

    assert answers == [202, 202, 429]
    assert PolicyPreview.objects.count() == 2
    assert post(lee, draft(lee, window_days=60)).status_code == 202  # a limit per user


def test_a_finished_job_frees_its_place(a_run, settings):
    settings.POLICY_PREVIEW_MAX_OPEN_PER_USER = 1
    kim = token_client(staff("kim"))

    assert post(kim, draft(kim, window_days=30), run_jobs=True).status_code == 202
    assert post(kim, draft(kim, window_days=40)).status_code == 202


def test_a_job_is_readable_by_its_creator_and_superusers_only(a_run):
    kim, lee = staff("kim"), staff("lee")
    root = staff("root", superuser=True)
    job = post(token_client(kim), draft(token_client(kim), window_days=30), run_jobs=True)
    job_id = job.json()["id"]

    assert token_client(kim).get(f"{URL}/{job_id}").json()["status"] == "succeeded"
    assert token_client(root).get(f"{URL}/{job_id}").status_code == 200
    assert token_client(lee).get(f"{URL}/{job_id}").status_code == 404
    assert token_client(lee).get(f"{URL}/{uuid.uuid4()}").status_code == 404  # alike
    lee_in_admin = Client()
    lee.user_permissions.add(Permission.objects.get(codename="view_gradepolicy"))
    lee_in_admin.force_login(lee)
    page = lee_in_admin.get(f"/admin/metrics/gradepolicy/{a_run.pk}/preview/?job={job_id}")
    assert page.status_code == 404


def test_job_ids_are_random_uuids(a_run):
    kim = token_client(staff("kim"))
    ids = [post(kim, draft(kim, window_days=days)).json()["id"] for days in (30, 40)]

    assert [uuid.UUID(value).version for value in ids] == [4, 4]
    assert token_client(staff("lee")).get(f"{URL}/1").status_code == 404


@pytest.mark.parametrize("window_days", [3651, 32767])
def test_a_window_past_ten_years_is_refused_as_in_admin(a_run, window_days):
    kim = token_client(staff("kim"))

    response = post(kim, draft(kim, window_days=window_days))

    assert response.status_code == 400
    assert "window_days" in response.json()
    assert not PolicyPreview.objects.exists()


# --- the tuning page ----------------------------------------------------------------------


def tune_url(policy) -> str:
    return f"/admin/metrics/gradepolicy/{policy.pk}/tune/"


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_staff_user_without_the_policys_view_permission_is_refused(a_run):
    nobody = browser_of(staff("nobody", api=False))

    page = nobody.get(tune_url(a_run))

    assert page.status_code == 403
    assert b"Silver" not in page.content


def test_the_view_permission_shows_the_page_but_saving_needs_change(a_run):
    viewer = staff("viewer", api=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_gradepolicy"))
    client = browser_of(viewer)

    assert client.get(tune_url(a_run)).status_code == 200
    assert client.post(tune_url(a_run), {}).status_code == 403


def test_another_window_draft_is_queued_not_recomputed_in_the_request(a_run):
    root = browser_of(staff("root", superuser=True))
    a_run.window_days = 30  # the run used one month: its stored metrics do not fit
    a_run.save(update_fields=["window_days"])

    with TestCase.captureOnCommitCallbacks(execute=False):
        page = root.get(tune_url(a_run))
        again = root.get(tune_url(a_run))

    assert page.status_code == 200 and page.context["impact"] is None
    assert b'id="impact-computing"' in page.content
    [job] = PolicyPreview.objects.all()  # the reload shared the job
    assert again.context["impact_job"] == job and job.status == "pending"

    run_preview_job(preview_id=job.pk)  # the worker's part
    done = root.get(tune_url(a_run))
    assert done.context["impact"].recomputed and done.context["impact"].sellers == 1


def test_a_recomputed_preview_names_the_criteria_that_flipped(a_run):
    # given the run's policy with a 7-day window instead of its month: the seller's two orders
    # of October 10 fall outside it, so it would move from Silver to Bronze
    root = browser_of(staff("root", superuser=True))
    a_run.window_days = 7
    a_run.save(update_fields=["window_days"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        queued = root.get(f"/admin/metrics/gradepolicy/{a_run.pk}/preview/")

    page = root.get(queued["Location"], HTTP_ACCEPT_LANGUAGE="en")

    [mover] = page.context["movers"]
    assert (mover["from"], mover["to"]) == ("Silver", "Bronze")
    assert len(mover["flipped"]) == 1 and mover["flipped"][0].endswith("✗")
    assert b"(recomputed for other windows)" not in page.content
