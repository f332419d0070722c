"""One-page threshold tuning in admin (issue 11): a draft's levels and criteria on one page,
validated as a whole, its impact on the last run beside them, and activation from there."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from metrics.engine.periods import Period
from metrics.models import Criterion, GradePolicy
from metrics.policy.services import duplicate_policy, policy_data
from metrics.runs import evaluate_period
from tests.factories import SellerFactory, UserFactory, aware
from tests.metrics.test_runs import given_completed_orders, given_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def tune_url(policy: GradePolicy) -> str:
    return f"/admin/metrics/gradepolicy/{policy.pk}/tune/"


def rows(levels: list[tuple[str, int]], criteria: list[tuple], **extra: str) -> dict[str, str]:
    """The tuning form as the browser posts it: every level and criterion row."""
    data = {
        "level-TOTAL_FORMS": str(len(levels)),
        "level-INITIAL_FORMS": str(len(levels)),
        "level-MIN_NUM_FORMS": "0",
        "level-MAX_NUM_FORMS": "1000",
        "criterion-TOTAL_FORMS": str(len(criteria)),
        "criterion-INITIAL_FORMS": "0",
        "criterion-MIN_NUM_FORMS": "0",
        "criterion-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for i, (name, rank) in enumerate(levels):
        data |= {f"level-{i}-name": name, f"level-{i}-rank": str(rank)}
    for i, (level, metric, op, value, any_of) in enumerate(criteria):
        data |= {
            f"criterion-{i}-level": level,
            f"criterion-{i}-metric": metric,
            f"criterion-{i}-op": op,
            f"criterion-{i}-value": str(value),
            f"criterion-{i}-any_of": any_of,
        }
    return data


LEVELS = [("Bronze", 1), ("Silver", 2), ("Gold", 3)]


@pytest.fixture
def draft_after_a_run():
    """given_policy (Silver ≥ 1 order in the month, Gold ≥ 3) used by the 2026-10 run, where
    one seller completed 2 orders (Silver); and an unused draft copy of it."""
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        used = given_policy()
        given_completed_orders(SellerFactory(), count=2, at="2026-10-10 10:00")
        evaluate_period(period=Period.parse("2026-10"))
        return used, duplicate_policy(policy=used, actor=None)


def test_the_page_lists_every_level_and_criterion_and_the_impact(admin_client, draft_after_a_run):
    _, draft = draft_after_a_run
    response = admin_client.get(tune_url(draft))

    assert response.status_code == 200
    levels = response.context["level_rows"].initial
    criteria = response.context["criterion_rows"].initial
    assert [(lvl["name"], lvl["rank"]) for lvl in levels] == LEVELS
    assert [(c["level"], c["metric"], c["value"]) for c in criteria] == [
        ("Silver", "window_completed_orders", "1"),
        ("Gold", "window_completed_orders", "3"),
    ]
    assert 'value="3"' in response.content.decode()
    assert response.context["impact"].up == 0 and response.context["impact"].same == 1


def test_lowering_a_threshold_saves_it_and_shows_the_seller_moving_up(
    admin_client, draft_after_a_run
):
    _, draft = draft_after_a_run
    posted = rows(
        LEVELS,
        [
            ("Silver", "window_completed_orders", ">=", 1, ""),
            ("Gold", "window_completed_orders", ">=", 2, ""),
            ("Gold", "on_time_rate", ">=", 50, ""),
        ],
    )
    saved = admin_client.post(tune_url(draft), posted)
    page = admin_client.get(tune_url(draft))

    assert saved.status_code == 302
    gold = next(lvl for lvl in policy_data(draft)["levels"] if lvl["name"] == "Gold")
    assert [(c["metric"], c["value"]) for c in gold["criteria"]] == [
        ("window_completed_orders", Decimal(2)),
        ("on_time_rate", Decimal(50)),
    ]
    # The seller's 2 orders, delivered on time (the factory's due date is 3 days after
    # creation, delivery 1 day before completion): Silver → Gold.
    assert (page.context["impact"].up, page.context["impact"].down) == (1, 0)
    assert page.context["moves"] == [("Silver", "Gold", 1)]
    assert page.context["level_counts"] == [
        ("Bronze", 0, 0),
        ("Silver", 1, 0),
        ("Gold", 0, 1),
        ("none", 0, 0),
    ]


def test_an_incoherent_draft_is_refused_with_the_reason_and_nothing_changes(
    admin_client, draft_after_a_run
):
    _, draft = draft_after_a_run
    before = policy_data(draft)
    posted = rows(
        LEVELS,
        [("Silver", "response_rate", ">=", 150, ""), ("Platinum", "revenue", ">=", 1, "")],
    )
    refused = admin_client.post(tune_url(draft), posted)

    assert refused.status_code == 200
    assert any("Platinum" in e for e in refused.context["errors"])
    assert policy_data(draft) == before
    posted = rows(LEVELS, [("Silver", "response_rate", ">=", 150, "")])
    refused = admin_client.post(tune_url(draft), posted)
    assert any("Silver" in e and "100" in e for e in refused.context["errors"])
    assert policy_data(draft) == before


def test_save_and_activate_makes_the_draft_the_active_policy(admin_client, draft_after_a_run):
    used, draft = draft_after_a_run
    posted = rows(LEVELS, [("Silver", "window_completed_orders", ">=", 2, "")], _activate="1")
    admin_client.post(tune_url(draft), posted)

    draft.refresh_from_db()
    used.refresh_from_db()
    assert draft.is_active and not used.is_active


def test_a_policy_a_run_used_is_read_only_here(admin_client, draft_after_a_run):
    used, _ = draft_after_a_run
    criteria_before = Criterion.objects.filter(level__policy=used).count()
    page = admin_client.get(tune_url(used))
    posted = admin_client.post(tune_url(used), rows(LEVELS, []))

    assert b'id="frozen"' in page.content and b'name="_activate"' not in page.content
    assert posted.status_code == 200
    assert Criterion.objects.filter(level__policy=used).count() == criteria_before


def test_the_policy_page_links_to_the_tuning_page(admin_client, draft_after_a_run):
    _, draft = draft_after_a_run
    page = admin_client.get(f"/admin/metrics/gradepolicy/{draft.pk}/change/")
    assert f'href="{tune_url(draft)}"'.encode() in page.content


def test_an_unknown_policy_is_a_404(admin_client):
    assert admin_client.get("/admin/metrics/gradepolicy/99999/tune/").status_code == 404


def test_an_incomplete_row_is_marked_and_nothing_is_saved(admin_client, draft_after_a_run):
    _, draft = draft_after_a_run
    before = policy_data(draft)
    posted = rows(LEVELS, [("Silver", "window_completed_orders", ">=", 2, "")])
    posted |= {"criterion-TOTAL_FORMS": "2", "criterion-1-level": "Gold"}  # no metric, no value
    refused = admin_client.post(tune_url(draft), posted)

    assert refused.status_code == 200
    assert refused.context["errors"] == [
        "Some rows are incomplete or invalid: see the fields marked below."
    ]
    assert refused.context["criterion_rows"].forms[1].errors.keys() == {"metric", "op", "value"}
    assert policy_data(draft) == before


def test_the_tuning_page_speaks_korean_to_a_korean_browser(admin_client, draft_after_a_run):
    _, draft = draft_after_a_run
    page = admin_client.get(tune_url(draft), HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "기준값 조정" in page and "최근 실행의 저장된 지표에 미치는 영향" in page
    assert "판매자 1명: <strong" in page


def test_each_error_is_shown_on_the_field_it_is_about(admin_client, draft_after_a_run):
    _, draft = draft_after_a_run
    # A criterion naming no level: the message sits on that row's level field.
    refused = admin_client.post(
        tune_url(draft), rows(LEVELS, [("Platinum", "revenue", ">=", 1, "")])
    )
    platinum = refused.context["criterion_rows"].forms[0]
    assert "level" in platinum.errors
    # A rate above 100 %: the policy's message sits on that criterion's value field (the second
    # criterion naming Silver is the second Silver row, whatever comes between).
    refused = admin_client.post(
        tune_url(draft),
        rows(
            LEVELS,
            [
                ("Silver", "response_rate", ">=", 90, ""),
                ("Gold", "window_completed_orders", ">=", 3, ""),
                ("Silver", "on_time_rate", ">=", 150, ""),
            ],
        ),
    )
    forms = refused.context["criterion_rows"].forms
    assert "value" in forms[2].errors and "100" in " ".join(forms[2].errors["value"])
    assert not forms[0].errors and not forms[1].errors
    assert refused.context["impact"] is None  # the saved policy's impact is not shown
