"""The success score (SPEC §5 ``score``, metric ``success_score``): weighted, clamped, exact.

Every expected value is worked out by hand from the definition: part = clamp((v − zero) /
(full − zero), 0, 1); success_score = 100 × Σ weight × part / Σ weight over the parts whose
metric is not null.
"""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest
from django.test import Client

from metrics.engine.grading import (
    CriterionSpec,
    LevelSpec,
    PolicySnapshot,
    ScorePart,
    grade,
    score_parts,
    success_score,
)
from metrics.engine.registry import Metrics
from metrics.policy.services import validate_policy_data
from orders.models import Seller
from tests.api_helpers import evaluate, grade_of, push_policy
from tests.metrics.preset_scenarios import Profile, push_world

RESPONSE = ScorePart("response_rate", D("30"), D("50"), D("100"))
NEGATIVE = ScorePart("negative_review_rate", D("20"), D("10"), D("0"))  # lower is better
RATING = ScorePart("average_rating", D("50"), D("4"), D("5"))


def scored(*parts: ScorePart, levels: tuple[LevelSpec, ...] = ()) -> PolicySnapshot:
    return PolicySnapshot(levels=levels or (LevelSpec("L1", 1),), score=parts)


def test_score_is_the_weighted_mean_of_the_parts_exactly():
    # 95 % → 45/50 = 0.9 (27 of 30); 2.5 % negative → 7.5/10 = 0.75 (15 of 20);
    # 4.8 → 0.8 (40 of 50): 100 × (27 + 15 + 40) / 100 = 82.
    metrics = {
        "response_rate": Fraction(95),
        "negative_review_rate": Fraction(5, 2),
        "average_rating": Fraction(24, 5),
    }
    policy = scored(RESPONSE, NEGATIVE, RATING)
    assert success_score(metrics, policy) == Fraction(82)
    parts = score_parts(metrics, policy)
    assert [(p.metric, p.points, p.earned) for p in parts] == [
        ("response_rate", Fraction(30), Fraction(27)),
        ("negative_review_rate", Fraction(20), Fraction(15)),
        ("average_rating", Fraction(50), Fraction(40)),
    ]


def test_parts_are_clamped_to_zero_and_one_both_ways():
    policy = scored(RESPONSE, NEGATIVE)
    # 40 % is below zero (50): 0; 15 % negative is worse than zero (10): 0.
    assert success_score(
        {"response_rate": Fraction(40), "negative_review_rate": Fraction(15)}, policy
    ) == Fraction(0)
    # 100 % is full; 0 % negative is full (lower is better, zero > full): 1.
    assert success_score(
        {"response_rate": Fraction(100), "negative_review_rate": Fraction(0)}, policy
    ) == Fraction(100)


def test_a_null_part_counts_in_neither_sum():
    # Rating null: 100 × (30 × 0.9 + 20 × 0.75) / 50 = 84; response worth 60 of the 100 points.
    metrics = {
        "response_rate": Fraction(95),
        "negative_review_rate": Fraction(5, 2),
        "average_rating": None,
    }
    policy = scored(RESPONSE, NEGATIVE, RATING)
    assert success_score(metrics, policy) == Fraction(84)
    parts = {p.metric: p for p in score_parts(metrics, policy)}
    assert (parts["response_rate"].points, parts["response_rate"].earned) == (60, 54)
    assert not parts["average_rating"].counted
    assert (parts["average_rating"].points, parts["average_rating"].earned) == (0, 0)


def test_score_is_null_when_every_part_is_null_or_there_is_no_score():
    assert success_score({"response_rate": None}, scored(RESPONSE)) is None
    assert success_score({"response_rate": Fraction(90)}, scored()) is None


def test_score_is_exact_on_a_repeating_fraction_and_a_criterion_decides_on_it():
    # 2 of 3 inquiries: 200/3 %, part (200/3 − 50) / 50 = 1/3, score 100/3 = 33.333…
    one = ScorePart("response_rate", D("1"), D("50"), D("100"))
    levels = (
        LevelSpec("L1", 1),
        LevelSpec("L2", 2, (CriterionSpec("success_score", ">=", D("33.3333")),)),
        LevelSpec("L3", 3, (CriterionSpec("success_score", ">=", D("33.3334")),)),
    )
    policy = scored(one, levels=levels)
    metrics: Metrics = {"response_rate": Fraction(200, 3)}
    assert success_score(metrics, policy) == Fraction(100, 3)
    result = grade(metrics, policy)
    assert result.level == "L2"
    assert result.criteria[0].actual == Fraction(100, 3)


