"""validate_policy_data: every rule of SPEC §5, the one place both admin and API use."""

import copy
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.policy.services import describe_errors, validate_policy_data


def valid_policy() -> dict:
    """Kmong's defaults, written out by hand in the API's shape."""
    return {
        "name": "Kmong",
        "window_months": 3,
        "window_days": None,
        "response_window_hours": 24,
        "demotion_grace_months": 0,
        "levels": [
            {"name": "Level 1", "rank": 1, "criteria": []},
            {
                "name": "Level 2",
                "rank": 2,
                "criteria": [
                    {"metric": "completed_orders", "op": ">=", "value": 15, "any_of": "volume"},
                    {"metric": "revenue", "op": ">=", "value": 5000000, "any_of": "volume"},
                    {"metric": "average_rating", "op": ">=", "value": 4.7, "any_of": ""},
                    {"metric": "response_rate", "op": ">=", "value": 90, "any_of": ""},
                ],
            },
            {
                "name": "Master",
                "rank": 4,
                "criteria": [
                    {"metric": "revenue_top_percent", "op": "<=", "value": 1, "any_of": ""},
                    {"metric": "on_time_rate", "op": ">=", "value": "85", "any_of": ""},
                    {"metric": "review_count", "op": ">=", "value": Decimal("1300")},
                ],
            },
        ],
    }


def with_criterion(metric: str, op: str = ">=", value: object = 1) -> dict:
    data = valid_policy()
    data["levels"][1]["criteria"].append({"metric": metric, "op": op, "value": value})
    return data


NEW = "levels[1].criteria[4]"


def test_kmong_defaults_are_coherent():
    assert validate_policy_data(valid_policy()) == {}


def test_unknown_metric_is_rejected():
    errors = validate_policy_data(with_criterion("response_speed"))
    assert list(errors) == [f"{NEW}.metric"]
    assert "Unknown metric 'response_speed'" in errors[f"{NEW}.metric"][0]


@pytest.mark.parametrize("op", ["==", ">", "", None, "gte"])
def test_operator_other_than_gte_or_lte_is_rejected(op):
    assert list(validate_policy_data(with_criterion("response_rate", op, 90))) == [f"{NEW}.op"]


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("response_rate", 100.01),
        ("on_time_rate", -1),
        ("seller_cancellation_rate", 101),
        ("average_rating", "0.99"),
        ("average_rating", 5.01),
        ("completed_orders", -1),
        ("revenue", "-0.01"),
        ("window_revenue", -5),
        ("tenure_days", -1),
        ("median_first_response_minutes", -0.5),
        ("revenue_top_percent", 0),
        ("revenue_top_percent", 100.5),
        ("revenue_rank", 0),
    ],
)
def test_threshold_outside_its_metric_kind_bounds_is_rejected(metric, value):
    errors = validate_policy_data(with_criterion(metric, ">=", value))
    assert list(errors) == [f"{NEW}.value"]
    assert metric in errors[f"{NEW}.value"][0]


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("response_rate", 0),
        ("response_rate", 100),
        ("average_rating", 1),
        ("average_rating", 5),
        ("completed_orders", 0),
        ("revenue_top_percent", "0.0001"),
        ("revenue_top_percent", 100),
        ("revenue_rank", 1),
        ("median_first_response_minutes", 0),
    ],
)
def test_threshold_at_its_metric_kind_bounds_is_accepted(metric, value):
    assert validate_policy_data(with_criterion(metric, "<=", value)) == {}


def test_fractional_threshold_on_a_count_is_allowed():
    assert validate_policy_data(with_criterion("completed_orders", ">=", "14.5")) == {}


@pytest.mark.parametrize(
    "value", [None, "", "ninety", True, [90], "NaN", "Infinity", "1e999999999"]
)
def test_threshold_that_is_not_a_number_is_rejected(value):
    assert list(validate_policy_data(with_criterion("response_rate", ">=", value))) == [
        f"{NEW}.value"
    ]


def test_threshold_with_more_than_4_decimal_places_is_rejected():
    errors = validate_policy_data(with_criterion("response_rate", ">=", "89.99999"))
    assert errors == {f"{NEW}.value": ["The threshold can have at most 4 decimal places."]}


def test_duplicate_level_names_are_rejected():
    data = valid_policy()
    data["levels"][2]["name"] = "level 2"
    errors = validate_policy_data(data)
    assert list(errors) == ["levels[2].name"]
    assert "Duplicate level name" in errors["levels[2].name"][0]


