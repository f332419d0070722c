"""The one CSV formula guard (issue 20, finding 6): OWASP's rule, the first non-whitespace
character after NFKC normalisation, and the evidence CSV that uses it."""

from __future__ import annotations

import csv
import io

import pytest

from common.csv import safe_cell
from tests.factories import MessageFactory, aware

FORMULAS = [
    "=1+1",
    " =1+1",  # a leading space
    "\n=1+1",  # a leading line break
    "\u3000=1+1",  # an ideographic space
    "＝1+1",  # full-width equals sign (NFKC: =)
    "＋1",  # full-width plus
    "﹣1",  # small hyphen-minus (NFKC: -)
    "＠SUM(A1)",  # full-width commercial at
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\tanything",  # a tab or CR first is neutralised whatever follows
    "\ranything",
]

HARMLESS = ["kim-1", "a=b", "1+1", "Silver", "실버 등급", "", "  x = 1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_a_spreadsheet_reads_as_a_formula_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_other_text_is_left_as_it_is(text):
    assert safe_cell(text) == text


def test_values_the_product_writes_are_not_text():
    assert [safe_cell(v) for v in (None, True, False, -5, 3)] == ["", "true", "false", "-5", "3"]


@pytest.mark.django_db
@pytest.mark.parametrize("conversation", [" =1+1", "\n=1+1", "＝1+1", "\t=1+1"])
def test_the_evidence_csv_neutralises_every_form(seller_client, seller, conversation):
    MessageFactory(seller=seller, conversation=conversation, sent_at=aware("2026-10-03 09:00"))

    response = seller_client.get(
        f"/api/v1/sellers/{seller.external_id}/evidence",
        {"period": "2026-10", "metric": "inquiries", "format": "csv"},
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][0] == "'" + conversation


def test_times_are_rfc_3339_to_the_second():
    from datetime import UTC, datetime

    from common.csv import safe_cell

    moment = datetime(2026, 10, 3, 10, 0, 5, 123456, tzinfo=UTC)
    assert safe_cell(moment) == "2026-10-03T10:00:05+00:00"
