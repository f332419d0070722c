"""Policy services and selectors, and the seeded Kmong defaults (data migration 0002)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from metrics.engine.grading import CriterionSpec, LevelSpec, PolicySnapshot
from metrics.models import Criterion, EvaluationRun, GradeLevel, GradePolicy, SellerEvaluation
from metrics.policy.preview import NoEvaluatedPeriod, preview_policy
from metrics.policy.services import (
    NoActivePolicy,
    PolicyInvalid,
    activate_policy,
    active_policy,
    create_active_policy,
    duplicate_policy,
    policy_is_used,
    snapshot_of,
)
from tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

D = Decimal

# SPEC §5 "Defaults seeded by a data migration", written out independently of the migration.
KMONG_DEFAULTS = PolicySnapshot(
    levels=(
        LevelSpec("Level 1", 1, ()),
        LevelSpec(
            "Level 2",
            2,
            (
                CriterionSpec("completed_orders", ">=", D("15"), "volume"),
                CriterionSpec("revenue", ">=", D("5000000"), "volume"),
                CriterionSpec("average_rating", ">=", D("4.7"), ""),
                CriterionSpec("response_rate", ">=", D("90"), ""),
            ),
        ),
        LevelSpec(
            "Level 3",
            3,
            (
                CriterionSpec("completed_orders", ">=", D("100"), "volume"),
                CriterionSpec("revenue", ">=", D("20000000"), "volume"),
                CriterionSpec("average_rating", ">=", D("4.7"), ""),
                CriterionSpec("success_rate", ">=", D("85"), ""),
            ),
        ),
        LevelSpec(
            "Master",
            4,
            (
                CriterionSpec("revenue_top_percent", "<=", D("1"), ""),
                CriterionSpec("on_time_rate", ">=", D("85"), ""),
                CriterionSpec("review_count", ">=", D("1300"), ""),
            ),
        ),
    ),
    window_months=3,
    window_days=None,
    response_window_hours=24,
    demotion_grace_months=0,
)


def policy_payload(name: str = "Strict", **fields: object) -> dict:
    payload: dict = {
        "name": name,
        "window_months": None,
        "window_days": 30,
        "response_window_hours": 12,
        "demotion_grace_months": 1,
        "levels": [
            {"name": "Bronze", "rank": 1, "criteria": []},
            {
                "name": "Silver",
                "rank": 2,
                "criteria": [
                    {"metric": "response_rate", "op": ">=", "value": 95, "any_of": ""},
                    {"metric": "average_rating", "op": ">=", "value": "4.8", "any_of": ""},
                ],
            },
        ],
    }
    payload.update(fields)
    return payload


def test_migration_seeds_the_kmong_defaults_as_the_active_policy():
    policy = active_policy()
    assert GradePolicy.objects.count() == 1
    assert snapshot_of(policy) == KMONG_DEFAULTS


def test_snapshot_of_a_policy_takes_at_most_two_queries(django_assert_max_num_queries):
    policy = active_policy()
    with django_assert_max_num_queries(2):
        snapshot = snapshot_of(policy)
    assert len(snapshot.levels) == 4


def test_no_active_policy_raises_a_clear_error():
    GradePolicy.objects.update(is_active=False)
    with pytest.raises(NoActivePolicy, match="No active grade policy"):
        active_policy()


def test_database_refuses_two_active_policies():
    with pytest.raises(IntegrityError), transaction.atomic():
        GradePolicy.objects.create(name="Second", is_active=True)


def test_create_active_policy_replaces_the_active_one_and_keeps_the_old(staff_user):
    old = active_policy()
    new = create_active_policy(data=policy_payload(), actor=staff_user)
    old.refresh_from_db()
    assert (old.is_active, new.is_active) == (False, True)
    assert active_policy() == new
    assert new.created_by == staff_user
    assert snapshot_of(new) == PolicySnapshot(
        levels=(
            LevelSpec("Bronze", 1, ()),
            LevelSpec(
                "Silver",
                2,
                (
                    CriterionSpec("response_rate", ">=", D("95"), ""),
                    CriterionSpec("average_rating", ">=", D("4.8"), ""),
                ),
            ),
        ),
        window_months=None,
        window_days=30,
        response_window_hours=12,
        demotion_grace_months=1,
    )
    assert snapshot_of(old) == KMONG_DEFAULTS


def test_invalid_policy_is_refused_and_nothing_is_written(staff_user):
    before = (GradePolicy.objects.count(), GradeLevel.objects.count(), Criterion.objects.count())
    data = policy_payload()
    data["levels"][1]["criteria"][0]["value"] = 120
    with pytest.raises(PolicyInvalid) as refused:
        create_active_policy(data=data, actor=staff_user)
    assert list(refused.value.errors) == ["levels[1].criteria[0].value"]
    after = (GradePolicy.objects.count(), GradeLevel.objects.count(), Criterion.objects.count())
    assert after == before
    assert active_policy().name == "Kmong default"


def test_activate_policy_deactivates_the_previous_one(staff_user):
    old = active_policy()
    draft = duplicate_policy(policy=old, actor=staff_user)
    assert draft.is_active is False
    activate_policy(policy=draft)
    old.refresh_from_db()
    assert (old.is_active, active_policy()) == (False, draft)


def test_duplicate_is_an_inactive_copy_with_the_same_rules(staff_user):
    draft = duplicate_policy(policy=active_policy(), actor=staff_user)
    assert (draft.name, draft.is_active) == ("Copy of Kmong default", False)
    assert snapshot_of(draft) == KMONG_DEFAULTS


def test_a_policy_is_used_once_a_run_references_it():
    policy = active_policy()
    assert policy_is_used(policy) is False
    EvaluationRun.objects.create(period="2026-10", policy=policy, status="succeeded")
    assert policy_is_used(policy) is True


def test_preview_regrades_the_last_runs_stored_metrics(staff_user):
    run = EvaluationRun.objects.create(period="2026-10", policy=active_policy(), status="succeeded")
    stored = [
        ("up", "Level 1", 1, "60/1"),
        ("down", "Level 2", 2, "40/1"),
        ("same", "Level 1", 1, None),
    ]
    for external_id, level, rank, response_rate in stored:
        SellerEvaluation.objects.create(
            run=run,
            seller=SellerFactory.create(external_id=external_id),
            period="2026-10",
            level=level,
            level_rank=rank,
            metrics={"response_rate": response_rate, "completed_orders": 3},
        )
    draft = create_active_policy(
        data={
            "name": "Lenient",
            "levels": [
                {"name": "Level 1", "rank": 1},
                {
                    "name": "Level 2",
                    "rank": 2,
                    "criteria": [{"metric": "response_rate", "op": ">=", "value": 50}],
                },
            ],
        },
        actor=staff_user,
    )
    impact = preview_policy(snapshot=snapshot_of(draft))
    assert (impact.period, impact.sellers, impact.up, impact.down, impact.same) == (
        "2026-10",
        3,
        1,
        1,
        1,
    )
    assert impact.recomputed is False
    assert impact.draft == {"Level 1": 2, "Level 2": 1, "none": 0}
    assert [(m.seller, m.from_level, m.to_level) for m in impact.movers] == [
        ("down", "Level 2", "Level 1"),
        ("up", "Level 1", "Level 2"),
    ]


def test_preview_without_any_run_is_a_conflict():
    with pytest.raises(NoEvaluatedPeriod):
        preview_policy(snapshot=snapshot_of(active_policy()))
