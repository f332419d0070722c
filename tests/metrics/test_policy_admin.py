"""Django admin for grade policies (SPEC §5, §8): the whole policy is validated on every save."""

from typing import Any

import pytest
from django.test import Client

from metrics.models import Criterion, EvaluationRun, GradeLevel, GradePolicy, SellerEvaluation
from metrics.policy.services import active_policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

POLICIES = "/admin/metrics/gradepolicy/"
LEVELS = "/admin/metrics/gradelevel/"


@pytest.fixture
def admin_client() -> Client:
    user: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def policy_form(**fields: str) -> dict:
    """The add form of a policy with two levels, as the browser posts it."""
    data = {
        "name": "Draft",
        "window_months": "3",
        "window_days": "",
        "response_window_hours": "24",
        "demotion_grace_months": "0",
        "levels-TOTAL_FORMS": "2",
        "levels-INITIAL_FORMS": "0",
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
        "levels-0-name": "Base",
        "levels-0-rank": "1",
        "levels-1-name": "Pro",
        "levels-1-rank": "2",
        "_save": "Save",
    }
    data.update(fields)
    return data


def given_draft_policy() -> tuple[GradePolicy, GradeLevel]:
    policy = GradePolicy.objects.create(name="Draft", is_active=False)
    GradeLevel.objects.create(policy=policy, name="Base", rank=1)
    pro = GradeLevel.objects.create(policy=policy, name="Pro", rank=2)
    return policy, pro


def criteria_form(level: GradeLevel, **fields: str) -> dict:
    data = {
        "name": level.name,
        "rank": str(level.rank),
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "criteria-0-metric": "response_rate",
        "criteria-0-op": ">=",
        "criteria-0-value": "90",
        "criteria-0-any_of": "",
        "_save": "Save",
    }
    data.update(fields)
    return data


def test_coherent_policy_is_saved_inactive_with_its_levels(admin_client):
    response = admin_client.post(f"{POLICIES}add/", policy_form())
    assert response.status_code == 302
    draft = GradePolicy.objects.get(name="Draft")
    assert draft.is_active is False
    assert list(draft.levels.order_by("rank").values_list("name", flat=True)) == ["Base", "Pro"]
    assert active_policy().name == "Kmong default"


def test_policy_with_both_window_fields_empty_is_rejected_and_nothing_saved(admin_client):
    response = admin_client.post(f"{POLICIES}add/", policy_form(window_months=""))
    assert response.status_code == 200
    assert "both are empty" in response.content.decode()
    assert not GradePolicy.objects.filter(name="Draft").exists()


def test_policy_without_levels_is_rejected(admin_client):
    response = admin_client.post(f"{POLICIES}add/", policy_form(**{"levels-TOTAL_FORMS": "0"}))
    assert response.status_code == 200
    assert "A policy needs at least one level." in response.content.decode()
    assert not GradePolicy.objects.filter(name="Draft").exists()


def test_policy_with_duplicate_level_names_is_rejected(admin_client):
    response = admin_client.post(f"{POLICIES}add/", policy_form(**{"levels-1-name": "base"}))
    assert response.status_code == 200
    assert "Duplicate level name" in response.content.decode()
    assert not GradePolicy.objects.filter(name="Draft").exists()


def test_policy_with_duplicate_level_ranks_is_rejected(admin_client):
    response = admin_client.post(f"{POLICIES}add/", policy_form(**{"levels-1-rank": "1"}))
    assert response.status_code == 200
    assert "rank" in response.content.decode()
    assert not GradePolicy.objects.filter(name="Draft").exists()


def test_saving_with_make_active_deactivates_the_previous_policy(admin_client):
    old = active_policy()
    response = admin_client.post(f"{POLICIES}add/", policy_form(make_active="on"))
    assert response.status_code == 302
    old.refresh_from_db()
    assert (old.is_active, active_policy().name) == (False, "Draft")


