"""The criterion has one shape (issue 23 #2): the policy's four keys, and a graded criterion's
level in front and actual and verdict after; one builder for each use."""

from __future__ import annotations

from decimal import Decimal

from metrics.engine.grading import (
    CriterionResult,
    CriterionSpec,
    criterion_data,
    criterion_shown,
    criterion_to_json,
    json_number,
)

POLICY_KEYS = ["metric", "op", "value", "any_of", "window_days"]
GRADED_KEYS = ["level", *POLICY_KEYS, "actual", "passed"]


def test_a_policy_criterion_a_stored_one_and_a_shown_one_share_one_shape():
    spec = CriterionSpec(metric="average_rating", op=">=", value=Decimal("4.7000"), any_of="q")
    graded = CriterionResult(
        level="Gold",
        metric="average_rating",
        op=">=",
        value=Decimal("4.7000"),
        any_of="q",
        actual=Decimal("4.75"),
        passed=True,
    )

    stored = criterion_to_json(graded)
    shown = criterion_shown(stored)

    assert list(criterion_data(spec)) == POLICY_KEYS
    assert list(stored) == list(shown) == GRADED_KEYS
    assert stored["value"] == "4.7000" and shown["value"] == 4.7
    assert shown["actual"] == 4.75 and shown["passed"] is True and shown["any_of"] == "q"


def test_a_metric_no_longer_known_shows_no_actual():
    stored = {"level": "Gold", "metric": "gone", "op": ">=", "value": "15", "actual": "3"}

    assert criterion_shown({**stored, "passed": False}) == {
        "level": "Gold",
        "metric": "gone",
        "op": ">=",
        "value": 15,
        "any_of": "",
        "window_days": None,
        "actual": None,
        "passed": False,
    }


def test_thresholds_are_json_numbers():
    assert (json_number(Decimal("15.0000")), json_number("4.70")) == (15, 4.7)
