"""Evidence of the program and customer-success metrics (SPEC §4, §7): the items agree with the
computed metrics, failing ones first, and come out as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from fractions import Fraction

import pytest

from metrics.engine.compute import seller_metrics
from metrics.engine.evidence import ITEM_COLUMNS, PROGRAM_KINDS, evidence_items
from metrics.engine.periods import Period, Window, window_for_period
from tests.api_helpers import evidence
from tests.factories import (
    CaseFactory,
    ConversationFactory,
    MessageFactory,
    OrderFactory,
    ReviewFactory,
    SurveyFactory,
    aware,
)

pytestmark = pytest.mark.sqlite

CUTOFF = aware("2026-11-01 00:00")


def window(*, months: int = 3) -> Window:
    return window_for_period(
        period=Period(2026, 10), window_months=months, window_days=None, response_window_hours=24
    )


def completed(seller, external_id, at, *, buyer, **fields):
    moment = aware(at)
    return OrderFactory(
        seller=seller,
        external_id=external_id,
        buyer=buyer,
        created_at=moment - timedelta(days=2),
        due_at=None,
        delivered_at=moment - timedelta(days=1),
        completed_at=moment,
        **fields,
    )


@pytest.fixture
def program_seller(seller):
    """A seller with one order per rule of SPEC §4's program and customer-success metrics."""
    ship_by = aware("2026-10-10 18:00")
    low = completed(seller, "o-low", "2026-10-05 10:00", buyer="ann",
                    ship_by=ship_by, shipped_at=ship_by, tracking="valid")  # fmt: skip
    ReviewFactory(order=low, rating=1, created_at=aware("2026-10-06 10:00"))
    fine = completed(seller, "o-fine", "2026-10-06 10:00", buyer="bob",
                     ship_by=ship_by, shipped_at=ship_by + timedelta(seconds=1),
                     tracking="invalid")  # fmt: skip
    ReviewFactory(order=fine, rating=5, created_at=aware("2026-10-07 10:00"))
    claimed = OrderFactory(seller=seller, external_id="o-claim", buyer="cy",
                           created_at=aware("2026-10-08 10:00"), ship_by=ship_by)  # fmt: skip
    CaseFactory(order=claimed, external_id="case-claim", kind="claim",
                opened_at=aware("2026-10-09 10:00"), closed_at=aware("2026-10-12 10:00"),
                outcome="buyer_favour")  # fmt: skip
    disputed = OrderFactory(seller=seller, external_id="o-dispute", buyer="dee",
                            created_at=aware("2026-10-08 11:00"),
                            shipped_at=aware("2026-10-09 10:00"))  # fmt: skip
    CaseFactory(order=disputed, external_id="case-dispute", kind="dispute",
                opened_at=aware("2026-10-10 10:00"))  # fmt: skip
    excluded = OrderFactory(seller=seller, external_id="o-excluded", buyer="eve",
                            created_at=aware("2026-10-08 12:00"), excluded_from_metrics=True,
                            ship_by=ship_by)  # fmt: skip
    CaseFactory(order=excluded, external_id="case-excluded", kind="chargeback")
    SurveyFactory(order=excluded, csat=1, nps=0, answered_at=aware("2026-10-20 10:00"))
    SurveyFactory(order=low, external_id="v-low", csat=2, nps=3,
                  answered_at=aware("2026-10-07 10:00"))  # fmt: skip
    SurveyFactory(order=fine, external_id="v-fine", csat=5, nps=10,
                  answered_at=aware("2026-10-08 10:00"))  # fmt: skip
    SurveyFactory(order=claimed, external_id="v-claim", csat=None, nps=7,
                  answered_at=aware("2026-10-13 10:00"))  # fmt: skip
    for name, hours in (("c-quick", 1), ("c-slow", 30), ("c-middle", 5)):
        resolved = aware("2026-10-20 12:00")
        ConversationFactory(seller=seller, external_id=name, resolved_at=resolved)
        MessageFactory(seller=seller, conversation=name, sent_at=resolved - timedelta(hours=hours))
    ConversationFactory(seller=seller, external_id="c-empty", resolved_at=aware("2026-10-20 12:00"))
    # retention: previous window [2026-05-01, 2026-08-01)
    completed(seller, "o-fay-before", "2026-06-01 10:00", buyer="fay")
    OrderFactory(seller=seller, external_id="o-fay-back", buyer="fay",
                 created_at=aware("2026-10-01 10:00"))  # fmt: skip
    completed(seller, "o-gus-before", "2026-07-01 10:00", buyer="gus")
    completed(seller, "o-hal-before", "2026-05-02 10:00", buyer="hal")
    return seller


def items_of(seller, metric, **kwargs):
    return list(evidence_items(seller_id=seller.pk, window=window(**kwargs), metric=metric))


def test_every_program_metric_has_items_of_a_declared_kind():
    assert set(PROGRAM_KINDS.values()) <= set(ITEM_COLUMNS)


