"""The pure grading function (SPEC §5) on hand-built exact metrics: no database."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.engine.grading import (
    CriterionResult,
    CriterionSpec,
    GradeResult,
    LevelSpec,
    Missing,
    NextLevel,
    PolicySnapshot,
    exact_from_json,
    exact_to_json,
    grade,
    result_to_json,
)
from metrics.engine.registry import METRIC_KEYS

D = Decimal


def crit(metric: str, op: str, value: str, any_of: str = "") -> CriterionSpec:
    return CriterionSpec(metric=metric, op=op, value=D(value), any_of=any_of)


KMONG = PolicySnapshot(
    levels=(
        LevelSpec("Level 1", 1),
        LevelSpec(
            "Level 2",
            2,
            (
                crit("completed_orders", ">=", "15", "volume"),
                crit("revenue", ">=", "5000000", "volume"),
                crit("average_rating", ">=", "4.7"),
                crit("response_rate", ">=", "90"),
            ),
        ),
        LevelSpec(
            "Level 3",
            3,
            (
                crit("completed_orders", ">=", "100", "volume"),
                crit("revenue", ">=", "20000000", "volume"),
                crit("average_rating", ">=", "4.7"),
                crit("success_rate", ">=", "85"),
            ),
        ),
        LevelSpec(
            "Master",
            4,
            (
                crit("revenue_top_percent", "<=", "1"),
                crit("on_time_rate", ">=", "85"),
                crit("review_count", ">=", "1300"),
            ),
        ),
    )
)


def given_metrics(**values: object) -> dict:
    """Every metric key null (no data), then the given exact values."""
    metrics: dict = dict.fromkeys(METRIC_KEYS)
    metrics.update(values)
    return metrics


def level2_metrics(**overrides: object) -> dict:
    """A seller who meets Level 2 exactly and nothing above it."""
    values: dict = {
        "completed_orders": 15,
        "revenue": D("150000"),
        "average_rating": Fraction(47, 10),
        "response_rate": Fraction(100 * 9, 10),
        "success_rate": Fraction(80),
        "review_count": 10,
        "revenue_rank": 20,
        "ranked_sellers": 50,
        "revenue_top_percent": Fraction(100 * 20, 50),
        "on_time_rate": Fraction(100),
    }
    values.update(overrides)
    return given_metrics(**values)


def master_metrics(**overrides: object) -> dict:
    values: dict = {
        "completed_orders": 2000,
        "revenue": D("900000000"),
        "average_rating": Fraction(49, 10),
        "response_rate": Fraction(100),
        "success_rate": Fraction(95),
        "review_count": 1500,
        "revenue_rank": 1,
        "ranked_sellers": 50,
        "revenue_top_percent": Fraction(2),
        "on_time_rate": Fraction(90),
    }
    values.update(overrides)
    return given_metrics(**values)


def single_criterion_policy(*criteria: CriterionSpec) -> PolicySnapshot:
    return PolicySnapshot(levels=(LevelSpec("Base", 1), LevelSpec("Pro", 2, tuple(criteria))))


# --- ladder ---------------------------------------------------------------------------------


def test_seller_with_no_data_gets_the_level_without_criteria():
    result = grade(given_metrics(), KMONG)
    assert (result.level, result.computed_level) == ("Level 1", "Level 1")


def test_seller_meeting_level_2_exactly_gets_level_2():
    assert grade(level2_metrics(), KMONG).level == "Level 2"


def test_seller_meeting_every_level_gets_master():
    assert grade(master_metrics(), KMONG).level == "Master"


def test_upper_level_passing_does_not_help_when_a_lower_level_fails():
    # Level 3 and Master pass, but response_rate 80 fails Level 2: the ladder stops at Level 1.
    metrics = master_metrics(response_rate=Fraction(80))
    result = grade(metrics, KMONG)
    level3 = [c for c in result.criteria if c.level == "Level 3"]
    assert all(c.passed or c.any_of for c in level3)
    assert result.level == "Level 1"


def test_lowest_level_failing_gives_no_level():
    policy = PolicySnapshot(levels=(LevelSpec("Starter", 1, (crit("tenure_days", ">=", "30"),)),))
    result = grade(given_metrics(tenure_days=29), policy)
    assert (result.level, result.computed_level) == (None, None)


def test_levels_are_climbed_by_rank_whatever_their_order_in_the_policy():
    shuffled = PolicySnapshot(levels=tuple(reversed(KMONG.levels)))
    result = grade(level2_metrics(), shuffled)
    assert result.level == "Level 2"
    assert [c.level for c in result.criteria][:4] == ["Level 2"] * 4


def test_criteria_list_every_criterion_of_every_level_in_rank_then_stored_order():
    result = grade(given_metrics(), KMONG)
    expected = [
        (level.name, c.metric, c.op, c.value, c.any_of)
        for level in KMONG.levels
        for c in level.criteria
    ]
    assert [(c.level, c.metric, c.op, c.value, c.any_of) for c in result.criteria] == expected


# --- any_of ----------------------------------------------------------------------------------


def test_any_of_group_passes_when_only_revenue_passes():
    metrics = level2_metrics(completed_orders=3, revenue=D("5000000"))
    assert grade(metrics, KMONG).level == "Level 2"


def test_any_of_group_passes_when_only_completed_orders_passes():
    metrics = level2_metrics(completed_orders=15, revenue=D("4999999.99"))
    assert grade(metrics, KMONG).level == "Level 2"


def test_any_of_group_fails_when_no_member_passes():
    metrics = level2_metrics(completed_orders=14, revenue=D("4999999.99"))
    assert grade(metrics, KMONG).level == "Level 1"


def test_criterion_outside_the_group_must_still_pass():
    metrics = level2_metrics(completed_orders=500, average_rating=Fraction(46, 10))
    assert grade(metrics, KMONG).level == "Level 1"


def test_two_groups_of_one_level_must_each_have_a_passing_member():
    policy = single_criterion_policy(
        crit("completed_orders", ">=", "10", "volume"),
        crit("revenue", ">=", "100", "volume"),
        crit("response_rate", ">=", "90", "care"),
        crit("on_time_rate", ">=", "90", "care"),
    )
    passing = given_metrics(completed_orders=10, on_time_rate=Fraction(90))
    failing = given_metrics(completed_orders=10, on_time_rate=Fraction(89))
    assert (grade(passing, policy).level, grade(failing, policy).level) == ("Pro", "Base")


# --- exact comparisons ------------------------------------------------------------------------


def test_response_rate_of_exactly_90_percent_passes():
    policy = single_criterion_policy(crit("response_rate", ">=", "90"))
    assert grade(given_metrics(response_rate=Fraction(100 * 9, 10)), policy).level == "Pro"


def test_response_rate_of_8_in_10_fails_90_percent():
    policy = single_criterion_policy(crit("response_rate", ">=", "90"))
    assert grade(given_metrics(response_rate=Fraction(100 * 8, 10)), policy).level == "Base"


def test_rate_of_89_996_does_not_pass_90_although_it_displays_as_90():
    # 22499 of 25000 answered: 89.996 %, shown "90.00" once rounded, yet below the threshold.
    policy = single_criterion_policy(crit("response_rate", ">=", "90"))
    rate = Fraction(100 * 22499, 25000)
    assert rate == Fraction(89996, 1000)
    assert grade(given_metrics(response_rate=rate), policy).level == "Base"


def test_average_rating_of_exactly_4_7_passes():
    policy = single_criterion_policy(crit("average_rating", ">=", "4.7"))
    assert grade(given_metrics(average_rating=Fraction(47, 10)), policy).level == "Pro"


def test_average_rating_of_4_699_fails_4_7():
    policy = single_criterion_policy(crit("average_rating", ">=", "4.7"))
    assert grade(given_metrics(average_rating=Fraction(4699, 1000)), policy).level == "Base"


def test_revenue_exactly_at_the_threshold_passes_and_one_cent_below_fails():
    policy = single_criterion_policy(crit("revenue", ">=", "5000000"))
    at = grade(given_metrics(revenue=D("5000000.00")), policy).level
    below = grade(given_metrics(revenue=D("4999999.99")), policy).level
    assert (at, below) == ("Pro", "Base")


def test_less_or_equal_passes_at_the_threshold_and_fails_just_above():
    policy = single_criterion_policy(crit("cancellation_rate", "<=", "10"))
    at = grade(given_metrics(cancellation_rate=Fraction(10)), policy).level
    above = grade(given_metrics(cancellation_rate=Fraction(1001, 100)), policy).level
    assert (at, above) == ("Pro", "Base")


def test_fractional_threshold_on_a_count_compares_exactly():
    policy = single_criterion_policy(crit("completed_orders", ">=", "14.5"))
    results = [grade(given_metrics(completed_orders=n), policy).level for n in (14, 15)]
    assert results == ["Base", "Pro"]


@pytest.mark.parametrize("op", [">=", "<="])
def test_criterion_on_a_null_metric_fails_whatever_the_operator(op):
    policy = single_criterion_policy(crit("negative_review_rate", op, "0"))
    result = grade(given_metrics(negative_review_rate=None), policy)
    assert result.level == "Base"
    assert result.criteria[0].passed is False
    assert result.criteria[0].actual is None


def test_criterion_on_a_metric_missing_from_the_dict_fails():
    policy = single_criterion_policy(crit("repeat_buyer_rate", ">=", "0"))
    assert grade({}, policy).level == "Base"


# --- revenue_top_percent ----------------------------------------------------------------------


def top_percent_metrics(rank: int | None, ranked: int) -> dict:
    top = None if rank is None else Fraction(100 * rank, ranked)
    return given_metrics(revenue_rank=rank, ranked_sellers=ranked, revenue_top_percent=top)


def test_best_of_50_sellers_is_in_the_top_1_percent():
    # ceil(1/100 × 50) = 1, although 100 × 1 / 50 = 2 %.
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", "1"))
    assert grade(top_percent_metrics(1, 50), policy).level == "Pro"


def test_second_of_50_sellers_is_not_in_the_top_1_percent():
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", "1"))
    assert grade(top_percent_metrics(2, 50), policy).level == "Base"


def test_sellers_tied_at_rank_1_are_both_in_the_top_1_percent():
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", "1"))
    tied = [grade(top_percent_metrics(1, 50), policy).level for _ in ("a", "b")]
    assert tied == ["Pro", "Pro"]


def test_top_percent_rounds_the_allowed_rank_up():
    # 1 % of 250 sellers = 2.5 → ranks 1..3 are in; rank 4 is not.
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", "1"))
    levels = [grade(top_percent_metrics(rank, 250), policy).level for rank in (3, 4)]
    assert levels == ["Pro", "Base"]


def test_seller_without_a_rank_fails_top_percent():
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", "100"))
    assert grade(top_percent_metrics(None, 50), policy).level == "Base"


def test_top_percent_greater_or_equal_compares_exactly():
    # rank 25 of 50 = exactly 50 %: passes >= 50; rank 24 of 50 = 48 % fails.
    policy = single_criterion_policy(crit("revenue_top_percent", ">=", "50"))
    levels = [grade(top_percent_metrics(rank, 50), policy).level for rank in (25, 24)]
    assert levels == ["Pro", "Base"]


def test_top_percent_criterion_reports_the_exact_percentage_as_actual():
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", "1"))
    result = grade(top_percent_metrics(2, 50), policy)
    assert result.criteria[0].actual == Fraction(4)


# --- grace ----------------------------------------------------------------------------------


GRACE_2 = PolicySnapshot(levels=KMONG.levels, demotion_grace_months=2)


def test_first_failure_keeps_the_held_level_at_risk():
    result = grade(given_metrics(), GRACE_2, held_level="Level 2", grace_used=0)
    assert (result.level, result.computed_level, result.at_risk, result.grace_used) == (
        "Level 2",
        "Level 1",
        True,
        1,
    )


def test_second_consecutive_failure_still_keeps_the_held_level():
    result = grade(given_metrics(), GRACE_2, held_level="Level 2", grace_used=1)
    assert (result.level, result.at_risk, result.grace_used) == ("Level 2", True, 2)


def test_third_consecutive_failure_demotes_straight_to_the_computed_level():
    # Held Master; the seller now only meets Level 1: the demotion skips Level 3 and Level 2.
    result = grade(given_metrics(), GRACE_2, held_level="Master", grace_used=2)
    assert (result.level, result.at_risk, result.grace_used) == ("Level 1", False, 0)


def test_grace_sequence_fail_fail_fail_then_recover():
    held: str | None = "Level 2"
    used, seen = 0, []
    for metrics in [given_metrics(), given_metrics(), given_metrics(), level2_metrics()]:
        result = grade(metrics, GRACE_2, held_level=held, grace_used=used)
        seen.append((result.level, result.at_risk, result.grace_used))
        held, used = result.level, result.grace_used
    assert seen == [
        ("Level 2", True, 1),
        ("Level 2", True, 2),
        ("Level 1", False, 0),
        ("Level 2", False, 0),
    ]


def test_meeting_the_held_level_again_resets_the_grace_count():
    result = grade(level2_metrics(), GRACE_2, held_level="Level 2", grace_used=1)
    assert (result.level, result.at_risk, result.grace_used) == ("Level 2", False, 0)


def test_promotion_is_immediate_even_with_grace():
    result = grade(level2_metrics(), GRACE_2, held_level="Level 1", grace_used=0)
    assert (result.level, result.at_risk, result.grace_used) == ("Level 2", False, 0)


def test_held_level_absent_from_the_policy_gives_no_grace():
    result = grade(given_metrics(), GRACE_2, held_level="Gold", grace_used=0)
    assert (result.level, result.at_risk, result.grace_used) == ("Level 1", False, 0)


def test_no_grace_when_the_policy_has_none():
    result = grade(given_metrics(), KMONG, held_level="Level 2", grace_used=0)
    assert (result.level, result.at_risk) == ("Level 1", False)


def test_grace_keeps_the_held_level_when_the_computed_level_is_null():
    policy = PolicySnapshot(
        levels=(LevelSpec("Starter", 1, (crit("tenure_days", ">=", "30"),)),),
        demotion_grace_months=1,
    )
    kept = grade(given_metrics(tenure_days=0), policy, held_level="Starter", grace_used=0)
    lost = grade(given_metrics(tenure_days=0), policy, held_level="Starter", grace_used=1)
    assert (kept.level, kept.computed_level, kept.at_risk) == ("Starter", None, True)
    assert (lost.level, lost.at_risk, lost.grace_used) == (None, False, 0)


# --- next level and what is missing -------------------------------------------------------------


def test_failing_any_of_group_shows_all_its_members_as_missing():
    metrics = given_metrics(
        completed_orders=3,
        revenue=D("100000"),
        average_rating=Fraction(5),
        response_rate=Fraction(100),
    )
    result = grade(metrics, KMONG)
    assert result.next_level == NextLevel(
        level="Level 2",
        missing=(
            Missing("completed_orders", ">=", D("15"), 3, any_of="volume"),
            Missing("revenue", ">=", D("5000000"), D("100000"), any_of="volume"),
        ),
    )


def test_passing_any_of_group_is_left_out_of_missing():
    metrics = given_metrics(completed_orders=20, revenue=D("100"), response_rate=Fraction(50))
    result = grade(metrics, KMONG)
    assert result.next_level == NextLevel(
        level="Level 2",
        missing=(
            Missing("average_rating", ">=", D("4.7"), None),
            Missing("response_rate", ">=", D("90"), Fraction(50)),
        ),
    )


def test_next_level_is_none_at_the_top():
    assert grade(master_metrics(), KMONG).next_level is None


def test_next_level_without_any_level_is_the_lowest_level():
    policy = PolicySnapshot(levels=(LevelSpec("Starter", 1, (crit("tenure_days", ">=", "30"),)),))
    result = grade(given_metrics(tenure_days=29), policy)
    assert result.next_level == NextLevel(
        level="Starter", missing=(Missing("tenure_days", ">=", D("30"), 29),)
    )


def test_next_level_is_above_the_level_kept_by_grace():
    result = grade(given_metrics(), GRACE_2, held_level="Level 3", grace_used=0)
    assert result.next_level is not None
    assert result.next_level.level == "Master"


# --- serialisation --------------------------------------------------------------------------


def test_snapshot_with_window_days_survives_a_json_round_trip():
    snapshot = PolicySnapshot(
        levels=KMONG.levels,
        window_months=None,
        window_days=30,
        response_window_hours=12,
        demotion_grace_months=2,
    )
    assert PolicySnapshot.from_json(json.loads(json.dumps(snapshot.to_json()))) == snapshot


def test_snapshot_json_keeps_thresholds_exact_as_strings():
    data = KMONG.to_json()
    assert data["levels"][1]["criteria"][2] == {
        "metric": "average_rating",
        "op": ">=",
        "value": "4.7",
        "any_of": "",
        "window_days": None,
    }


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (None, None),
        (7, 7),
        (D("5000000.50"), "5000000.50"),
        (Fraction(2, 3), "2/3"),
        (Fraction(90), "90/1"),
    ],
)
def test_exact_values_round_trip_through_json(value, stored):
    assert exact_to_json(value) == stored
    assert json.loads(json.dumps(stored)) == stored
    restored = exact_from_json(stored)
    assert restored == value
    assert type(restored) is type(value)


def test_result_to_json_keeps_actuals_exact_and_is_json_safe():
    result = GradeResult(
        level="Level 1",
        computed_level="Level 1",
        at_risk=False,
        grace_used=0,
        criteria=(
            CriterionResult("Level 2", "response_rate", ">=", D("90"), "", Fraction(200, 3), False),
        ),
        next_level=NextLevel(
            "Level 2", (Missing("response_rate", ">=", D("90"), Fraction(200, 3)),)
        ),
    )
    data = json.loads(json.dumps(result_to_json(result)))
    assert data == {
        "level": "Level 1",
        "computed_level": "Level 1",
        "at_risk": False,
        "grace_used": 0,
        "criteria": [
            {
                "level": "Level 2",
                "metric": "response_rate",
                "op": ">=",
                "value": "90",
                "any_of": "",
                "window_days": None,
                "actual": "200/3",
                "passed": False,
            }
        ],
        "next_level": {
            "level": "Level 2",
            "missing": [
                {
                    "metric": "response_rate",
                    "op": ">=",
                    "value": "90",
                    "actual": "200/3",
                    "any_of": "",
                }
            ],
        },
    }


# --- properties against integer arithmetic (an independent oracle) ------------------------------


@given(inquiries=st.integers(1, 10_000), data=st.data())
def test_response_rate_passes_90_exactly_when_answered_times_100_reaches_90_times_inquiries(
    inquiries, data
):
    answered = data.draw(st.integers(0, inquiries))
    policy = single_criterion_policy(crit("response_rate", ">=", "90"))
    result = grade(given_metrics(response_rate=Fraction(100 * answered, inquiries)), policy)
    assert (result.level == "Pro") == (answered * 100 >= 90 * inquiries)


@given(ranked=st.integers(1, 5_000), percent=st.integers(1, 100), data=st.data())
def test_top_percent_passes_exactly_when_fewer_better_ranks_than_the_share(ranked, percent, data):
    # rank r is within ceil(p/100 × n) iff the r - 1 sellers ahead are fewer than p × n / 100.
    rank = data.draw(st.integers(1, ranked))
    policy = single_criterion_policy(crit("revenue_top_percent", "<=", str(percent)))
    result = grade(top_percent_metrics(rank, ranked), policy)
    assert (result.level == "Pro") == ((rank - 1) * 100 < percent * ranked)