def test_duplicate_level_ranks_are_rejected():
    data = valid_policy()
    data["levels"][2]["rank"] = 2
    assert list(validate_policy_data(data)) == ["levels[2].rank"]


def test_both_window_fields_empty_is_rejected():
    data = valid_policy() | {"window_months": None, "window_days": None}
    errors = validate_policy_data(data)
    assert list(errors) == ["window_months"]
    assert "both are empty" in errors["window_months"][0]


def test_window_months_zero_means_all_time_and_is_accepted():
    assert validate_policy_data(valid_policy() | {"window_months": 0}) == {}


def test_window_days_alone_is_accepted():
    assert validate_policy_data(valid_policy() | {"window_months": None, "window_days": 30}) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window_days", 0),
        ("window_days", -3),
        ("window_months", -1),
        ("window_months", 2.5),
        ("response_window_hours", 0),
        ("response_window_hours", None),
        ("demotion_grace_months", -1),
        ("demotion_grace_months", "two"),
        ("demotion_grace_months", "1e999999999"),
        ("window_months", 10**30),
    ],
)
def test_bad_window_and_grace_values_are_rejected(field, value):
    assert list(validate_policy_data(valid_policy() | {field: value})) == [field]


@pytest.mark.parametrize("levels", [[], None, "Level 1"])
def test_policy_without_levels_is_rejected(levels):
    assert list(validate_policy_data(valid_policy() | {"levels": levels})) == ["levels"]


def test_level_needs_a_name_and_a_whole_rank():
    data = valid_policy()
    data["levels"][0] = {"name": " ", "rank": 1.5}
    assert sorted(validate_policy_data(data)) == ["levels[0].name", "levels[0].rank"]


def test_malformed_input_gives_errors_not_exceptions():
    assert validate_policy_data([]) == {  # type: ignore[arg-type]
        "non_field_errors": ["Send a JSON object describing the policy."]
    }
    data = valid_policy()
    data["levels"][1]["criteria"] = [42, {"metric": {}, "op": [], "value": {}, "any_of": 3}]
    errors = validate_policy_data(data)
    assert "levels[1].criteria[0]" in errors
    assert {"levels[1].criteria[1].metric", "levels[1].criteria[1].value"} <= set(errors)


def test_every_error_is_reported_at_once():
    data = copy.deepcopy(valid_policy())
    data["window_days"] = 0
    data["levels"][1]["criteria"][3]["value"] = 120
    data["levels"][2]["criteria"][0]["metric"] = "karma"
    assert sorted(validate_policy_data(data)) == [
        "levels[1].criteria[3].value",
        "levels[2].criteria[0].metric",
        "window_days",
    ]


def test_errors_are_described_with_the_level_name_for_people():
    data = with_criterion("response_rate", ">=", 120)
    lines = describe_errors(validate_policy_data(data), data)
    assert len(lines) == 1
    assert lines[0].startswith("Level 'Level 2' › criterion #5 › value: response_rate is a rate")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["1e999999999", "1e-999999999", ">=", "<=", "response_rate", "-0"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["name", "window_months", "window_days", "response_window_hours", "levels", "rank", "value"]
    + ["score"]
)
CRITERION_FIELDS = st.sampled_from(["metric", "op", "value", "any_of", "window_days"])
SCORE_PART = st.dictionaries(st.sampled_from(["metric", "weight", "zero", "full", "x"]), JSON)


@given(
    data=st.dictionaries(FIELDS, JSON),
    criterion=st.dictionaries(CRITERION_FIELDS, JSON),
    score=st.lists(SCORE_PART | JSON, max_size=3) | JSON,
)
def test_any_json_gives_errors_or_nothing_but_never_raises(data, criterion, score):
    assert isinstance(validate_policy_data(data), dict)
    policy = valid_policy()
    policy["levels"][1]["criteria"].append(criterion)
    assert isinstance(validate_policy_data(policy), dict)
    assert isinstance(validate_policy_data({**valid_policy(), "score": score}), dict)


def test_threshold_too_small_to_store_is_rejected():
    errors = validate_policy_data(with_criterion("response_rate", ">=", "1e-999999999"))
    assert errors == {f"{NEW}.value": ["The threshold can have at most 4 decimal places."]}