def test_criterion_with_a_rate_above_100_is_rejected_on_the_level_page(admin_client):
    _, pro = given_draft_policy()
    response = admin_client.post(
        f"{LEVELS}{pro.pk}/change/", criteria_form(pro, **{"criteria-0-value": "120"})
    )
    assert response.status_code == 200
    assert "response_rate is a rate" in response.content.decode()
    assert not Criterion.objects.filter(level=pro).exists()


def test_criterion_with_an_unknown_metric_is_rejected(admin_client):
    _, pro = given_draft_policy()
    response = admin_client.post(
        f"{LEVELS}{pro.pk}/change/", criteria_form(pro, **{"criteria-0-metric": "karma"})
    )
    assert response.status_code == 200
    assert not Criterion.objects.filter(level=pro).exists()


def test_coherent_criterion_is_saved_on_the_level_page(admin_client):
    _, pro = given_draft_policy()
    response = admin_client.post(f"{LEVELS}{pro.pk}/change/", criteria_form(pro))
    assert response.status_code == 302
    saved = Criterion.objects.get(level=pro)
    assert (saved.metric, saved.op, str(saved.value)) == ("response_rate", ">=", "90.0000")


def test_level_rank_clashing_with_a_sibling_is_rejected_on_the_level_page(admin_client):
    _, pro = given_draft_policy()
    response = admin_client.post(f"{LEVELS}{pro.pk}/change/", criteria_form(pro, rank="1"))
    assert response.status_code == 200
    assert "Duplicate rank 1" in response.content.decode()
    pro.refresh_from_db()
    assert pro.rank == 2


def test_policy_used_by_a_run_is_read_only(admin_client):
    used = active_policy()
    EvaluationRun.objects.create(period="2026-10", policy=used, status="succeeded")
    page = admin_client.get(f"{POLICIES}{used.pk}/change/")
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()
    assert admin_client.post(f"{POLICIES}{used.pk}/change/", policy_form()).status_code == 403
    assert admin_client.get(f"{POLICIES}{used.pk}/delete/").status_code == 403
    level = used.levels.get(name="Level 2")
    assert admin_client.post(f"{LEVELS}{level.pk}/change/", criteria_form(level)).status_code == 403


def test_active_policy_cannot_be_deleted(admin_client):
    assert admin_client.get(f"{POLICIES}{active_policy().pk}/delete/").status_code == 403


