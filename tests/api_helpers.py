"""The HTTP helpers of the test suite, in one place: every test file that talks to the API takes
its request bodies, clients, requests and outside-in scenario steps from here.

- Request bodies for the ingestion API (``seller_body`` …), valid unless a test overrides a field.
- Clients: ``token_client(user)`` and ``client_of(seller)``, authenticated as an integration is
  (a DRF token, what ``manage.py drf_create_token`` hands out).
- Raw requests that return the response (``put_order`` …), for tests of what the API answers.
- Outside-in steps that assert success (``push_seller``, ``push_order`` … ``evaluate``,
  ``grade_of``): a scenario built and read back through the API only, the way a marketplace
  integration would. Timestamps are written ``"2026-10-05 10:00"`` in Seoul time (``iso_kst``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.db.models import Model
from django.test import TestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders.models import Seller

# The outside-in scenarios of the metrics API run at this instant (``clock_at_2027_01_15`` in
# tests/conftest.py): 2026-09 … 2026-12 have ended, 2027-01 has not.
JAN_15_2027 = "2027-01-15T12:00:00+09:00"

# Every ingestion resource (SPEC §7): PUT /api/v1/<entity>/{external_id}, bulk, list.
INGEST_ENTITIES = [
    "sellers",
    "orders",
    "cases",
    "messages",
    "conversations",
    "reviews",
    "surveys",
]

# --- request bodies -------------------------------------------------------------------------


def seller_body(external_id: str = "s-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "username": f"user-{external_id}",
        "display_name": f"Seller {external_id}",
        "joined_at": "2025-01-01T00:00:00+09:00",
    }
    return {**body, **overrides}


def order_body(external_id: str = "o-1", *, seller: str, **overrides: Any) -> dict[str, Any]:
    """A completed order: created 10-01 10:00, due 10-04, delivered 10-03, completed 10-05."""
    body = {
        "external_id": external_id,
        "seller": seller,
        "buyer": "b-1",
        "amount": "15000.00",
        "created_at": "2026-10-01T10:00:00+09:00",
        "due_at": "2026-10-04T10:00:00+09:00",
        "delivered_at": "2026-10-03T10:00:00+09:00",
        "completed_at": "2026-10-05T10:00:00+09:00",
        "cancelled_at": None,
        "cancelled_by": None,
    }
    return {**body, **overrides}


def open_order_body(external_id: str = "o-1", *, seller: str, **overrides: Any) -> dict[str, Any]:
    """An order in progress (created 10-01 10:00): no due date, delivery, completion or
    cancellation unless a test sets one."""
    body = order_body(external_id, seller=seller, due_at=None, delivered_at=None, completed_at=None)
    return {**body, **overrides}


def message_body(external_id: str = "m-1", *, seller: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "conversation": "c-1",
        "seller": seller,
        "buyer": "b-1",
        "sender": "buyer",
        "sent_at": "2026-10-10T09:00:00+09:00",
    }
    return {**body, **overrides}


def review_body(external_id: str = "r-1", *, order: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "order": order,
        "rating": 5,
        "comment": "Great work",
        "created_at": "2026-10-06T10:00:00+09:00",
    }
    return {**body, **overrides}


def case_body(external_id: str = "k-1", *, order: str, **overrides: Any) -> dict[str, Any]:
    """A claim opened 10-08 09:00 and closed 10-20 17:00, settled by the seller."""
    body = {
        "external_id": external_id,
        "order": order,
        "kind": "claim",
        "opened_at": "2026-10-08T09:00:00+09:00",
        "closed_at": "2026-10-20T17:00:00+09:00",
        "outcome": "seller_resolved",
    }
    return {**body, **overrides}


def survey_body(external_id: str = "v-1", *, order: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "order": order,
        "csat": 5,
        "nps": 9,
        "answered_at": "2026-10-06T12:00:00+09:00",
    }
    return {**body, **overrides}


def conversation_body(external_id: str = "c-1", *, seller: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "seller": seller,
        "buyer": "b-1",
        "resolved_at": "2026-10-11T09:00:00+09:00",
    }
    return {**body, **overrides}


# --- clients --------------------------------------------------------------------------------


def grant_api_permissions(user: Any) -> Any:
    """Every model permission the API asks of a staff user (``common.scopes``), as an
    integration's staff login has them (the ``API integration (staff tokens)`` group)."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    from common.scopes import all_permissions

    wanted = Q()
    for perm in all_permissions():
        app_label, codename = perm.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    user.user_permissions.add(*Permission.objects.filter(wanted))
    return user


