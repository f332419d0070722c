"""A chunk's staged rows (``chunks._stage``) reach the table exactly as graded, whatever their
text holds: COPY's text format escapes backslashes, tabs and newlines (level names are staff
input; JSON strings may hold backslashes), and SQLite takes the same rows by bulk INSERTs."""

from __future__ import annotations

from typing import cast

import pytest

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