def test_activate_action_switches_the_active_policy(admin_client):
    old = active_policy()
    draft, _ = given_draft_policy()
    response = admin_client.post(
        POLICIES, {"action": "activate_selected", "_selected_action": [str(draft.pk)]}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    draft.refresh_from_db()
    assert (old.is_active, draft.is_active) == (False, True)


def test_duplicate_action_creates_an_editable_draft(admin_client):
    old = active_policy()
    admin_client.post(POLICIES, {"action": "duplicate_as_draft", "_selected_action": [str(old.pk)]})
    copy = GradePolicy.objects.get(name="Copy of Kmong default")
    assert copy.is_active is False
    assert copy.levels.count() == 4
    assert admin_client.get(f"{POLICIES}{copy.pk}/change/").status_code == 200


def test_policy_pages_render(admin_client):
    policy = active_policy()
    level = policy.levels.get(name="Level 2")
    for url in [
        POLICIES,
        f"{POLICIES}add/",
        f"{POLICIES}{policy.pk}/change/",
        LEVELS,
        f"{LEVELS}{level.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_evaluation_lists_are_read_only_with_filters_and_search(admin_client, seller):
    run = EvaluationRun.objects.create(period="2026-10", policy=active_policy(), status="succeeded")
    evaluation = SellerEvaluation.objects.create(
        run=run, seller=seller, period="2026-10", level="Level 1", level_rank=1
    )
    runs = admin_client.get("/admin/metrics/evaluationrun/?status=succeeded&period=2026-10")
    assert runs.status_code == 200
    assert "2026-10" in runs.content.decode()
    found = admin_client.get(
        f"/admin/metrics/sellerevaluation/?q={seller.external_id}&level=Level+1"
    )
    assert found.status_code == 200
    assert seller.external_id in found.content.decode()
    detail = admin_client.get(f"/admin/metrics/sellerevaluation/{evaluation.pk}/change/")
    assert detail.status_code == 200
    assert 'name="level"' not in detail.content.decode()
    assert admin_client.get("/admin/metrics/evaluationrun/add/").status_code == 403


def test_rerun_action_starts_a_new_run_of_the_period(admin_client):
    EvaluationRun.objects.create(period="2026-09", policy=active_policy(), status="succeeded")
    first = EvaluationRun.objects.get(period="2026-09")
    response = admin_client.post(
        "/admin/metrics/evaluationrun/",
        {"action": "rerun_periods", "_selected_action": [str(first.pk)]},
    )
    assert response.status_code == 302
    assert EvaluationRun.objects.filter(period="2026-09").count() == 2


def test_preview_impact_action_opens_the_preview_page(admin_client, seller):
    run = EvaluationRun.objects.create(period="2026-10", policy=active_policy(), status="succeeded")
    SellerEvaluation.objects.create(
        run=run, seller=seller, period="2026-10", level="Level 2", level_rank=2, metrics={}
    )
    response = admin_client.post(
        POLICIES,
        {"action": "preview_impact_of_selected", "_selected_action": [str(active_policy().pk)]},
        follow=True,
    )
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == f"{POLICIES}{active_policy().pk}/preview/"
    assert "0</strong> would move up, <strong>1</strong> down" in text
    assert f"<td>{seller.external_id}</td><td>Level 2</td><td>Level 1</td>" in text


# --- per-criterion windows and the score (SPEC §5) --------------------------------------------


def test_a_criterion_window_is_saved_on_the_level_page(admin_client):
    _, pro = given_draft_policy()
    form = criteria_form(pro, **{"criteria-0-window_days": "7"})
    response = admin_client.post(f"{LEVELS}{pro.pk}/change/", form)
    assert response.status_code == 302
    assert Criterion.objects.get(level=pro).window_days == 7


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"criteria-0-window_days": "3651"}, "3650"),
        ({"criteria-0-window_days": "0"}, "1"),
        (
            {
                "criteria-0-metric": "success_score",
                "criteria-0-value": "50",
                "criteria-0-window_days": "7",
            },
            "success_score is made of the policy-window values",
        ),
    ],
)
def test_an_incoherent_criterion_window_is_refused_on_the_level_page(
    admin_client, fields, fragment
):
    _, pro = given_draft_policy()
    response = admin_client.post(f"{LEVELS}{pro.pk}/change/", criteria_form(pro, **fields))
    assert response.status_code == 200
    assert fragment in response.content.decode()
    assert not Criterion.objects.filter(level=pro).exists()


def test_a_score_is_saved_with_the_policy(admin_client):
    score = '[{"metric": "response_rate", "weight": 30, "zero": 50, "full": 100}]'
    response = admin_client.post(f"{POLICIES}add/", policy_form(score=score))
    assert response.status_code == 302
    saved = GradePolicy.objects.get(name="Draft")
    assert saved.score == [{"metric": "response_rate", "weight": 30, "zero": 50, "full": 100}]


@pytest.mark.parametrize(
    ("score", "message"),
    [
        (
            '[{"metric": "response_rate", "weight": 1, "zero": 90, "full": 90}]',
            "Score › part #1 › full: zero and full must differ",
        ),
        (
            '[{"metric": "response_rate", "weight": 0, "zero": 0, "full": 100}]',
            "Score › part #1 › weight: The weight must be above 0",
        ),
        (
            '[{"metric": "success_score", "weight": 1, "zero": 0, "full": 100}]',
            "Score › part #1 › metric: The score cannot be made of itself",
        ),
        ('{"metric": "response_rate"}', "Score: Must be a list"),
    ],
)
def test_an_incoherent_score_is_refused_with_its_place(admin_client, score, message):
    response = admin_client.post(f"{POLICIES}add/", policy_form(score=score))
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert not GradePolicy.objects.filter(name="Draft").exists()