def token_of(user: Any) -> str:
    """The user's API token (= ``manage.py drf_create_token <username>``)."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_of(user)}")
    return client


def _external_id(seller: Seller | str) -> str:
    return seller if isinstance(seller, str) else seller.external_id


def client_of(seller: Seller | str) -> APIClient:
    """A client holding the seller's own token (the seller given or its external id)."""
    if isinstance(seller, str):
        seller = Seller.objects.get(external_id=seller)
    return token_client(seller.user)


# --- raw requests: the response, whatever it is ----------------------------------------------


def _put(client: APIClient, entity: str, body: Any, external_id: str | None) -> Any:
    external_id = body["external_id"] if external_id is None else external_id
    return client.put(f"/api/v1/{entity}/{quote(external_id)}", body, format="json")


def put_seller(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/sellers/{external_id} (by default the body's own external id)."""
    return _put(client, "sellers", body, external_id)


def put_order(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/orders/{external_id} (by default the body's own external id)."""
    return _put(client, "orders", body, external_id)


def put_message(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/messages/{external_id} (by default the body's own external id)."""
    return _put(client, "messages", body, external_id)


def put_review(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/reviews/{external_id} (by default the body's own external id)."""
    return _put(client, "reviews", body, external_id)


def put_case(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/cases/{external_id} (by default the body's own external id)."""
    return _put(client, "cases", body, external_id)


def put_survey(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/surveys/{external_id} (by default the body's own external id)."""
    return _put(client, "surveys", body, external_id)


def put_conversation(client: APIClient, body: Any, external_id: str | None = None) -> Any:
    """PUT /api/v1/conversations/{external_id} (by default the body's own external id)."""
    return _put(client, "conversations", body, external_id)


def assert_refused(response: Any, field: str, fragment: str = "", *, model: type[Model]) -> None:
    """A 400 naming ``field`` (with a message containing ``fragment``) and no ``model`` row."""
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert any(fragment.lower() in message.lower() for message in errors[field]), errors
    assert not model._default_manager.exists()


# --- given: a scenario pushed through the API, each write asserted ----------------------------


def iso_kst(text: str) -> str:
    """'2026-10-05 10:00[:ss[.ffffff]]' in Seoul time as an ISO 8601 string with its offset."""
    return text.replace(" ", "T") + ("" if text.count(":") == 2 else ":00") + "+09:00"


def put_ok(client: APIClient, path: str, body: dict[str, Any]) -> None:
    """PUT /api/v1/{path}, which must create (201) or replace (200)."""
    response = client.put(f"/api/v1/{path}", body, format="json")
    assert response.status_code in (200, 201), (path, response.status_code, response.content)


def push_seller(staff: APIClient, external_id: str, joined: str = "2026-01-01 00:00") -> str:
    put_ok(staff, f"sellers/{external_id}", {"username": external_id, "joined_at": iso_kst(joined)})
    return external_id


def push_order(
    staff: APIClient,
    external_id: str,
    *,
    seller: str,
    created: str,
    buyer: str = "buyer-1",
    amount: str = "10000",
    due: str | None = None,
    delivered: str | None = None,
    completed: str | None = None,
    cancelled: str | None = None,
    cancelled_by: str | None = None,
    excluded: bool = False,
    ship_by: str | None = None,
    shipped: str | None = None,
    tracking: str | None = None,
) -> str:
    body: dict[str, Any] = {
        "seller": seller,
        "buyer": buyer,
        "amount": amount,
        "created_at": iso_kst(created),
        "due_at": iso_kst(due) if due else None,
        "delivered_at": iso_kst(delivered) if delivered else None,
        "completed_at": iso_kst(completed) if completed else None,
        "cancelled_at": iso_kst(cancelled) if cancelled else None,
        "cancelled_by": cancelled_by,
        "excluded_from_metrics": excluded,
        "ship_by": iso_kst(ship_by) if ship_by else None,
        "shipped_at": iso_kst(shipped) if shipped else None,
        "tracking": tracking,
    }
    put_ok(staff, f"orders/{external_id}", body)
    return external_id


def push_completed_order(
    staff: APIClient, external_id: str, *, seller: str, day: str, **kwargs: Any
) -> str:
    """Created at 10:00 on ``day``, due 23:00, delivered 11:00 and completed 12:00 that day."""
    return push_order(
        staff,
        external_id,
        seller=seller,
        created=f"{day} 10:00",
        due=kwargs.pop("due", f"{day} 23:00"),
        delivered=kwargs.pop("delivered", f"{day} 11:00"),
        completed=kwargs.pop("completed", f"{day} 12:00"),
        **kwargs,
    )


def push_message(
    staff: APIClient, external_id: str, seller: str, conversation: str, sender: str, *, at: str
) -> None:
    body = {
        "conversation": conversation,
        "seller": seller,
        "buyer": "buyer-1",
        "sender": sender,
        "sent_at": iso_kst(at),
    }
    put_ok(staff, f"messages/{external_id}", body)


def push_review(staff: APIClient, external_id: str, *, order: str, rating: int, at: str) -> None:
    put_ok(
        staff,
        f"reviews/{external_id}",
        {"order": order, "rating": rating, "created_at": iso_kst(at)},
    )


def push_case(
    staff: APIClient,
    external_id: str,
    *,
    order: str,
    kind: str = "claim",
    opened: str,
    closed: str | None = None,
    outcome: str | None = None,
) -> None:
    body = {
        "order": order,
        "kind": kind,
        "opened_at": iso_kst(opened),
        "closed_at": iso_kst(closed) if closed else None,
        "outcome": outcome,
    }
    put_ok(staff, f"cases/{external_id}", body)


def push_survey(
    staff: APIClient, external_id: str, *, order: str, at: str, csat: int | None, nps: int | None
) -> None:
    body = {"order": order, "csat": csat, "nps": nps, "answered_at": iso_kst(at)}
    put_ok(staff, f"surveys/{external_id}", body)


def push_conversation(
    staff: APIClient, external_id: str, *, seller: str, resolved: str | None, buyer: str = "buyer-1"
) -> None:
    body = {
        "seller": seller,
        "buyer": buyer,
        "resolved_at": iso_kst(resolved) if resolved else None,
    }
    put_ok(staff, f"conversations/{external_id}", body)


def push_policy(staff: APIClient, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/policy, which must succeed: the new active policy as the API shows it."""
    response = staff.put("/api/v1/policy", body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def tiers_policy(**fields: Any) -> dict[str, Any]:
    """A policy body: Bronze (no criteria) < Silver (1 order completed in the window) < Gold (2),
    over a one-month window."""
    return {
        "name": "Tiers",
        "window_months": 1,
        "window_days": None,
        "response_window_hours": 24,
        "demotion_grace_months": 0,
        "levels": [
            {"name": "Bronze", "rank": 1, "criteria": []},
            {
                "name": "Silver",
                "rank": 2,
                "criteria": [{"metric": "window_completed_orders", "op": ">=", "value": 1}],
            },
            {
                "name": "Gold",
                "rank": 3,
                "criteria": [{"metric": "window_completed_orders", "op": ">=", "value": 2}],
            },
        ],
        **fields,
    }


# --- when: evaluations and reads ------------------------------------------------------------


def post_evaluation(staff: APIClient, period: Any) -> Any:
    """POST /api/v1/evaluations. The test's own transaction holds back on_commit: run the
    (eager) task at the end of the request as a server outside a test transaction does."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return staff.post("/api/v1/evaluations", {"period": period}, format="json")


def evaluate(staff: APIClient, period: str) -> dict[str, Any]:
    """Evaluate ``period`` through the API; the run as GET /api/v1/evaluations/{id} shows it."""
    response = post_evaluation(staff, period)
    assert response.status_code == 202, response.content
    assert set(response.json()) >= {"id", "status"}
    run = staff.get(f"/api/v1/evaluations/{response.json()['id']}").json()
    assert run["status"] == "succeeded", run
    return run


def grade_of(client: APIClient, seller: Seller | str) -> dict[str, Any]:
    response = client.get(f"/api/v1/sellers/{_external_id(seller)}/grade")
    assert response.status_code == 200, response.content
    return response.json()


def preview_of(client: APIClient, seller: Seller | str) -> dict[str, Any]:
    response = client.get(f"/api/v1/sellers/{_external_id(seller)}/grade/preview")
    assert response.status_code == 200, response.content
    return response.json()


def evaluations_of(client: APIClient, seller: Seller | str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/sellers/{_external_id(seller)}/evaluations")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def evidence(client: APIClient, seller: Seller | str, query: str, **headers: Any) -> Any:
    """GET /api/v1/sellers/{id}/evidence?{query}: the response, whatever it is."""
    return client.get(f"/api/v1/sellers/{_external_id(seller)}/evidence?{query}", **headers)


def evidence_items(
    client: APIClient, seller: Seller | str, period: str, metric: str
) -> list[dict[str, Any]]:
    """Every evidence item, following the pages (SPEC §7: the JSON is paginated)."""
    url: str | None = (
        f"/api/v1/sellers/{_external_id(seller)}/evidence?period={period}&metric={metric}"
    )
    items: list[dict[str, Any]] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        url = body["next"]
    return items
