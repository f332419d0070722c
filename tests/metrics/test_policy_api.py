"""GET / PUT /api/v1/policy: the active policy as code (SPEC §7)."""

from typing import Any

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator

from metrics.models import GradeLevel, GradePolicy
from metrics.policy.api import PolicyView
from metrics.policy.services import active_policy
from tests.api_helpers import push_policy, tiers_policy

pytestmark = pytest.mark.django_db

URL = "/api/v1/policy"


def policy_payload() -> dict:
    return {
        "name": "Fiverr-like",
        "window_months": 2,
        "window_days": None,
        "response_window_hours": 12,
        "demotion_grace_months": 1,
        "levels": [
            {
                "name": "Level 2",
                "rank": 2,
                "criteria": [
                    {"metric": "completed_orders", "op": ">=", "value": 50, "any_of": "volume"},
                    {"metric": "revenue", "op": ">=", "value": 20000, "any_of": "volume"},
                    {"metric": "average_rating", "op": ">=", "value": 4.8, "any_of": ""},
                ],
            },
            {"name": "New seller", "rank": 0, "criteria": []},
            {
                "name": "Level 1",
                "rank": 1,
                "criteria": [
                    {"metric": "response_rate", "op": ">=", "value": 90, "any_of": ""},
                    {"metric": "seller_cancellation_rate", "op": "<=", "value": 2.5},
                ],
            },
        ],
    }


def test_anonymous_user_gets_401(api_client):
    assert api_client.get(URL).status_code == 401


def test_seller_reads_the_active_policy_with_levels_by_rank_and_numbers(seller_client):
    response = seller_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == active_policy().pk
    assert {k: v for k, v in body.items() if k not in ("id", "levels")} == {
        "name": "Kmong default",
        "window_months": 3,
        "window_days": None,
        "response_window_hours": 24,
        "demotion_grace_months": 0,
        "score": [],
    }
    assert [(lvl["name"], lvl["rank"]) for lvl in body["levels"]] == [
        ("Level 1", 1),
        ("Level 2", 2),
        ("Level 3", 3),
        ("Master", 4),
    ]
    assert body["levels"][0]["criteria"] == []
    assert body["levels"][1]["criteria"] == [
        {**criterion, "window_days": None}
        for criterion in (
            {"metric": "completed_orders", "op": ">=", "value": 15, "any_of": "volume"},
            {"metric": "revenue", "op": ">=", "value": 5000000, "any_of": "volume"},
            {"metric": "average_rating", "op": ">=", "value": 4.7, "any_of": ""},
            {"metric": "response_rate", "op": ">=", "value": 90, "any_of": ""},
        )
    ]


def test_trailing_slash_is_accepted(seller_client):
    assert seller_client.get(URL + "/").status_code == 200


def test_get_policy_takes_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    # auth token + staff permissions + active policy + levels + criteria
    with django_assert_max_num_queries(5):
        assert staff_client.get(URL).status_code == 200


def test_seller_cannot_replace_the_policy(seller_client):
    response = seller_client.put(URL, policy_payload(), format="json")
    assert response.status_code == 403
    assert active_policy().name == "Kmong default"


def test_staff_replaces_the_policy_and_the_old_one_is_kept_inactive(staff_client, staff_user):
    old = active_policy()
    response = staff_client.put(URL, policy_payload(), format="json")
    assert response.status_code == 200
    body = response.json()
    new = active_policy()
    old.refresh_from_db()
    assert body["id"] == new.pk != old.pk
    assert old.is_active is False
    assert GradeLevel.objects.filter(policy=old).count() == 4
    assert new.created_by == staff_user
    assert [lvl["name"] for lvl in body["levels"]] == ["New seller", "Level 1", "Level 2"]
    assert body["levels"][1]["criteria"][1] == {
        "metric": "seller_cancellation_rate",
        "op": "<=",
        "value": 2.5,
        "any_of": "",
        "window_days": None,
    }
    assert staff_client.get(URL).json() == body


