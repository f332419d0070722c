"""What the OpenAPI schema promises, answer by answer: every error in the one ``Error`` shape
(``BulkError`` for a bulk 400, whatever the cause), unknown or repeated query parameters
refused on every list, and request bodies taken exactly as the schema types them."""

from __future__ import annotations

import pytest
from rest_framework.throttling import UserRateThrottle

from metrics.models import GradePolicy
from orders.models import Order, Seller
from tests.api_helpers import INGEST_ENTITIES, open_order_body, seller_body


def is_error(body: object) -> bool:
    """The ``Error`` component: ``detail`` a string, every other key a list of strings."""
    if not isinstance(body, dict) or not body:
        return False
    for key, value in body.items():
        if key == "detail":
            if not isinstance(value, str):
                return False
        elif not (isinstance(value, list) and all(isinstance(m, str) for m in value)):
            return False
    return True


# --- the one error shape -----------------------------------------------------------------------


def test_401_403_404_are_errors(api_client, seller_client, seller):
    answers = [
        api_client.get("/api/v1/orders"),
        seller_client.put("/api/v1/orders/o-1", {}, format="json"),
        seller_client.get("/api/v1/sellers/nobody/grade"),
    ]
    assert [a.status_code for a in answers] == [401, 403, 404]
    assert all(is_error(a.json()) for a in answers)


def test_415_and_429_are_errors(staff_client, monkeypatch):
    unsupported = staff_client.put("/api/v1/policy", "levels", content_type="text/plain")
    rates = {**UserRateThrottle.THROTTLE_RATES, "user": "1/minute"}
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    statuses = [staff_client.get("/api/v1/sellers") for _ in range(2)]
    assert (unsupported.status_code, statuses[-1].status_code) == (415, 429)
    assert is_error(unsupported.json()) and is_error(statuses[-1].json())


@pytest.mark.parametrize(
    ("method", "url"), [("put", "/api/v1/policy"), ("post", "/api/v1/evaluations")]
)
def test_a_body_past_the_upload_limit_is_a_json_413_everywhere(staff_client, settings, method, url):
    # Was Django's HTML 400 page outside the ingestion endpoints.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "x" * 2048 + '"}'
    response = getattr(staff_client, method)(url, body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_a_policy_that_is_not_json_is_a_declared_error(staff_client):
    response = staff_client.put("/api/v1/policy", "{levels", content_type="application/json")
    assert response.status_code == 400
    assert is_error(response.json())
    assert "JSON parse error" in response.json()["detail"]


def test_nested_and_list_messages_are_flattened_to_the_error_shape():
    # Imported here: DRF's settings name common.api, so it must not be the first to load DRF.
    from common.api import error_body

    assert error_body(["Expected a dictionary."]) == {
        "non_field_errors": ["Expected a dictionary."]
    }
    assert error_body({"levels": [{"name": ["Required."]}, {}], "detail": "x"}) == {
        "levels": ["[0].name: Required."],
        "detail": "x",
    }
    assert error_body({"events": {1: ["Not a valid choice."]}}) == {
        "events": ["[1]: Not a valid choice."]
    }
    assert error_body({"detail": ["a", "b"]}) == {"non_field_errors": ["a", "b"]}


# --- bulk 400s always carry ``errors`` -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "query", "message"),
    [
        ("{not json", "", "JSON parse error"),
        ('{"external_id": "s-1"}', "", "Expected a JSON list"),
        ("[]", "?dry_run=1", "Unknown query parameter"),
    ],
    ids=["unparseable", "not-a-list", "unknown-parameter"],
)
@pytest.mark.parametrize("entity", INGEST_ENTITIES)
def test_a_bulk_400_always_has_errors_with_index_null(staff_client, entity, body, query, message):
    response = staff_client.post(
        f"/api/v1/{entity}/bulk{query}", body, content_type="application/json"
    )
    assert response.status_code == 400
    [entry] = response.json()["errors"]
    assert (entry["index"], entry["external_id"]) == (None, None)
    messages = [
        m for key, value in entry.items() if key not in ("index", "external_id") for m in value
    ]
    assert any(message in m for m in messages), messages


# --- query parameters: documented or refused -----------------------------------------------------

LISTS = [
    "/api/v1/sellers",
    "/api/v1/orders",
    "/api/v1/messages",
    "/api/v1/reviews",
    "/api/v1/cases",
    "/api/v1/surveys",
    "/api/v1/conversations",
    "/api/v1/evaluations",
    "/api/v1/sellers/{seller}/evaluations",
    "/api/v1/sellers/{seller}/evidence?period=2026-10&metric=on_time_rate",
]


@pytest.mark.parametrize("url", LISTS)
def test_every_list_refuses_an_unknown_query_parameter(staff_client, seller, url):
    url = url.format(seller=seller.external_id)
    joined = "&" if "?" in url else "?"
    assert staff_client.get(url).status_code == 200

    response = staff_client.get(f"{url}{joined}sort=-created_at")

    assert response.status_code == 400
    assert "Unknown query parameter" in response.json()["sort"][0]


