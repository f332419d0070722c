"""GET /api/v1/sellers/{id}/evidence: the items behind a window metric, JSON pages or CSV.

SPEC §7: the JSON is paginated (``{"count", "next", "previous", "results"}``, ``?page_size=``
default 100, at most 1,000); ``Accept: text/csv`` or ``?format=csv`` streams every item.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.http import StreamingHttpResponse

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import GradeLevel, GradePolicy
from orders.models import Order
from tests.api_helpers import (
    client_of,
    evaluate,
    evidence,
    evidence_items,
    push_completed_order,
    push_message,
    push_review,
    push_seller,
)
from tests.factories import MessageFactory, OrderFactory, aware
from tests.metrics.test_runs import a_seller, given_policy

pytestmark = pytest.mark.django_db

OCT = Period(2026, 10)
ON_TIME = "period=2026-10&metric=on_time_rate"


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


def given_deliveries(seller, *, count: int, late_every: int = 3) -> list[str]:
    """``count`` orders delivered one hour apart from 2026-10-01 00:00; every ``late_every``-th
    one (the 1st, 4th, 7th, ... for 3) an hour after its due date, the others an hour before.

    Returns the order ids in the order SPEC §7 lists them, worked out here from that rule:
    the late ones first, then the on-time ones, each by delivery time.
    """
    first = aware("2026-10-01 00:00")
    orders = []
    for i in range(count):
        delivered = first + timedelta(hours=i)
        late = i % late_every == 0
        orders.append(
            OrderFactory.build(
                seller=seller,
                external_id=f"d-{i:04d}",
                created_at=aware("2026-09-30 00:00"),
                delivered_at=delivered,
                due_at=delivered - timedelta(hours=1) if late else delivered + timedelta(hours=1),
            )
        )
    Order.objects.bulk_create(orders)
    late_ids = [f"d-{i:04d}" for i in range(count) if i % late_every == 0]
    on_time_ids = [f"d-{i:04d}" for i in range(count) if i % late_every != 0]
    return late_ids + on_time_ids


def url_of(seller, query: str) -> tuple[str, dict[str, list[str]]]:
    """An absolute evidence URL as (everything before the query, the query's parameters)."""
    return f"http://testserver/api/v1/sellers/{seller.external_id}/evidence", parse_qs(query)


def link(url: str | None) -> tuple[str, dict[str, list[str]]] | None:
    """A ``next``/``previous`` link in the shape of ``url_of`` (parameter order is free)."""
    if url is None:
        return None
    base, _, query = url.partition("?")
    return base, parse_qs(query)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- JSON: the items --------------------------------------------------------------------------


def test_late_orders_come_first(seller_client, late_and_missed):
    response = evidence(seller_client, late_and_missed, ON_TIME)

    assert response.status_code == 200
    body = response.json()
    assert (body["seller"], body["period"], body["metric"]) == (
        late_and_missed.external_id,
        "2026-10",
        "on_time_rate",
    )
    assert [(i["external_id"], i["on_time"]) for i in body["results"]] == [
        ("o-late", False),
        ("o-on-time", True),
    ]
    assert body["results"][0]["delivered_at"] == "2026-10-06T10:01:00+09:00"
    assert body["results"][0]["due_at"] == "2026-10-06T10:00:00+09:00"
    assert body["results"][0]["cancelled_by"] is None  # null like the orders API, never ""


def test_missed_inquiries_come_first(seller_client, late_and_missed):
    body = evidence(seller_client, late_and_missed, "period=2026-10&metric=response_rate").json()

    assert body["results"] == [
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


def test_evidence_uses_the_policy_the_period_was_graded_under(seller_client, late_and_missed):
    given_policy()  # response window 24 h
    runs.evaluate_period(period=OCT)
    lenient = GradePolicy.objects.create(name="48 h", window_months=1, response_window_hours=48)
    GradeLevel.objects.create(policy=lenient, name="Bronze", rank=1)
    GradePolicy.objects.filter(is_active=True).update(is_active=False)
    GradePolicy.objects.filter(pk=lenient.pk).update(is_active=True)

    body = evidence(seller_client, late_and_missed, "period=2026-10&metric=response_rate").json()

    assert [item["in_time"] for item in body["results"]] == [False, True]
    assert body["results"][0]["deadline"] == "2026-10-11T09:00:00+09:00"


# --- JSON: pagination -------------------------------------------------------------------------


def test_a_short_list_is_one_page_with_the_spec_keys(seller_client, late_and_missed):
    body = evidence(seller_client, late_and_missed, ON_TIME).json()

    assert {"count", "next", "previous", "results"} <= set(body)
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert len(body["results"]) == 2


def test_no_items_is_an_empty_first_page(seller_client, seller):
    body = evidence(seller_client, seller, ON_TIME).json()

    assert (body["count"], body["next"], body["previous"], body["results"]) == (0, None, None, [])


def test_a_page_holds_100_items_by_default(seller_client, seller):
    expected = given_deliveries(seller, count=250)

    body = evidence(seller_client, seller, ON_TIME).json()

    assert body["count"] == 250
    assert [i["external_id"] for i in body["results"]] == expected[:100]
    assert body["previous"] is None
    assert link(body["next"]) == url_of(seller, ON_TIME + "&page=2")


def test_next_and_previous_are_absolute_urls_that_keep_the_query(seller_client, seller):
    given_deliveries(seller, count=250)

    body = evidence(seller_client, seller, ON_TIME + "&page_size=100&page=2").json()

    assert link(body["next"]) == url_of(seller, ON_TIME + "&page_size=100&page=3")
    # DRF drops page=1 from the link to the first page: the same page.
    assert link(body["previous"]) == url_of(seller, ON_TIME + "&page_size=100")


def test_the_last_page_has_the_rest_and_no_next(seller_client, seller):
    expected = given_deliveries(seller, count=250)

    body = evidence(seller_client, seller, ON_TIME + "&page=3").json()

    assert [i["external_id"] for i in body["results"]] == expected[200:]
    assert body["next"] is None
    assert link(body["previous"]) == url_of(seller, ON_TIME + "&page=2")


def test_failing_items_come_first_across_page_boundaries(seller_client, seller):
    # 100 orders, 34 late (every third from the first): pages of 15 split the late ones over
    # three pages, and page 3 holds the last 4 late ones and then the first 11 on-time ones.
    expected = given_deliveries(seller, count=100)

    pages, url = [], f"/api/v1/sellers/{seller.external_id}/evidence?{ON_TIME}&page_size=15"
    while url:
        body = seller_client.get(url).json()
        pages.append([(i["external_id"], i["on_time"]) for i in body["results"]])
        url = body["next"]

    assert [len(page) for page in pages] == [15, 15, 15, 15, 15, 15, 10]
    assert [external_id for page in pages for external_id, _ in page] == expected
    assert [on_time for _, on_time in pages[2]] == [False] * 4 + [True] * 11


def test_a_page_size_of_1000_is_allowed(seller_client, seller):
    given_deliveries(seller, count=3)

    response = evidence(seller_client, seller, ON_TIME + "&page_size=1000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize(
    ("page_size", "message"),
    [
        ("1001", "At most 1000 items a page"),
        ("5000", "At most 1000 items a page"),
        ("0", "whole number of at least 1"),
        ("-5", "whole number of at least 1"),
        ("ten", "whole number of at least 1"),
        ("2.5", "whole number of at least 1"),
        ("9" * 30, "At most 1000 items a page"),
        ("9" * 5000, "whole number of at least 1"),
    ],
)
def test_a_bad_page_size_is_400_with_a_field_message(seller_client, seller, page_size, message):
    response = evidence(seller_client, seller, ON_TIME + f"&page_size={page_size}")

    assert response.status_code == 400
    assert message in response.json()["page_size"][0]


@pytest.mark.parametrize("page", ["0", "-1", "two", "1e3"])
def test_a_page_that_is_not_a_whole_number_is_400(seller_client, seller, page):
    response = evidence(seller_client, seller, ON_TIME + f"&page={page}")

    assert response.status_code == 400
    assert "whole number of at least 1" in response.json()["page"][0]


@pytest.mark.parametrize(("orders", "page"), [(0, 2), (250, 4), (250, 10**30)])
def test_a_page_past_the_last_is_404_in_json(seller_client, seller, orders, page):
    given_deliveries(seller, count=orders)

    response = evidence(seller_client, seller, ON_TIME + f"&page={page}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith(f"Invalid page {page}:")


# --- CSV --------------------------------------------------------------------------------------


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
    assert response["Content-Disposition"] == (
        'attachment; filename="evidence-2026-10-response_rate.csv"'
    )
    assert csv_rows(response) == [
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


def test_csv_streams_every_item_not_a_page(seller_client, seller):
    expected = given_deliveries(seller, count=250)

    response = evidence(seller_client, seller, ON_TIME + "&format=csv&page_size=10&page=2")

    assert isinstance(response, StreamingHttpResponse)
    rows = csv_rows(response)
    assert len(rows) == 251  # the header and all 250 orders, whatever page was asked for
    assert rows[0] == [
        "external_id",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "on_time",
    ]
    assert [row[0] for row in rows[1:]] == expected
    assert rows[1] == [
        "d-0000",
        "2026-09-30T23:00:00+09:00",
        "2026-10-01T00:00:00+09:00",
        "",
        "",
        "",
        "false",
    ]


def test_csv_without_items_still_has_a_header(seller_client, seller):
    response = evidence(seller_client, seller, "period=2026-10&metric=average_rating&format=csv")

    assert b"".join(response.streaming_content).decode().splitlines() == [
        "external_id,order,rating"
    ]


def test_csv_neutralises_spreadsheet_formulas(seller_client, seller):
    MessageFactory(seller=seller, conversation="=HYPERLINK(1)", sent_at=aware("2026-10-03 09:00"))

    response = evidence(seller_client, seller, "period=2026-10&metric=inquiries&format=csv")

    assert csv_rows(response)[1][0] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("period=2026-13&metric=on_time_rate", 400, "period"),
        ("period=2026-10&metric=speed", 400, "metric"),
        ("period=0001-01&metric=on_time_rate", 400, "period"),
    ],
)
@pytest.mark.parametrize("how", [{"HTTP_ACCEPT": "text/csv"}, {}], ids=["accept", "format"])
def test_a_bad_query_as_csv_is_answered_in_json(seller_client, seller, query, status, field, how):
    if not how:
        query += "&format=csv"

    response = evidence(seller_client, seller, query, **how)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()[field]


def test_options_asking_for_csv_is_answered_in_json(seller_client, seller):
    response = seller_client.options(
        f"/api/v1/sellers/{seller.external_id}/evidence?{ON_TIME}&format=csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "text/csv" in response.json()["renders"]


# --- errors, access, cost ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("metric=on_time_rate", "period", "required"),
        ("period=2026-13&metric=on_time_rate", "period", "from 1900-01 to 2999-12"),
        ("period=%202026-10&metric=on_time_rate", "period", "YYYY-MM"),
        ("period=last&metric=on_time_rate", "period", "YYYY-MM"),
        ("period=2026-10", "metric", "required"),
        ("period=2026-10&metric=speed", "metric", "Unknown metric"),
        ("period=2026-10&metric=revenue", "metric", "cumulative"),
        ("period=9998-12&metric=on_time_rate", "period", "from 1900-01 to 2999-12"),
        ("period=0001-01&metric=on_time_rate", "period", "from 1900-01 to 2999-12"),
        ("period=2026-10&metric=on_time_rate&sort=asc", "sort", "Unknown query parameter"),
    ],
)
def test_a_bad_query_is_400_with_a_clear_message(seller_client, seller, query, field, message):
    response = evidence(seller_client, seller, query)

    assert response.status_code == 400
    assert message in response.json()[field][0]


@pytest.mark.parametrize("metric", ["response_rate", "on_time_rate", "average_rating"])
def test_the_earliest_period_has_evidence(seller_client, seller, metric):
    given_policy(window_months=1200)  # the window of 1900-01 reaches back to 1800

    response = evidence(seller_client, seller, f"period=1900-01&metric={metric}")

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_evidence_requires_authentication(api_client, seller):
    assert evidence(api_client, seller, ON_TIME).status_code == 401


@pytest.mark.parametrize("fmt", ["", "&format=csv"], ids=["json", "csv"])
def test_another_sellers_evidence_is_404(seller_client, fmt):
    other = a_seller()
    given_deliveries(other, count=3)

    response = evidence(seller_client, other, ON_TIME + fmt)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("orders", [1, 250])
def test_a_json_page_takes_the_same_queries_whatever_the_history(
    orders, seller_client, seller, django_assert_max_num_queries
):
    given_policy()
    given_deliveries(seller, count=orders)
    runs.evaluate_period(period=OCT)

    # token + user, seller, the period's run policy, the count, the page
    with django_assert_max_num_queries(5):
        response = evidence(seller_client, seller, ON_TIME + "&page_size=10")

    assert response.json()["count"] == orders
    assert len(response.json()["results"]) == min(orders, 10)


@pytest.mark.parametrize("orders", [1, 250])
def test_the_csv_takes_the_same_queries_whatever_the_history(
    orders, seller_client, seller, django_assert_max_num_queries
):
    given_policy()
    given_deliveries(seller, count=orders)
    runs.evaluate_period(period=OCT)

    # token + user, seller, the period's run policy, the orders (read in chunks, one query)
    with django_assert_max_num_queries(4):
        response = evidence(seller_client, seller, ON_TIME + "&format=csv")
        rows = csv_rows(response)

    assert len(rows) == orders + 1


def test_the_openapi_schema_describes_the_pages_and_their_parameters(staff_client):
    schema = staff_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = schema.json()
    operation = next(
        path["get"] for url, path in document["paths"].items() if url.endswith("/evidence")
    )
    components = document["components"]["schemas"]

    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert parameters["page_size"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 100,
    }
    assert parameters["page"] == {"type": "integer", "minimum": 1, "default": 1}
    assert parameters["format"]["enum"] == ["csv", "json"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    page = components[content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["required"])
    assert page["properties"]["next"]["nullable"] is True
    item = components[page["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]]
    kinds = [components[ref["$ref"].rsplit("/", 1)[1]] for ref in item["oneOf"]]
    assert [sorted(kind["required"]) for kind in kinds] == [
        ["answered_at", "conversation", "deadline", "in_time", "sent_at"],
        [
            "cancelled_at",
            "cancelled_by",
            "completed_at",
            "delivered_at",
            "due_at",
            "external_id",
            "on_time",
        ],
        ["external_id", "order", "rating"],
    ]
    assert {"400", "404"} <= set(operation["responses"])


# --- outside in: on 2027-01-15, data pushed through the ingestion API ---------------------------


@pytest.fixture
def late_order_and_missed_inquiry(clock_at_2027_01_15, staff_client) -> str:
    """Orders ev-ok (on time) and ev-late (due 10:30, delivered 11:00), reviewed 5 and 1; an
    inquiry answered after 5 minutes (ev-c1) and one never answered (ev-c2); October evaluated."""
    s = push_seller(staff_client, "evid")
    push_completed_order(staff_client, "ev-ok", seller=s, day="2026-10-05")
    push_completed_order(
        staff_client, "ev-late", seller=s, day="2026-10-06", due="2026-10-06 10:30"
    )
    push_review(staff_client, "ev-r1", order="ev-ok", rating=5, at="2026-10-07 09:00")
    push_review(staff_client, "ev-r2", order="ev-late", rating=1, at="2026-10-07 10:00")
    push_message(staff_client, "ev-m1", s, "ev-c1", "buyer", at="2026-10-10 09:00")
    push_message(staff_client, "ev-m2", s, "ev-c1", "seller", at="2026-10-10 09:05")
    push_message(staff_client, "ev-m3", s, "ev-c2", "buyer", at="2026-10-12 09:00")
    evaluate(staff_client, "2026-10")
    return s


def test_order_evidence_shows_the_late_order_first(staff_client, late_order_and_missed_inquiry):
    items = evidence_items(
        client_of(late_order_and_missed_inquiry),
        late_order_and_missed_inquiry,
        "2026-10",
        "on_time_rate",
    )

    assert [(i["external_id"], i["on_time"]) for i in items] == [
        ("ev-late", False),
        ("ev-ok", True),
    ]
    assert set(items[0]) >= {
        "external_id",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "on_time",
    }
    assert items[0]["due_at"] == "2026-10-06T10:30:00+09:00"
    assert items[0]["delivered_at"] == "2026-10-06T11:00:00+09:00"
    assert items[0]["cancelled_by"] is None


def test_inquiry_evidence_shows_the_missed_inquiry_first(
    staff_client, late_order_and_missed_inquiry
):
    items = evidence_items(staff_client, late_order_and_missed_inquiry, "2026-10", "response_rate")

    assert set(items[0]) >= {"conversation", "sent_at", "deadline", "answered_at", "in_time"}
    assert [(i["conversation"], i["in_time"]) for i in items] == [
        ("ev-c2", False),
        ("ev-c1", True),
    ]
    assert items[0]["deadline"] == "2026-10-13T09:00:00+09:00"
    assert items[0]["answered_at"] is None
    assert items[1]["answered_at"] == "2026-10-10T09:05:00+09:00"


def test_review_evidence_shows_the_negative_review_first(
    staff_client, late_order_and_missed_inquiry
):
    items = evidence_items(
        staff_client, late_order_and_missed_inquiry, "2026-10", "negative_review_rate"
    )

    assert items == [
        {"external_id": "ev-r2", "order": "ev-late", "rating": 1},
        {"external_id": "ev-r1", "order": "ev-ok", "rating": 5},
    ]


@pytest.mark.parametrize("how", ["query", "accept"])
def test_evidence_as_csv_has_a_header_and_one_row_per_item(
    staff_client, late_order_and_missed_inquiry, how
):
    seller = late_order_and_missed_inquiry
    url = f"/api/v1/sellers/{seller}/evidence?period=2026-10&metric=on_time_rate"
    if how == "query":
        response = staff_client.get(url + "&format=csv")
    else:
        response = staff_client.get(url, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["external_id"], r["on_time"]) for r in rows] == [
        ("ev-late", "false"),
        ("ev-ok", "true"),
    ]


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "query",
    ["period=9999-12&metric=on_time_rate", "period=0001-01&metric=response_rate"],
)
def test_a_period_at_the_ends_of_the_calendar_is_never_a_500(staff_client, query):
    s = push_seller(staff_client, "evq")

    response = evidence(staff_client, s, query)

    assert response.status_code in (200, 400)
