"""GET / PUT /api/v1/policy: the active policy as code (SPEC §7)."""

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator

from metrics.models import GradeLevel, GradePolicy
from metrics.policy import active_policy
from metrics.policy_api import PolicyView

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
    }
    assert [(lvl["name"], lvl["rank"]) for lvl in body["levels"]] == [
        ("Level 1", 1),
        ("Level 2", 2),
        ("Level 3", 3),
        ("Master", 4),
    ]
    assert body["levels"][0]["criteria"] == []
    assert body["levels"][1]["criteria"] == [
        {"metric": "completed_orders", "op": ">=", "value": 15, "any_of": "volume"},
        {"metric": "revenue", "op": ">=", "value": 5000000, "any_of": "volume"},
        {"metric": "average_rating", "op": ">=", "value": 4.7, "any_of": ""},
        {"metric": "response_rate", "op": ">=", "value": 90, "any_of": ""},
    ]


def test_trailing_slash_is_accepted(seller_client):
    assert seller_client.get(URL + "/").status_code == 200


def test_get_policy_takes_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    # auth token + active policy + levels + criteria
    with django_assert_max_num_queries(4):
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
    assert set(operations["put"]["responses"]) == {"200", "201", "400", "409"}
    value = schema["components"]["schemas"]["PolicyCriterion"]["properties"]["value"]
    assert value["type"] == "number"