def test_put_creates_with_201_when_no_policy_was_active(staff_client):
    GradePolicy.objects.update(is_active=False)
    assert staff_client.get(URL).status_code == 404
    response = staff_client.put(URL, policy_payload(), format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "Fiverr-like"


def test_incoherent_policy_is_a_400_naming_each_place_and_changes_nothing(staff_client):
    payload = policy_payload()
    payload["window_months"] = None
    payload["levels"][2]["criteria"][0]["value"] = 120
    payload["levels"][1]["rank"] = 2
    count = GradePolicy.objects.count()
    response = staff_client.put(URL, payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert sorted(errors) == ["levels[1].rank", "levels[2].criteria[0].value", "window_months"]
    assert "response_rate is a rate" in errors["levels[2].criteria[0].value"][0]
    assert GradePolicy.objects.count() == count
    assert active_policy().name == "Kmong default"


@pytest.mark.parametrize("body", [[], "policy", {"levels": "x"}, {}])
def test_malformed_bodies_are_400_not_500(staff_client, body):
    assert staff_client.put(URL, body, format="json").status_code == 400


def test_schema_documents_get_and_put_policy():
    # Only this view's patterns, so another endpoint's schema cannot hide this one's.
    generator = SchemaGenerator(patterns=[path("api/v1/policy", PolicyView.as_view())])
    schema = generator.get_schema(request=None, public=True)
    operations = schema["paths"]["/api/v1/policy"]
    assert {"get", "put"} <= set(operations)
    request_schema = operations["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert request_schema == {"$ref": "#/components/schemas/PolicyRequest"}
    assert set(operations["put"]["responses"]) == {
        *("200", "201", "400", "401", "403", "409", "413", "415", "429", "503")
    }
    error = {"$ref": "#/components/schemas/Error"}
    for status in ("400", "409"):
        assert operations["put"]["responses"][status]["content"]["application/json"]["schema"] == (
            error
        )
    value = schema["components"]["schemas"]["PolicyCriterion"]["properties"]["value"]
    assert value["type"] == "number"


# --- outside in, on 2027-01-15 ------------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_policy_get_lists_levels_by_rank_with_numbers(staff_client, seller_client):
    push_policy(staff_client, tiers_policy(levels=list(reversed(tiers_policy()["levels"]))))

    body = seller_client.get(URL).json()

    assert [level["name"] for level in body["levels"]] == ["Bronze", "Silver", "Gold"]
    assert [level["rank"] for level in body["levels"]] == [1, 2, 3]
    assert (body["window_months"], body["window_days"]) == (1, None)
    assert (body["response_window_hours"], body["demotion_grace_months"]) == (24, 0)
    assert body["levels"][2]["criteria"] == [
        {
            "metric": "window_completed_orders",
            "op": ">=",
            "value": 2,
            "any_of": "",
            "window_days": None,
        }
    ]


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_the_policy_read_back_can_be_put_again_unchanged(staff_client):
    before = staff_client.get(URL).json()

    response = staff_client.put(URL, before, format="json")

    assert response.status_code == 200
    after = staff_client.get(URL).json()
    assert after["id"] != before["id"]  # a new active policy; the old one is kept
    assert {k: v for k, v in after.items() if k != "id"} == {
        k: v for k, v in before.items() if k != "id"
    }


def _with(policy: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {**policy, **change}


def _with_criterion(metric: str, op: str, value: Any) -> dict[str, Any]:
    body = tiers_policy()
    body["levels"][1]["criteria"] = [{"metric": metric, "op": op, "value": value}]
    return body


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "body",
    [
        _with_criterion("no_such_metric", ">=", 1),
        _with_criterion("response_rate", ">=", 120),
        _with_criterion("average_rating", ">=", 6),
        _with_criterion("completed_orders", ">=", -1),
        _with_criterion("response_rate", ">", 90),
        _with_criterion("response_rate", ">=", "ninety"),
        _with(tiers_policy(), window_months=None, window_days=None),
        _with(
            tiers_policy(),
            levels=[
                {"name": "Same", "rank": 1, "criteria": []},
                {"name": "Same", "rank": 2, "criteria": []},
            ],
        ),
        _with(
            tiers_policy(),
            levels=[
                {"name": "One", "rank": 1, "criteria": []},
                {"name": "Two", "rank": 1, "criteria": []},
            ],
        ),
        _with(tiers_policy(), levels=[]),
        _with(tiers_policy(), levels="Gold"),
    ],
    ids=[
        "unknown-metric",
        "rate-over-100",
        "rating-over-5",
        "negative-count",
        "bad-op",
        "non-numeric-value",
        "no-window",
        "duplicate-names",
        "duplicate-ranks",
        "no-levels",
        "levels-not-a-list",
    ],
)
def test_an_invalid_policy_is_400_and_the_old_policy_stays_active(staff_client, body):
    before = staff_client.get(URL).json()

    response = staff_client.put(URL, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert errors and all(
        isinstance(messages, list) and all(isinstance(m, str) and m for m in messages)
        for messages in errors.values()
    ), errors
    assert staff_client.get(URL).json() == before


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "body",
    [
        None,
        {"levels": [{"name": "A", "rank": "x"}]},
        {"levels": [{"name": "A", "rank": 1, "criteria": [None]}]},
        {"levels": [{"name": "A", "rank": 1, "criteria": "x"}]},
        {"levels": [{"name": "A", "rank": 1}], "window_days": "1e999999"},
        {"levels": [{"name": "A", "rank": 1}], "response_window_hours": 0},
        {"levels": [{"name": "A", "rank": 1}], "window_months": -1},
        {
            "levels": [
                {
                    "name": "A",
                    "rank": 1,
                    "criteria": [{"metric": "revenue_top_percent", "op": "<=", "value": 0}],
                }
            ]
        },
    ],
)
def test_a_malformed_policy_is_400_not_500(staff_client, body):
    response = staff_client.put(URL, body, format="json")

    assert response.status_code == 400


@pytest.mark.usefixtures("clock_at_2027_01_15")
@pytest.mark.parametrize(
    "change",
    [
        {"name": "Tiers\x00"},
        {"levels": [{"name": "Bronze\x00", "rank": 1, "criteria": []}]},
        {
            "levels": [
                {
                    "name": "Bronze",
                    "rank": 1,
                    "criteria": [{"metric": "revenue", "op": ">=", "value": 1, "any_of": "\x00"}],
                }
            ]
        },
    ],
    ids=["policy-name", "level-name", "any-of"],
)
def test_a_nul_character_in_a_policy_is_400_not_500(staff_client, change):
    response = staff_client.put(URL, {**tiers_policy(), **change}, format="json")

    assert response.status_code == 400
    assert "NUL" in str(response.json())


# --- size caps (issue 10, finding 10) -------------------------------------------------------


def a_level(n: int, criteria: int) -> dict:
    return {
        "name": f"L{n}",
        "rank": n,
        "criteria": [
            {"metric": "completed_orders", "op": ">=", "value": k, "any_of": ""}
            for k in range(criteria)
        ],
    }


@pytest.mark.parametrize(
    ("levels", "where", "message"),
    [
        ([a_level(n, 0) for n in range(21)], "levels", "At most 20 levels (got 21)."),
        ([a_level(0, 26)], "levels[0].criteria", "At most 25 criteria a level."),
        (
            [a_level(n, 17) for n in range(6)],
            "levels",
            "At most 100 criteria in all (got 102).",
        ),
    ],
)
def test_an_oversized_policy_is_refused_and_the_old_one_stays(staff_client, levels, where, message):
    before = staff_client.get("/api/v1/policy").json()
    body = {**policy_payload(), "levels": levels}

    response = staff_client.put("/api/v1/policy", body, format="json")

    assert response.status_code == 400
    assert response.json()[where] == [message]
    assert staff_client.get("/api/v1/policy").json() == before


def test_the_largest_allowed_policy_is_accepted(staff_client):
    levels = [a_level(n, 5) for n in range(20)]  # 20 levels, 100 criteria

    response = staff_client.put(
        "/api/v1/policy", {**policy_payload(), "levels": levels}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert len(response.json()["levels"]) == 20


@pytest.mark.parametrize(
    ("change", "place"),
    [
        (lambda body: body.update(window_month=3), "window_month"),
        (lambda body: body["levels"][1].update(rnak=2), "levels[1].rnak"),
        (
            lambda body: body["levels"][1]["criteria"][0].update(anyof="x"),
            "levels[1].criteria[0].anyof",
        ),
    ],
)
def test_an_unknown_field_anywhere_in_the_policy_is_named_and_nothing_changes(
    staff_client, change, place
):
    body = staff_client.get(URL).json()
    policies_before = GradePolicy.objects.count()
    change(body)
    response = staff_client.put(URL, body, format="json")
    assert response.status_code == 400
    assert "Unknown field" in response.json()[place][0]
    assert GradePolicy.objects.count() == policies_before
