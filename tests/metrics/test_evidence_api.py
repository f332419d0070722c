"""GET /api/v1/sellers/{id}/evidence: the items behind a window metric, JSON or CSV."""

from __future__ import annotations

import csv
import io

import pytest

from metrics import runs
from metrics.models import GradeLevel, GradePolicy
from metrics.periods import Period
from tests.factories import MessageFactory, OrderFactory, aware
from tests.metrics.test_runs import given_policy

pytestmark = pytest.mark.django_db

OCT = Period(2026, 10)


@pytest.fixture
def late_and_missed(seller):
    """One order delivered on time and one late; one inquiry answered in time, one missed."""
    OrderFactory(
        seller=seller,
        external_id="o-on-time",
        created_at=aware("2026-10-01 10:00"),
        due_at=aware("2026-10-05 10:00"),
        delivered_at=aware("2026-10-04 10:00"),
    )
    OrderFactory(
        seller=seller,
        external_id="o-late",
        created_at=aware("2026-10-02 10:00"),
        due_at=aware("2026-10-06 10:00"),
        delivered_at=aware("2026-10-06 10:01"),
    )
    MessageFactory(seller=seller, conversation="c-answered", sent_at=aware("2026-10-03 09:00"))
    MessageFactory(
        seller=seller,
        conversation="c-answered",
        sender="seller",
        sent_at=aware("2026-10-03 10:00"),
    )
    MessageFactory(seller=seller, conversation="c-missed", sent_at=aware("2026-10-10 09:00"))
    MessageFactory(
        seller=seller,
        conversation="c-missed",
        sender="seller",
        sent_at=aware("2026-10-11 10:00"),  # 25 hours later
    )
    return seller


def evidence(client, seller, query: str, **headers):
    return client.get(f"/api/v1/sellers/{seller.external_id}/evidence?{query}", **headers)


def test_late_orders_come_first(seller_client, late_and_missed):
    response = evidence(seller_client, late_and_missed, "period=2026-10&metric=on_time_rate")

    assert response.status_code == 200
    body = response.json()
    assert (body["seller"], body["period"], body["metric"]) == (
        late_and_missed.external_id,
        "2026-10",
        "on_time_rate",
    )
    assert [(i["external_id"], i["on_time"]) for i in body["items"]] == [
        ("o-late", False),
        ("o-on-time", True),
    ]
    assert body["items"][0]["delivered_at"] == "2026-10-06T10:01:00+09:00"
    assert body["items"][0]["due_at"] == "2026-10-06T10:00:00+09:00"
    assert body["items"][0]["cancelled_by"] is None  # null like the orders API, never ""


def test_missed_inquiries_come_first(seller_client, late_and_missed):
    body = evidence(seller_client, late_and_missed, "period=2026-10&metric=response_rate").json()

    assert body["items"] == [
        {
            "conversation": "c-missed",
            "sent_at": "2026-10-10T09:00:00+09:00",
            "deadline": "2026-10-11T09:00:00+09:00",
            "answered_at": "2026-10-11T10:00:00+09:00",
            "in_time": False,
        },
        {
            "conversation": "c-answered",
            "sent_at": "2026-10-03T09:00:00+09:00",
            "deadline": "2026-10-04T09:00:00+09:00",
            "answered_at": "2026-10-03T10:00:00+09:00",
            "in_time": True,
        },
    ]


@pytest.mark.parametrize(
    "how",
    [
        {"HTTP_ACCEPT": "text/csv"},
        {"format": "csv"},
        {"format": "csv", "HTTP_ACCEPT": "application/json"},
    ],
    ids=["accept", "format", "format-beats-json-accept"],
)
def test_evidence_as_csv(seller_client, late_and_missed, how):
    query = "period=2026-10&metric=response_rate"
    if "format" in how:
        headers = {k: v for k, v in how.items() if k != "format"}
        response = evidence(seller_client, late_and_missed, query + "&format=csv", **headers)
    else:
        response = evidence(seller_client, late_and_missed, query, **how)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["conversation", "sent_at", "deadline", "answered_at", "in_time"],
        [
            "c-missed",
            "2026-10-10T09:00:00+09:00",
            "2026-10-11T09:00:00+09:00",
            "2026-10-11T10:00:00+09:00",
            "false",
        ],
        [
            "c-answered",
            "2026-10-03T09:00:00+09:00",
            "2026-10-04T09:00:00+09:00",
            "2026-10-03T10:00:00+09:00",
            "true",
        ],
    ]


def test_csv_without_items_still_has_a_header(seller_client, seller):
    response = evidence(seller_client, seller, "period=2026-10&metric=average_rating&format=csv")

    assert response.content.decode().splitlines() == ["external_id,order,rating"]


def test_csv_neutralises_spreadsheet_formulas(seller_client, seller):
    MessageFactory(seller=seller, conversation="=HYPERLINK(1)", sent_at=aware("2026-10-03 09:00"))

    response = evidence(seller_client, seller, "period=2026-10&metric=inquiries&format=csv")

    assert response.content.decode().splitlines()[1].startswith("'=HYPERLINK(1)")


def test_evidence_uses_the_policy_the_period_was_graded_under(seller_client, late_and_missed):
    given_policy()  # response window 24 h
    runs.evaluate_period(period=OCT)
    lenient = GradePolicy.objects.create(name="48 h", window_months=1, response_window_hours=48)
    GradeLevel.objects.create(policy=lenient, name="Bronze", rank=1)
    GradePolicy.objects.filter(is_active=True).update(is_active=False)
    GradePolicy.objects.filter(pk=lenient.pk).update(is_active=True)

    body = evidence(seller_client, late_and_missed, "period=2026-10&metric=response_rate").json()

    assert [item["in_time"] for item in body["items"]] == [False, True]
    assert body["items"][0]["deadline"] == "2026-10-11T09:00:00+09:00"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("metric=on_time_rate", "period", "required"),
        ("period=2026-13&metric=on_time_rate", "period", "month must be 01 to 12"),
        ("period=last&metric=on_time_rate", "period", "YYYY-MM"),
        ("period=2026-10", "metric", "required"),
        ("period=2026-10&metric=speed", "metric", "Unknown metric"),
        ("period=2026-10&metric=revenue", "metric", "cumulative"),
    ],
)
def test_a_bad_query_is_400_with_a_clear_message(seller_client, seller, query, field, message):
    response = evidence(seller_client, seller, query)

    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_a_bad_query_as_csv_is_still_400(seller_client, seller):
    response = evidence(seller_client, seller, "period=2026-13&metric=on_time_rate&format=csv")

    assert response.status_code == 400
    assert response.content.decode().splitlines()[0] == "field,message"


def test_evidence_requires_authentication(api_client, seller):
    assert evidence(api_client, seller, "period=2026-10&metric=on_time_rate").status_code == 401


@pytest.mark.parametrize("orders", [1, 20])
def test_evidence_takes_constant_queries(
    orders, seller_client, seller, django_assert_max_num_queries
):
    given_policy()
    for _ in range(orders):
        OrderFactory(seller=seller, delivered_at=aware("2026-10-02 10:00"))
    runs.evaluate_period(period=OCT)

    # token + user, seller, the period's run policy, the orders
    with django_assert_max_num_queries(4):
        response = evidence(seller_client, seller, "period=2026-10&metric=on_time_rate")

    assert len(response.json()["items"]) == orders
