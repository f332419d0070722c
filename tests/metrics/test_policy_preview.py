"""POST /api/v1/policy/preview and admin's preview-impact page (SPEC §7, §8; issue 12): a draft
policy's counts per level and movers for the last evaluated period, nothing saved; the counts
equal what a real run under the draft then stores."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import TestCase
from django.utils import timezone

from metrics import tasks
from metrics.models import EvaluationRun, GradePolicy, PolicyPreview, RunStatus, SellerEvaluation
from metrics.policy.presets import PRESETS_DIR
from metrics.policy.services import active_policy, create_draft_policy
from tests.api_helpers import evaluate, grade_of, push_policy
from tests.metrics.preset_scenarios import Profile, push_world, ratings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_2027_01_15")]

URL = "/api/v1/policy/preview"
PERIOD = "2026-12"


def preset_policy(name: str) -> dict:
    return json.loads((PRESETS_DIR / f"{name}.json").read_text(encoding="utf-8"))["policy"]


def world() -> dict[str, Profile]:
    """Sellers that the default (Kmong) policy and the presets grade differently."""
    response: dict[str, Any] = {"answered": 9, "unanswered": 1}
    return {
        # Kmong Level 2 (15 orders, 4.8, 95 %); Etsy Star Seller; Airbnb Superhost.
        "busy": Profile(
            completed=15, amount="100", ratings=ratings(five=8, four=2), answered=19, unanswered=1
        ),
        # Kmong Level 1 (4.6); Etsy Seller (rating); Airbnb Host.
        "rated-low": Profile(completed=15, ratings=ratings(five=6, four=4), **response),
        # Active in May only: outside a 3-month window, inside Airbnb's 12 months.
        "may-only": Profile(completed=12, ratings=ratings(five=10), month="2026-05", **response),
        "idle": Profile(),
    }


def preview(staff_client, body: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return staff_client.post(URL, body, format="json")


def saved_state() -> tuple:
    return (
        active_policy().pk,
        GradePolicy.objects.count(),
        list(SellerEvaluation.objects.order_by("id").values_list("id", "level")),
        EvaluationRun.objects.count(),
    )


def levels(staff_client, sellers) -> dict[str, str | None]:
    return {seller: grade_of(staff_client, seller)["level"] for seller in sellers}


def real_run(staff_client, policy: dict) -> tuple[dict, dict]:
    """Make ``policy`` active and re-run the period: (its level_counts, each seller's level)."""
    push_policy(staff_client, policy)
    run = evaluate(staff_client, PERIOD)
    return run["level_counts"], levels(staff_client, world())


def test_same_windows_regrades_the_stored_metrics_like_a_real_run(staff_client):
    push_world(staff_client, world())
    first = evaluate(staff_client, PERIOD)
    before = levels(staff_client, world())
    state = saved_state()
    draft = preset_policy("etsy_star_seller")  # 3 months, 24 h: the default's windows

    response = preview(staff_client, draft)

    assert response.status_code == 200, response.content
    body = response.json()
    assert saved_state() == state  # nothing saved, the active policy untouched
    assert not PolicyPreview.objects.exists()
    assert body["period"] == PERIOD
    assert body["current"] == {"level_counts": first["level_counts"]}
    counts, after = real_run(staff_client, draft)
    assert body["draft"] == {"level_counts": counts}
    assert body["movers"] == [
        {"seller": seller, "from": before[seller], "to": after[seller]}
        for seller in sorted(after)
        if before[seller] != after[seller]
    ]
    # The Etsy levels are not Kmong's and each program's lowest level has no criteria: every
    # seller has a level under both, so every seller moves.
    assert {m["seller"] for m in body["movers"]} == set(after)


def test_other_windows_recompute_the_metrics_in_a_task_like_a_real_run(staff_client):
    push_world(staff_client, world())
    evaluate(staff_client, PERIOD)
    before = levels(staff_client, world())
    state = saved_state()
    draft = preset_policy("airbnb_superhost")  # 12 months: the stored metrics do not fit

    response = preview(staff_client, draft)

    assert response.status_code == 202, response.content
    assert set(response.json()) == {"id", "status"}
    result = staff_client.get(f"{URL}/{response.json()['id']}")
    assert result.status_code == 200
    body = result.json()
    assert body["status"] == "succeeded", body
    assert saved_state() == state
    counts, after = real_run(staff_client, draft)
    assert body["draft"] == {"level_counts": counts}
    assert body["movers"] == [
        {"seller": seller, "from": before[seller], "to": after[seller]}
        for seller in sorted(after)
        if before[seller] != after[seller]
    ]
    # Only a recomputation over 12 months sees May's orders.
    assert {"seller": "may-only", "from": "Level 1", "to": "Superhost"} in body["movers"]


def test_a_draft_is_validated_like_put(staff_client):
    push_world(staff_client, {"idle": Profile()})
    evaluate(staff_client, PERIOD)
    state = saved_state()
    draft = preset_policy("kmong")
    draft["levels"][1]["criteria"][3]["value"] = 120
    draft["levels"][2]["criteria"][0]["metric"] = "followers"

    response = preview(staff_client, draft)

    assert response.status_code == 400
    errors = response.json()
    assert "is a rate" in errors["levels[1].criteria[3].value"][0]
    assert "Unknown metric 'followers'" in errors["levels[2].criteria[0].metric"][0]
    assert preview(staff_client, ["not", "a", "policy"]).status_code == 400
    assert saved_state() == state


def test_no_evaluated_period_is_a_conflict(staff_client):
    response = preview(staff_client, preset_policy("kmong"))
    assert response.status_code == 409
    assert "No period has been evaluated yet" in response.json()["detail"]


def test_preview_is_staff_only(api_client, seller_client, staff_client):
    assert api_client.post(URL, preset_policy("kmong"), format="json").status_code == 401
    assert seller_client.post(URL, preset_policy("kmong"), format="json").status_code == 403
    assert seller_client.get(f"{URL}/{uuid.uuid4()}").status_code == 403
    assert staff_client.get(f"{URL}/424242").status_code == 404


def test_admin_preview_impact_page_lists_counts_and_movers(
    admin_client, staff_client, django_capture_on_commit_callbacks
):
    """Other windows: the page hands the recomputation to the preview task (the API's) and
    shows its answer; with eager tasks it is there at once."""
    push_world(staff_client, world())
    evaluate(staff_client, PERIOD)
    draft = create_draft_policy(data=preset_policy("airbnb_superhost"), actor=None)
    previews = PolicyPreview.objects.count()
    state = saved_state()

    with django_capture_on_commit_callbacks(execute=True):
        queued = admin_client.get(f"/admin/metrics/gradepolicy/{draft.pk}/preview/")
    job = PolicyPreview.objects.get()
    page = admin_client.get(queued["Location"])

    text = page.content.decode()
    assert queued.status_code == 302 and queued["Location"].endswith(f"?job={job.pk}")
    assert previews == 0 and job.status == "succeeded"
    assert page.status_code == 200
    assert "the metrics were\n    recomputed for its windows" in text
    assert "<tr><td>Superhost</td><td>0</td><td>2</td></tr>" in text
    assert "<td>may-only</td><td>Level 1</td><td>Superhost</td>" in text
    assert saved_state() == state


def test_admin_preview_page_waits_for_a_job_still_computing(admin_client):
    job = PolicyPreview.objects.create(period="2026-12", draft={}, status=RunStatus.RUNNING)

    page = admin_client.get(
        f"/admin/metrics/gradepolicy/{active_policy().pk}/preview/?job={job.pk}"
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="computing"' in text and '<meta http-equiv="refresh" content="3">' in text
    assert (
        admin_client.get(
            f"/admin/metrics/gradepolicy/{active_policy().pk}/preview/?job=x"
        ).status_code
        == 404
    )


def test_admin_preview_page_without_a_run_says_so(admin_client):
    page = admin_client.get(f"/admin/metrics/gradepolicy/{active_policy().pk}/preview/")
    assert page.status_code == 200
    assert "No period has been evaluated yet" in page.content.decode()


def test_regrading_reads_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    push_world(staff_client, {f"idle-{i:02d}": Profile(completed=i % 3) for i in range(40)})
    evaluate(staff_client, PERIOD)
    draft = preset_policy("etsy_star_seller")
    # auth, the run, the draft validated (no query), stored levels, per chunk: held levels and
    # the metrics; whatever the number of sellers.
    with django_assert_max_num_queries(8):
        response = preview(staff_client, draft)
    assert response.status_code == 200
    assert sum(response.json()["draft"]["level_counts"].values()) == 40


def test_the_policy_page_links_to_its_preview(admin_client):
    policy = active_policy()
    page = admin_client.get(f"/admin/metrics/gradepolicy/{policy.pk}/change/").content.decode()
    assert f'href="/admin/metrics/gradepolicy/{policy.pk}/preview/"' in page


def test_the_sweep_fails_stuck_previews_and_deletes_old_ones(settings):
    now = timezone.now()
    stuck_after = timedelta(seconds=settings.EVALUATION_DEADLINE_SECONDS)
    keep = timedelta(days=settings.POLICY_PREVIEW_KEEP_DAYS)

    def job(age: timedelta, status: str) -> PolicyPreview:
        with time_machine.travel(now - age, tick=False):
            return PolicyPreview.objects.create(period="2026-12", draft={}, status=status)

    lost = job(stuck_after + timedelta(seconds=1), RunStatus.PENDING)
    busy = job(stuck_after - timedelta(seconds=1), RunStatus.RUNNING)
    old = job(keep + timedelta(seconds=1), RunStatus.SUCCEEDED)
    kept = job(keep - timedelta(seconds=1), RunStatus.SUCCEEDED)

    with time_machine.travel(now, tick=False):
        tasks.sweep_stale_runs.delay().get()

    assert not PolicyPreview.objects.filter(pk=old.pk).exists()
    states = dict(PolicyPreview.objects.values_list("pk", "status"))
    assert states == {
        lost.pk: RunStatus.FAILED,
        busy.pk: RunStatus.RUNNING,
        kept.pk: RunStatus.SUCCEEDED,
    }
    assert PolicyPreview.objects.get(pk=lost.pk).error.startswith("Stuck:")
