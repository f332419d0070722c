"""A chunk's staged rows (``chunks._stage``) reach the table exactly as graded, whatever their
text holds: COPY's text format escapes backslashes, tabs and newlines (level names are staff
input; JSON strings may hold backslashes), and SQLite takes the same rows by bulk INSERTs."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import cast

import pytest

from metrics.engine.grading import (
    CriterionSpec,
    LevelSpec,
    PolicySnapshot,
    criteria_json_text,
    exact_to_json,
    grade,
    metrics_json_text,
    result_to_json,
)
from metrics.engine.registry import Metrics
from metrics.models import EvaluationRun, StagedEvaluation
from metrics.runs.chunks import _stage
from metrics.runs.lifecycle import STAGED_COLUMNS
from orders.models import Seller
from tests.factories import SellerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

AWKWARD = 'Top \\ "tier"\t\\N\r\nnext'


def test_staged_rows_keep_every_character_and_null():
    run = EvaluationRun.objects.create(period="2026-10")
    sellers = [cast(Seller, SellerFactory()) for _ in range(2)]
    rows = [
        (
            run.pk,
            sellers[0].pk,
            AWKWARD,
            2,
            AWKWARD,
            None,
            True,
            1,
            {"response_rate": "9/10", "note": AWKWARD},
            [{"level": AWKWARD, "metric": "response_rate", "actual": None, "passed": False}],
            {"level": AWKWARD, "missing": []},
        ),
        (run.pk, sellers[1].pk, None, None, None, "", False, 0, {}, [], None),
    ]

    _stage(rows)

    stored = [
        (run.pk, *values)
        for values in StagedEvaluation.objects.filter(run=run)
        .order_by("seller_id")
        .values_list(*STAGED_COLUMNS)
    ]
    assert stored == rows


def awkward_policy() -> PolicySnapshot:
    return PolicySnapshot(
        levels=(
            LevelSpec(AWKWARD, 2, (
                CriterionSpec("response_rate", ">=", Decimal("90.0000"), window_days=30),
                CriterionSpec("revenue", ">=", Decimal("5000000"), any_of='vol "a"'),
                CriterionSpec("completed_orders", ">=", Decimal("15"), any_of='vol "a"'),
            )),
            LevelSpec("레벨 1", 1, (CriterionSpec("average_rating", ">=", Decimal("4.7")),)),
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    "metrics",
    [
        {"response_rate": Fraction(11200, 123), "revenue": Decimal("10797000.00"),
         "completed_orders": 94, "average_rating": Fraction(124, 27), "success_score": None},
        {"response_rate": None, "revenue": Decimal("0.50"), "completed_orders": 0,
         "average_rating": None},
        {},
    ],
)  # fmt: skip
def test_the_json_written_directly_is_the_json_of_the_graded_result(metrics):
    """``metrics_json_text`` and ``criteria_json_text`` (a run's staged rows) hold exactly what
    ``json.dumps`` of ``result_to_json`` holds, awkward level and group names included."""
    policy = awkward_policy()
    result = grade(metrics, policy, windows={30: {"response_rate": Fraction(94)}})
    stored = result_to_json(result)

    assert json.loads(criteria_json_text(result, policy)) == stored["criteria"]
    assert json.loads(metrics_json_text(metrics)) == {
        key: exact_to_json(value) for key, value in metrics.items()
    }
    # A result graded under another policy is written the slow way, with the same JSON.
    other = grade(metrics, PolicySnapshot(levels=policy.levels[1:]))
    assert json.loads(criteria_json_text(other, policy)) == result_to_json(other)["criteria"]


def test_json_text_is_staged_as_json_on_every_database():
    run = EvaluationRun.objects.create(period="2026-10")
    seller = cast(Seller, SellerFactory())
    metrics: Metrics = {"response_rate": Fraction(9, 10), "revenue": Decimal("1.5"), "inquiries": 3}
    policy = awkward_policy()
    result = grade(metrics, policy)
    row = (run.pk, seller.pk, None, None, None, None, False, 0,
           metrics_json_text(metrics), criteria_json_text(result, policy), None)  # fmt: skip

    _stage([row])

    staged = StagedEvaluation.objects.get(run=run)
    assert staged.metrics == {"response_rate": "9/10", "revenue": "1.5", "inquiries": 3}
    assert staged.criteria == result_to_json(result)["criteria"]
    assert staged.next_level is None
