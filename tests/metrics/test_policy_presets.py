"""Policy presets (issue 12, SPEC §7): shipped as data, valid, loadable from the command line,
the API and admin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from metrics.models import GradePolicy
from metrics.policy.presets import PRESETS_DIR, all_presets
from metrics.policy.services import (
    active_policy,
    clean_policy_data,
    snapshot_of,
    validate_policy_data,
)
from tests.api_helpers import push_policy, token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUIRED = {
    "kmong",
    "etsy_star_seller",
    "ebay_top_rated",
    "airbnb_superhost",
    "fiverr_levels",
    "amazon_account_health",
    "facebook_responsive",
    "customer_success",
    "customer_success_score",
}
POLICY_KEYS = {
    "name",
    "window_months",
    "window_days",
    "response_window_hours",
    "demotion_grace_months",
    "levels",
    "score",
}
STRICT_RULE = "a published 'under p %' is op <= value p"


def preset_files() -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in Path(PRESETS_DIR).glob("*.json")
    }


def test_every_required_program_ships_as_a_file():
    assert set(preset_files()) >= REQUIRED


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_preset_is_a_valid_policy_with_its_source_and_notes(name):
    preset = preset_files()[name]
    assert set(preset) == {"name", "source", "notes", "policy"}
    assert preset["name"] == name
    # A page read and its date; GradeCraft's own programs say so instead of a page.
    assert "2026-" in preset["source"]
    assert "http" in preset["source"] or preset["source"].startswith("GradeCraft")
    assert len(preset["notes"]) > 80
    assert set(preset["policy"]) == POLICY_KEYS
    assert validate_policy_data(preset["policy"]) == {}


def test_strict_rules_are_written_one_way_and_say_so():
    files = preset_files()
    # Amazon's targets are strict ("< 1 %"): written as <= the published number, explained.
    for name in ("amazon_account_health", "customer_success"):
        assert STRICT_RULE in files[name]["notes"], name
    amazon = {
        (c["metric"], c["window_days"]): (c["op"], c["value"])
        for level in files["amazon_account_health"]["policy"]["levels"]
        for c in level["criteria"]
    }
    assert amazon[("order_defect_rate", None)] == ("<=", 1)
    assert amazon[("seller_cancellation_rate", 7)] == ("<=", 2.5)
    assert amazon[("late_shipment_rate", 10)] == ("<=", 4)
    assert amazon[("valid_tracking_rate", 30)] == (">=", 95)
    assert files["amazon_account_health"]["policy"]["window_days"] == 60
    # No preset approximates a strict rule with a value just below it any more.
    for name, preset in files.items():
        values = [c["value"] for lv in preset["policy"]["levels"] for c in lv["criteria"]]
        assert not any(str(v).endswith("9999") for v in values), name


def test_ebay_has_no_negative_review_rule_and_counts_cases_dispatch_and_tracking():
    ebay = preset_files()["ebay_top_rated"]["policy"]
    rules = {(c["metric"], c["op"], c["value"]) for lv in ebay["levels"] for c in lv["criteria"]}
    assert not {metric for metric, _, _ in rules} & {"negative_review_rate", "window_review_count"}
    assert rules >= {
        ("unresolved_case_rate", "<=", 0.3),
        ("late_shipment_rate", "<=", 3),
        ("valid_tracking_rate", ">=", 95),
    }


def test_the_customer_success_score_variant_states_its_weights():
    preset = preset_files()["customer_success_score"]
    for part in preset["policy"]["score"]:
        assert f"{part['metric']} {part['weight']} (" in preset["notes"], part


def test_the_kmong_preset_is_the_seeded_default_policy():
    clean, errors = clean_policy_data(preset_files()["kmong"]["policy"])
    assert errors == {} and clean is not None
    seeded = active_policy()  # seeded by metrics/migrations/0002_default_policy.py
    assert clean.name == seeded.name
    assert clean.snapshot == snapshot_of(seeded)


# --- manage.py load_policy ------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("load_policy", *args, stdout=out)
    return out.getvalue()


def test_list_names_every_preset():
    listed = [line.split("\t")[0] for line in run("--list").splitlines()]
    assert set(listed) == set(preset_files())
    assert listed[0] == "kmong"


def test_load_policy_activates_the_preset_and_keeps_the_previous_one():
    previous = active_policy()
    output = run("etsy_star_seller")
    policy = active_policy()
    assert policy.name == "Etsy Star Seller"
    clean, _ = clean_policy_data(preset_files()["etsy_star_seller"]["policy"])
    assert clean is not None and snapshot_of(policy) == clean.snapshot
    previous.refresh_from_db()
    assert previous.is_active is False
    assert "is now the active policy" in output


def test_load_policy_draft_creates_an_inactive_policy():
    before = active_policy()
    output = run("facebook_responsive", "--draft")
    draft = GradePolicy.objects.get(name="Facebook very responsive")
    assert draft.is_active is False
    assert active_policy() == before
    assert f"#{draft.pk}" in output


def test_load_policy_refuses_an_unknown_name():
    count = GradePolicy.objects.count()
    with pytest.raises(CommandError, match="No preset named 'nope'"):
        run("nope")
    with pytest.raises(CommandError, match="--list"):
        run()
    assert GradePolicy.objects.count() == count


# --- GET /api/v1/policy/presets -------------------------------------------------------------


def test_presets_api_lists_name_source_notes_and_policy(staff_client):
    response = staff_client.get("/api/v1/policy/presets")
    assert response.status_code == 200
    body = response.json()
    files = preset_files()
    assert [item["name"] for item in body][0] == "kmong"
    assert {item["name"] for item in body} == set(files)
    for item in body:
        assert set(item) == {"name", "source", "notes", "policy"}
        assert item == files[item["name"]]


def test_one_preset_by_name_and_404_for_an_unknown_one(staff_client, seller_client):
    response = seller_client.get("/api/v1/policy/presets/ebay_top_rated")
    assert response.status_code == 200
    assert response.json() == preset_files()["ebay_top_rated"]
    assert seller_client.get("/api/v1/policy/presets/ebay_top_rated/").status_code == 200
    missing = staff_client.get("/api/v1/policy/presets/nope")
    assert missing.status_code == 404
    assert "No preset named 'nope'" in missing.json()["detail"]
    assert staff_client.get("/api/v1/policy/presets/..%2Fkmong").status_code == 404


def test_presets_need_authentication(api_client):
    assert api_client.get("/api/v1/policy/presets").status_code == 401


def test_a_preset_policy_is_a_valid_put_body_and_reads_back_the_same(staff_client):
    preset = preset_files()["amazon_account_health"]
    shown = push_policy(staff_client, preset["policy"])
    shown.pop("id")
    assert shown == preset["policy"]


# --- admin: start from a preset -------------------------------------------------------------


def test_admin_lists_the_presets_and_creates_a_draft_from_one(admin_client):
    assert "Start from a preset" in admin_client.get("/admin/metrics/gradepolicy/").content.decode()
    page = admin_client.get("/admin/metrics/gradepolicy/presets/").content.decode()
    for preset in all_presets():
        assert f'value="{preset.name}"' in page
    assert "seller_cancellation_rate &lt;= 1" in page
    active = active_policy()

    response = admin_client.post(
        "/admin/metrics/gradepolicy/presets/", {"preset": "airbnb_superhost"}
    )

    draft = GradePolicy.objects.get(name="Airbnb Superhost")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/metrics/gradepolicy/{draft.pk}/change/"
    assert draft.is_active is False
    assert active_policy() == active


def test_admin_preset_page_refuses_an_unknown_preset_and_non_staff(admin_client, client):
    count = GradePolicy.objects.count()
    response = admin_client.post("/admin/metrics/gradepolicy/presets/", {"preset": "nope"})
    assert response.status_code == 302
    assert GradePolicy.objects.count() == count
    user = UserFactory(is_staff=False)
    client.force_login(user)
    assert client.get("/admin/metrics/gradepolicy/presets/").status_code == 302  # to login
    assert token_client(user).get("/api/v1/policy/presets").status_code == 200
