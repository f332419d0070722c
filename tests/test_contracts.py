"""One declaration per input contract (common.contracts): the parser, the OpenAPI component and
the admin's validation of cases, conversations and surveys all come from it, so they agree. The
policy body's keys and JSON types come from the serializers that generate its components (its
rules from ``validate_policy_data``, shared with the admin and the tuning page)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from common.contracts import Contract
from common.ingest import ItemReader
from orders.models import Case, Conversation, Order
from orders.services import CASE, CONVERSATION, MESSAGE, ORDER, SELLER
from reviews.models import Survey
from reviews.services import REVIEW, SURVEY
from tests.factories import OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTRACTS: dict[str, Contract[Any]] = {
    "SellerWriteRequest": SELLER,
    "OrderWriteRequest": ORDER,
    "MessageWriteRequest": MESSAGE,
    "ReviewWriteRequest": REVIEW,
    "CaseWriteRequest": CASE,
    "ConversationWriteRequest": CONVERSATION,
    "SurveyWriteRequest": SURVEY,
}


# admin_client: pytest-django's (a superuser signed in).


@pytest.fixture
def schema() -> dict[str, Any]:
    user: Any = UserFactory(username="docs", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client.get("/api/schema/?format=json").json()["components"]["schemas"]


@pytest.mark.parametrize("component", sorted(CONTRACTS))
def test_the_documented_body_is_the_contract(schema, component):
    contract: Contract[Any] = CONTRACTS[component]
    documented = schema[component]

    assert list(documented["properties"]) == [f.name for f in contract.fields]
    assert sorted(documented.get("required", [])) == sorted(
        f.name for f in contract.fields if f.required
    )
    for field in contract.fields:
        shape = documented["properties"][field.name]
        if field.kind == "integer":
            assert (shape["minimum"], shape["maximum"]) == (field.minimum, field.maximum)
        if field.kind == "string":
            assert shape["maxLength"] == field.max_length
        if field.kind == "moment":
            assert shape["format"] == "date-time"
        assert shape.get("nullable", False) is not field.required


@pytest.mark.parametrize("component", sorted(CONTRACTS))
def test_a_field_the_schema_requires_is_one_the_parser_refuses_when_missing(schema, component):
    contract: Contract[Any] = CONTRACTS[component]
    reader = ItemReader({})
    contract.parse(reader, "x-1")

    required = {
        name for name, messages in reader.errors.items() if "This field is required." in messages
    }
    assert required == set(schema[component].get("required", []))


def case_form(order: Any, **fields: str) -> dict[str, str]:
    data = {
        "external_id": "k-9",
        "order": str(order.pk),
        "kind": "claim",
        "opened_at_0": "2026-10-05",
        "opened_at_1": "10:00:00",
        "closed_at_0": "",
        "closed_at_1": "",
        "outcome": "",
    }
    return data | fields


def test_the_admin_refuses_a_case_closed_before_it_opened_with_the_apis_message(admin_client):
    order = OrderFactory(external_id="o-9")
    api = ItemReader(
        {
            "order": "o-9",
            "kind": "claim",
            "opened_at": "2026-10-05T10:00:00+09:00",
            "closed_at": "2026-10-04T10:00:00+09:00",
            "outcome": "withdrawn",
        }
    )
    CASE.parse(api, "k-9")

    page = admin_client.post(
        "/admin/orders/case/add/",
        case_form(order, closed_at_0="2026-10-04", closed_at_1="10:00:00", outcome="withdrawn"),
    )

    assert page.status_code == 200  # the form again, nothing saved
    assert not Case.objects.exists()
    [message] = api.errors["closed_at"]
    assert message in page.content.decode().replace("&#x27;", "'")


def test_the_admin_asks_an_outcome_exactly_when_the_case_is_closed(admin_client):
    order = OrderFactory(external_id="o-9")

    open_with_outcome = admin_client.post(
        "/admin/orders/case/add/", case_form(order, outcome="withdrawn")
    )
    closed_without = admin_client.post(
        "/admin/orders/case/add/",
        case_form(order, closed_at_0="2026-10-06", closed_at_1="10:00:00"),
    )
    saved = admin_client.post(
        "/admin/orders/case/add/",
        case_form(order, closed_at_0="2026-10-06", closed_at_1="10:00:00", outcome="withdrawn"),
    )

    assert "Must be null while the case is open" in open_with_outcome.content.decode()
    assert "Required once the case is closed" in closed_without.content.decode()
    assert saved.status_code == 302
    assert Case.objects.get().outcome == "withdrawn"


def test_the_admin_refuses_a_survey_that_answers_nothing(admin_client):
    order: Any = OrderFactory(external_id="o-9")
    data = {
        "external_id": "v-9",
        "order": str(order.pk),
        "csat": "",
        "nps": "",
        "answered_at_0": "2026-10-05",
        "answered_at_1": "10:00:00",
    }

    page = admin_client.post("/admin/reviews/survey/add/", data)
    saved = admin_client.post("/admin/reviews/survey/add/", data | {"nps": "9"})

    assert "send at least one of them" in page.content.decode()
    assert saved.status_code == 302
    assert Survey.objects.get().nps == 9


def test_the_admin_saves_a_conversation_the_api_would_take(admin_client):
    seller: Any = SellerFactory(external_id="s-9")
    data = {
        "external_id": "c-9",
        "seller": str(seller.pk),
        "buyer": "b-1",
        "resolved_at_0": "2026-10-05",
        "resolved_at_1": "10:00:00",
    }

    saved = admin_client.post("/admin/orders/conversation/add/", data)
    no_buyer = admin_client.post("/admin/orders/conversation/add/", data | {"buyer": ""})

    assert saved.status_code == 302
    assert Conversation.objects.get().buyer == "b-1"
    assert no_buyer.status_code == 200


def order_form(seller: Any, **fields: str) -> dict[str, str]:
    data = {
        "external_id": "o-9",
        "seller": str(seller.pk),
        "buyer": "b-1",
        "amount": "15000.00",
        "currency": "KRW",
        "created_at_0": "2026-10-01",
        "created_at_1": "10:00:00",
    }
    for name in ("due_at", "delivered_at", "completed_at", "cancelled_at", "ship_by", "shipped_at"):
        data |= {f"{name}_0": "", f"{name}_1": ""}
    return data | {"cancelled_by": "", "tracking": ""} | fields


def test_the_admin_refuses_an_order_completed_before_delivery_like_the_api(admin_client):
    seller: Any = SellerFactory(external_id="s-9")
    completed = {"completed_at_0": "2026-10-03", "completed_at_1": "10:00:00"}

    refused = admin_client.post("/admin/orders/order/add/", order_form(seller, **completed))
    saved = admin_client.post(
        "/admin/orders/order/add/",
        order_form(seller, delivered_at_0="2026-10-02", delivered_at_1="10:00:00", **completed),
    )

    assert "Requires delivered_at: an order is delivered first." in refused.content.decode()
    assert saved.status_code == 302
    assert Order.objects.get().completed_at is not None


def test_the_changelist_still_excludes_an_order_from_metrics(admin_client):
    """list_editable (a form of that one field) keeps working beside the contract's form."""
    order: Any = OrderFactory(external_id="o-9")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(order.pk),
        "form-0-excluded_from_metrics": "on",
        "_save": "Save",
    }

    answer = admin_client.post("/admin/orders/order/", data)

    assert answer.status_code == 302, answer.content.decode()[:2000]
    order.refresh_from_db()
    assert order.excluded_from_metrics is True