@pytest.mark.parametrize("query", ["page_size=10&page_size=20", "page=", "page_size=abc"])
def test_a_repeated_empty_or_unreadable_page_parameter_is_400(staff_client, query):
    response = staff_client.get(f"/api/v1/sellers?{query}")
    assert response.status_code == 400
    assert is_error(response.json())


def test_the_csv_evidence_still_checks_its_page_parameters(staff_client, seller):
    url = f"/api/v1/sellers/{seller.external_id}/evidence"
    response = staff_client.get(
        url, {"period": "2026-10", "metric": "on_time_rate", "format": "csv", "page_size": "x"}
    )
    assert response.status_code == 400
    assert "page_size" in response.json()


# --- bodies as the schema types them ------------------------------------------------------------


@pytest.mark.parametrize("field", ["due_at", "delivered_at", "cancelled_by", "currency"])
def test_an_empty_string_is_not_null_for_an_optional_field(staff_client, seller, field):
    body = open_order_body(seller=seller.external_id, **{field: ""})
    response = staff_client.put("/api/v1/orders/o-1", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()


def test_null_takes_the_default_where_the_schema_allows_null(staff_client, seller):
    order = open_order_body(seller=seller.external_id, currency=None, excluded_from_metrics=None)
    assert staff_client.put("/api/v1/orders/o-1", order, format="json").status_code == 201
    body = seller_body("s-9", display_name=None)
    assert staff_client.put("/api/v1/sellers/s-9", body, format="json").status_code == 201
    stored = Order.objects.get(external_id="o-1")
    assert (stored.currency, stored.excluded_from_metrics) == ("KRW", False)
    assert Seller.objects.get(external_id="s-9").display_name == ""


def policy_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "window_months": 3,
        "levels": [
            {"name": "Base", "rank": 1, "criteria": []},
            {
                "name": "Top",
                "rank": 2,
                "criteria": [{"metric": "average_rating", "op": ">=", "value": 4.7}],
            },
        ],
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    ("body", "place"),
    [
        (policy_body(window_months="3"), "window_months"),
        (policy_body(response_window_hours=True), "response_window_hours"),
        (policy_body(name=7), "name"),
        (
            policy_body(
                levels=[
                    {
                        "name": "Top",
                        "rank": 1,
                        "criteria": [{"metric": "average_rating", "op": ">=", "value": "4.7"}],
                    }
                ]
            ),
            "levels[0].criteria[0].value",
        ),
        (
            policy_body(
                levels=[
                    {
                        "name": "Top",
                        "rank": 1,
                        "criteria": [
                            {"metric": "average_rating", "op": ">=", "value": 4.7, "any_of": {}}
                        ],
                    }
                ]
            ),
            "levels[0].criteria[0].any_of",
        ),
        (policy_body(levels=[{"name": "Top", "rank": "1"}]), "levels[0].rank"),
        (policy_body(window_days=36500), "window_days"),
    ],
    ids=[
        "months-text",
        "hours-bool",
        "name-number",
        "value-text",
        "any_of-object",
        "rank-text",
        "days-past-smallint",
    ],
)
def test_a_policy_body_of_the_wrong_json_type_is_400_and_nothing_changes(staff_client, body, place):
    before = GradePolicy.objects.count()
    response = staff_client.put("/api/v1/policy", body, format="json")
    assert response.status_code == 400
    assert place in response.json()
    assert GradePolicy.objects.count() == before


def test_the_longest_window_in_days_is_stored(staff_client):
    response = staff_client.put("/api/v1/policy", policy_body(window_days=3650), format="json")
    assert response.status_code == 200
    assert response.json()["window_days"] == 3650


def test_a_moment_in_local_mean_time_is_answered_as_a_valid_date_time(staff_client):
    # Asia/Seoul before 1908 is +08:27:52, which RFC 3339 (the schema's date-time) cannot say.
    body = seller_body("s-old", joined_at="1900-09-19T12:00:00Z")
    response = staff_client.put("/api/v1/sellers/s-old", body, format="json")
    assert response.status_code == 201
    assert response.json()["joined_at"] == "1900-09-19T12:00:00Z"
    recent = staff_client.put("/api/v1/sellers/s-new", seller_body("s-new"), format="json")
    assert recent.json()["joined_at"] == "2025-01-01T00:00:00+09:00"


def test_an_api_path_with_a_newline_is_a_json_404(staff_client):
    # The catch-all for unknown /api/ paths missed a path with a newline (regex "." stops at
    # one), which got Django's HTML page (schemathesis found it on /api/v1/webhooks/%0A).
    response = staff_client.get("/api/v1/no-such/%0A")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