def test_grade_uses_its_policys_score_not_a_stored_one():
    policy = scored(
        RESPONSE,
        levels=(
            LevelSpec("L1", 1),
            LevelSpec("L2", 2, (CriterionSpec("success_score", ">=", D("90")),)),
        ),
    )
    # A stale stored 100 is ignored: 95 % gives 90 under this score.
    assert (
        grade({"response_rate": Fraction(95), "success_score": Fraction(100)}, policy).level == "L2"
    )
    assert (
        grade({"response_rate": Fraction(94), "success_score": Fraction(100)}, policy).level == "L1"
    )


# --- validation (the rules admin and the API share) --------------------------------------------


def policy_with(score: object) -> dict:
    return {
        "name": "Scored",
        "window_months": 3,
        "levels": [{"name": "L1", "rank": 1, "criteria": []}],
        "score": score,
    }


@pytest.mark.parametrize(
    ("part", "place", "fragment"),
    [
        ({"metric": "response_rate", "weight": 1, "zero": 90, "full": 90}, "full", "must differ"),
        ({"metric": "response_rate", "weight": 0, "zero": 0, "full": 100}, "weight", "above 0"),
        ({"metric": "response_rate", "weight": -2, "zero": 0, "full": 100}, "weight", "above 0"),
        ({"metric": "success_score", "weight": 1, "zero": 0, "full": 100}, "metric", "itself"),
        ({"metric": "nope", "weight": 1, "zero": 0, "full": 100}, "metric", "Unknown metric"),
        ({"metric": "response_rate", "weight": "x", "zero": 0, "full": 100}, "weight", "number"),
        ({"metric": "response_rate", "zero": 0, "full": 100}, "weight", "number"),
    ],
)
def test_an_incoherent_score_part_is_refused_at_its_place(part, place, fragment):
    errors = validate_policy_data(policy_with([part]))
    assert list(errors) == [f"score[0].{place}"]
    assert fragment in errors[f"score[0].{place}"][0]


def test_a_lower_is_better_part_zero_above_full_is_accepted():
    part = {"metric": "negative_review_rate", "weight": 2, "zero": 10, "full": 0}
    assert validate_policy_data(policy_with([part])) == {}


def test_a_score_that_is_not_a_list_is_refused():
    assert list(validate_policy_data(policy_with({"metric": "x"}))) == ["score"]


# --- through a run: stored, and explained on the dashboard ---------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_a_run_stores_the_score_and_the_dashboard_explains_each_part(staff_client):
    # December: 17 of 20 inquiries in time (85 %), two reviews 5 and 4 (4.5), no survey.
    push_world(staff_client, {"s": Profile(completed=2, ratings=(5, 4), answered=17, unanswered=3)})
    push_policy(
        staff_client,
        {
            "name": "Scored",
            "window_months": 3,
            "levels": [
                {"name": "L1", "rank": 1, "criteria": []},
                {
                    "name": "L2",
                    "rank": 2,
                    "criteria": [{"metric": "success_score", "op": ">=", "value": 56}],
                },
            ],
            "score": [
                {"metric": "response_rate", "weight": 30, "zero": 50, "full": 100},
                {"metric": "average_rating", "weight": 70, "zero": 4, "full": 5},
                {"metric": "csat_percent", "weight": 50, "zero": 50, "full": 100},
            ],
        },
    )

    evaluate(staff_client, "2026-12")

    # By hand: response 0.7 × 30 = 21, rating 0.5 × 70 = 35, CSAT null (left out):
    # 100 × 56 / 100 = 56 exactly, so L2 (>= 56).
    grade = grade_of(staff_client, "s")
    assert (grade["metrics"]["success_score"], grade["level"]) == (56, "L2")
    client = Client()
    user = Seller.objects.get(external_id="s").user
    assert user is not None
    client.force_login(user)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span id="score-total">56.00</span>' in page
    assert "Response rate: 21.00 of 30.00 points" in page
    assert "Average rating: 35.00 of 70.00 points" in page
    assert "CSAT: not enough data yet, left out" in page