# --- the policy body: its JSON types and keys are the schema's (the serializers) -------------

POLICY_PLACES = {  # component → (a path to one such object in the body, its place in errors)
    "PolicyRequest": ((), ""),
    "PolicyLevelRequest": (("levels", 1), "levels[1]"),
    "PolicyCriterionRequest": (("levels", 1, "criteria", 0), "levels[1].criteria[0]"),
    "ScorePartRequest": (("score", 0), "score[0]"),
}


def _wrong_value(shape: dict[str, Any]) -> Any:
    """A value of another JSON type than ``shape`` declares."""
    kind = shape.get("type", "string")  # an enum ($ref / allOf) is a string
    return {"integer": "7", "number": "4.7", "string": 7, "array": {"not": "a list"}}[kind]


def _policy_body() -> dict[str, Any]:
    import copy

    from metrics.policy.api import EXAMPLE_POLICY

    body = copy.deepcopy(EXAMPLE_POLICY)
    body["score"] = [{"metric": "response_rate", "weight": 1, "zero": 0, "full": 100}]
    return body


def _at(body: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    for step in path:
        body = body[step]
    return body


@pytest.mark.parametrize("component", sorted(POLICY_PLACES))
def test_the_policy_refuses_exactly_what_its_schema_does_not_declare(
    schema, staff_client, component
):
    client = staff_client
    path, place = POLICY_PLACES[component]
    prefix = f"{place}." if place else ""
    properties = schema[component]["properties"]

    for name, shape in properties.items():
        body = _policy_body()
        _at(body, path)[name] = _wrong_value(shape)
        answer = client.put("/api/v1/policy", body, format="json")
        assert answer.status_code == 400, (name, answer.content)
        assert answer.json()[f"{prefix}{name}"][0].startswith("Must be"), (name, answer.json())
        if shape.get("nullable"):
            body = _policy_body()
            _at(body, path)[name] = None
            answer = client.put("/api/v1/policy", body, format="json")
            said = answer.json().get(f"{prefix}{name}") if answer.status_code == 400 else None
            assert not str(said).startswith("['Must be"), (name, said)

    body = _policy_body()
    _at(body, path)["undocumented"] = 1
    answer = client.put("/api/v1/policy", body, format="json")
    assert answer.status_code == 400 and f"{prefix}undocumented" in answer.json()
    # and the valid body itself is accepted (the refusals above are the changed field's)
    assert client.put("/api/v1/policy", _policy_body(), format="json").status_code == 200
