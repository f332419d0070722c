"""GET /api/v1/grades (SPEC §7): a period's grades for every seller, by cursor pages or streamed
as CSV / NDJSON, filtered by level, move and time written; and GET /api/v1/sellers' level and
period. The world: Bronze < Silver (>= 1 order completed in the month) < Gold (>= 3), a one-month
window, so each seller's level follows its completed orders of the month."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from metrics.engine.periods import Period
from tests.api_helpers import JAN_15_2027, client_of
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy, when_evaluated

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_2027_01_15")]

URL = "/api/v1/grades"
SEP, OCT = Period(2026, 9), Period(2026, 10)

# external_id: (orders completed in September, in October) → Sep level, Oct level, Oct move.
WORLD = {
    "s-a": (0, 3),  # Bronze → Gold: up
    "s-b": (3, 1),  # Gold → Silver: down
    "s-c": (1, 1),  # Silver → Silver: unchanged
    "s-d": (1, 0),  # Silver → Bronze: down
    "s-e": (0, 0),  # Bronze → Bronze: unchanged
}
OCT_LEVELS = {"s-a": "Gold", "s-b": "Silver", "s-c": "Silver", "s-d": "Bronze", "s-e": "Bronze"}
SEP_LEVELS = {"s-a": "Bronze", "s-b": "Gold", "s-c": "Silver", "s-d": "Silver", "s-e": "Bronze"}


@pytest.fixture
def world():
    given_policy()
    sellers = {}
    for external_id, (in_sep, in_oct) in WORLD.items():
        seller = a_seller(external_id=external_id, username=f"u-{external_id}")
        given_completed_orders(seller, count=in_sep, at="2026-09-15 12:00")
        given_completed_orders(seller, count=in_oct, at="2026-10-15 12:00")
        sellers[external_id] = seller
    when_evaluated(SEP)
    when_evaluated(OCT)
    return sellers


def all_pages(client, query: str, page_size: int) -> list[dict]:
    items, url, pages = [], f"{URL}?{query}&page_size={page_size}", 0
    while url:
        body = client.get(url).json()
        items += body["results"]
        url, pages = body["next"], pages + 1
        assert pages < 50
    return items


def test_the_latest_period_by_default_every_seller_with_its_levels(staff_client, world):
    body = staff_client.get(URL).json()

    assert set(body) == {"next", "previous", "results"}
    assert (body["next"], body["previous"]) == (None, None)
    got = {item["seller"]: item for item in body["results"]}
    assert {s: item["level"] for s, item in got.items()} == OCT_LEVELS
    assert {s: item["previous_level"] for s, item in got.items()} == SEP_LEVELS
    assert {item["period"] for item in got.values()} == {"2026-10"}
    item = got["s-a"]
    assert set(item) == {"seller", "period", "level", "previous_level", "at_risk", "metrics"}
    assert item["metrics"]["window_completed_orders"] == 3
    assert item["at_risk"] is False


def test_a_period_asked_for_is_that_period(staff_client, world):
    body = staff_client.get(f"{URL}?period=2026-09").json()
    assert {i["seller"]: i["level"] for i in body["results"]} == SEP_LEVELS
    assert {i["previous_level"] for i in body["results"]} == {None}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("level=Silver", {"s-b", "s-c"}),
        ("level=Nobody", set()),
        ("moved=up", {"s-a"}),
        ("moved=down", {"s-b", "s-d"}),
        ("moved=changed", {"s-a", "s-b", "s-d"}),
        ("moved=down&level=Bronze", {"s-d"}),
    ],
)
def test_filters(staff_client, world, query, expected):
    body = staff_client.get(f"{URL}?period=2026-10&{query}").json()
    assert {item["seller"] for item in body["results"]} == expected


def test_a_first_evaluation_never_moved(staff_client, world):
    body = staff_client.get(f"{URL}?period=2026-09&moved=changed").json()
    assert body["results"] == []


def test_pages_by_cursor_forward_and_back_hold_every_seller_once(staff_client, world):
    first = staff_client.get(f"{URL}?page_size=2").json()
    assert [i["seller"] for i in first["results"]] == ["s-a", "s-b"]
    assert first["previous"] is None
    assert "period=2026-10" in first["next"]  # a later publication cannot switch the period
    second = staff_client.get(first["next"]).json()
    assert [i["seller"] for i in second["results"]] == ["s-c", "s-d"]
    back = staff_client.get(second["previous"]).json()
    assert [i["seller"] for i in back["results"]] == ["s-a", "s-b"]
    assert back["previous"] is None
    assert sorted(i["seller"] for i in all_pages(staff_client, "period=2026-10", 2)) == sorted(
        WORLD
    )


def test_pages_stay_stable_while_the_period_is_rewritten(staff_client, world):
    # A re-run replaces every row of the period (new ids) between two pages: the cursor is the
    # seller, so the sync neither skips nor repeats a seller.
    first = staff_client.get(f"{URL}?page_size=2").json()
    when_evaluated(OCT)
    rest = []
    url = first["next"]
    while url:
        page = staff_client.get(url).json()
        rest += page["results"]
        url = page["next"]
    assert [i["seller"] for i in first["results"] + rest] == sorted(WORLD)


def test_updated_since_holds_what_was_written_or_corrected_since(staff_client, world):
    with_offset = staff_client.get(
        f"{URL}?period=2026-10&updated_since=2027-01-15T12:00:00%2B09:00"
    )
    assert with_offset.status_code == 200, with_offset.content
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        since = later.isoformat().replace("+", "%2B")
        assert staff_client.get(f"{URL}?period=2026-10&updated_since={since}").json() == {
            "next": None,
            "previous": None,
            "results": [],
        }
        # A re-run of September relinks October's previous levels: a correction of those.
        when_evaluated(SEP)
        corrected = staff_client.get(f"{URL}?period=2026-10&updated_since={since}").json()
        september = staff_client.get(f"{URL}?period=2026-09&updated_since={since}").json()
    assert {i["seller"] for i in corrected["results"]} == set(WORLD)
    assert {i["seller"] for i in september["results"]} == set(WORLD)


def test_the_ndjson_stream_is_every_grade_of_the_filtered_period(staff_client, world):
    response = staff_client.get(f"{URL}?format=ndjson&period=2026-10&moved=down")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    text = b"".join(response.streaming_content).decode()
    lines = [json.loads(line) for line in text.splitlines()]
    assert text.endswith("\n")
    assert [(i["seller"], i["level"]) for i in lines] == [("s-b", "Silver"), ("s-d", "Bronze")]
    page = staff_client.get(f"{URL}?period=2026-10&moved=down").json()["results"]
    assert lines == page


def test_accept_headers_choose_the_streams(staff_client, world):
    ndjson = staff_client.get(URL, HTTP_ACCEPT="application/x-ndjson")
    assert len(b"".join(ndjson.streaming_content).splitlines()) == len(WORLD)
    as_csv = staff_client.get(URL, HTTP_ACCEPT="text/csv")
    assert as_csv["Content-Type"].startswith("text/csv")


def test_the_csv_has_a_column_per_metric_and_guards_formulas(staff_client, world):
    world["s-c"].external_id = "=cmd|'/c calc'!A1"
    world["s-c"].save()
    response = staff_client.get(f"{URL}?format=csv&period=2026-10")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == len(WORLD)
    by_seller = {row["seller"]: row for row in rows}
    assert "'=cmd|'/c calc'!A1" in by_seller
    assert by_seller["s-a"]["level"] == "Gold"
    assert by_seller["s-a"]["window_completed_orders"] == "3"
    assert by_seller["s-a"]["at_risk"] == "false"
    assert by_seller["s-e"]["average_rating"] == ""  # null is an empty cell


def test_no_evaluated_period_is_an_empty_page_and_an_empty_stream(staff_client):
    assert staff_client.get(URL).json() == {"next": None, "previous": None, "results": []}
    response = staff_client.get(f"{URL}?format=csv")
    assert b"".join(response.streaming_content).decode().startswith("seller,period,level")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2026-13", "period"),
        ("moved=sideways", "moved"),
        ("updated_since=2026-11-01T00:00:00", "updated_since"),
        ("updated_since=yesterday", "updated_since"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=c12", "cursor"),
        ("page_size=1001", "page_size"),
        ("page_size=0", "page_size"),
        ("format=xml", "format"),
        ("levle=Gold", "levle"),
        ("updated_since=", "updated_since"),
        ("level=", "level"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(staff_client, world, query, field):
    response = staff_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_stream_asked_with_a_bad_query_answers_json(staff_client, world):
    response = staff_client.get(f"{URL}?format=ndjson&moved=sideways")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_a_seller_login_reads_only_its_own_grade(world):
    body = client_of(world["s-b"]).get(URL).json()
    assert [i["seller"] for i in body["results"]] == ["s-b"]


@pytest.mark.postgres
def test_a_page_and_a_stream_are_a_fixed_number_of_queries(
    staff_client, world, django_assert_max_num_queries
):
    # auth (token + user) 1, the staff user's permissions 1, the latest period 1, the period's
    # policy (moved=up) 1, the page 1
    with django_assert_max_num_queries(5):
        staff_client.get(f"{URL}?moved=up&page_size=1000")
    with django_assert_max_num_queries(5):
        response = staff_client.get(f"{URL}?format=ndjson")
        b"".join(response.streaming_content)


# --- GET /api/v1/sellers: each seller's current level and period -------------------------------


def test_the_seller_list_carries_each_sellers_current_level_and_period(staff_client, world):
    a_seller(external_id="s-new", username="u-new")
    body = staff_client.get("/api/v1/sellers").json()
    got = {item["external_id"]: item for item in body["results"]}
    assert {s: (got[s]["level"], got[s]["period"]) for s in WORLD} == {
        s: (level, "2026-10") for s, level in OCT_LEVELS.items()
    }
    assert (got["s-new"]["level"], got["s-new"]["period"]) == (None, None)


def test_the_seller_list_is_a_fixed_number_of_queries(
    staff_client, world, django_assert_max_num_queries
):
    for n in range(20):
        a_seller(external_id=f"s-x{n}", username=f"u-x{n}")
    with django_assert_max_num_queries(4):  # auth, permissions, count, page
        staff_client.get("/api/v1/sellers")


def test_the_schema_documents_the_grades_operation(staff_client):
    schema = staff_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/grades"]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert params == {"period", "level", "moved", "updated_since", "cursor", "page_size", "format"}
    assert set(operation["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/x-ndjson",
    }


def test_the_clock_is_where_the_scenarios_are_written_for():
    assert timezone.now().isoformat()[:10] == JAN_15_2027[:10]


@pytest.mark.parametrize(
    ("since", "expected"),
    [("0351-06-28T13:21:14Z", set(WORLD)), ("9999-12-31T23:59:60Z", set())],
)
def test_updated_since_takes_any_rfc3339_moment_as_a_bound(staff_client, world, since, expected):
    body = staff_client.get(URL, {"period": "2026-10", "updated_since": since}).json()
    assert {item["seller"] for item in body["results"]} == expected


def test_moved_follows_the_policys_one_move_rule_for_a_level_the_policy_left(staff_client, world):
    """A previous level the period's policy no longer has ranks below every level
    (``PolicySnapshot.move``): reaching any level from it is up, here as on the staff overview
    and in the emails."""
    from metrics.models import SellerEvaluation
    from metrics.web.selectors import period_policy

    SellerEvaluation.objects.filter(seller__external_id="s-c", period="2026-10").update(
        previous_level="Platinum (retired)"
    )
    snapshot = period_policy(period=OCT)
    expected: dict[str, set[str]] = {"up": set(), "down": set()}
    for row in SellerEvaluation.objects.filter(period="2026-10").select_related("seller"):
        direction = snapshot.move(row.previous_level, row.level)
        if row.previous_level is not None and direction in expected:
            expected[direction].add(row.seller.external_id)

    up = staff_client.get(f"{URL}?period=2026-10&moved=up").json()["results"]
    down = staff_client.get(f"{URL}?period=2026-10&moved=down").json()["results"]

    assert {item["seller"] for item in up} == expected["up"] == {"s-a", "s-c"}
    assert {item["seller"] for item in down} == expected["down"] == {"s-b", "s-d"}