def test_program_evidence_agrees_with_the_computed_metrics(program_seller):
    metrics = seller_metrics(seller_ids=[program_seller.pk], window=window())[program_seller.pk]

    def rate(items, failing):
        return Fraction(100 * sum(1 for i in items if failing(i)), len(items)) if items else None

    orders = items_of(program_seller, "window_orders")
    assert len(orders) == metrics["window_orders"]
    assert rate(orders, lambda i: i["defective"]) == metrics["order_defect_rate"]
    assert rate(orders, lambda i: i["cases"] > 0) == metrics["case_rate"]
    assert rate(orders, lambda i: i["unresolved_case"]) == metrics["unresolved_case_rate"]
    dispatches = items_of(program_seller, "late_shipment_rate")
    assert len(dispatches) == metrics["dispatch_orders"]
    assert rate(dispatches, lambda i: i["late"]) == metrics["late_shipment_rate"]
    shipments = items_of(program_seller, "valid_tracking_rate")
    assert len(shipments) == metrics["shipped_orders"]
    assert rate(shipments, lambda i: i["valid_tracking"]) == metrics["valid_tracking_rate"]
    assert len(items_of(program_seller, "cases_opened")) == metrics["cases_opened"]
    csat = items_of(program_seller, "csat_percent")
    assert len(csat) == metrics["csat_responses"]
    assert rate(csat, lambda i: i["csat"] >= 4) == metrics["csat_percent"]
    nps = items_of(program_seller, "nps")
    assert len(nps) == metrics["nps_responses"]
    promoters = sum(1 for i in nps if i["nps"] >= 9)
    detractors = sum(1 for i in nps if i["nps"] <= 6)
    assert Fraction(100 * (promoters - detractors), len(nps)) == metrics["nps"]
    resolutions = items_of(program_seller, "median_resolution_hours")
    assert len(resolutions) == metrics["resolved_conversations"]
    buyers = items_of(program_seller, "buyer_retention_rate")
    assert rate(buyers, lambda i: i["returned"]) == metrics["buyer_retention_rate"]


def test_defective_orders_come_first_with_why(program_seller):
    items = items_of(program_seller, "order_defect_rate")

    assert [(i["external_id"], i["defective"], i["why"]) for i in items] == [
        ("o-low", True, "low_review"),
        ("o-claim", True, "claim"),
        ("o-fay-back", False, None),
        ("o-fine", False, None),
        ("o-dispute", False, None),
    ]
    assert items[1]["unresolved_case"] is True
    assert items[1]["cases"] == 1


def test_late_dispatches_and_invalid_tracking_come_first(program_seller):
    dispatches = items_of(program_seller, "late_shipment_rate")
    shipments = items_of(program_seller, "valid_tracking_rate")

    # o-fine shipped one second after ship_by, o-claim never: both late, by ship_by then id
    assert [(i["external_id"], i["late"]) for i in dispatches] == [
        ("o-fine", True),
        ("o-claim", True),
        ("o-low", False),
    ]
    assert [(i["external_id"], i["tracking"]) for i in shipments] == [
        ("o-dispute", None),
        ("o-fine", "invalid"),
        ("o-low", "valid"),
    ]


def test_cases_show_the_outcome_only_once_closed_before_the_cutoff(program_seller):
    items = items_of(program_seller, "cases_opened")

    assert [(i["external_id"], i["order"], i["outcome"]) for i in items] == [
        ("case-claim", "o-claim", "buyer_favour"),
        ("case-dispute", "o-dispute", None),
    ]


def test_detractors_and_unsatisfied_surveys_come_first(program_seller):
    nps = items_of(program_seller, "nps")
    csat = items_of(program_seller, "csat_percent")

    assert [(i["external_id"], i["nps"]) for i in nps] == [
        ("v-low", 3),
        ("v-fine", 10),
        ("v-claim", 7),
    ]
    assert [(i["external_id"], i["csat"]) for i in csat] == [("v-low", 2), ("v-fine", 5)]


def test_slowest_resolutions_first_in_hours(program_seller):
    items = items_of(program_seller, "median_resolution_hours")

    assert [(i["conversation"], i["resolution_hours"]) for i in items] == [
        ("c-slow", 30.0),
        ("c-middle", 5.0),
        ("c-quick", 1.0),
    ]


def test_buyers_who_did_not_come_back_first(program_seller):
    items = items_of(program_seller, "buyer_churn_rate")

    assert [(i["buyer"], i["returned"]) for i in items] == [
        ("hal", False),
        ("gus", False),
        ("fay", True),
    ]
    assert items[2]["returned_at"] == aware("2026-10-01 10:00")


def test_all_time_window_lists_no_buyers(program_seller):
    assert items_of(program_seller, "buyer_retention_rate", months=0) == []


@pytest.mark.django_db
def test_program_evidence_as_json_and_csv(seller_client, program_seller):
    query = "period=2026-10&metric=order_defect_rate"

    page = evidence(seller_client, program_seller, query).json()
    response = evidence(seller_client, program_seller, query + "&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert page["count"] == 5
    assert page["results"][0] == {
        "external_id": "o-low",
        "created_at": "2026-10-03T10:00:00+09:00",
        "review_rating": 1,
        "cases": 0,
        "defective": True,
        "why": "low_review",
        "unresolved_case": False,
    }
    assert rows[0] == list(ITEM_COLUMNS["window_orders"])
    assert rows[1] == [
        "o-low",
        "2026-10-03T10:00:00+09:00",
        "1",
        "0",
        "true",
        "low_review",
        "false",
    ]
    assert len(rows) == 6
