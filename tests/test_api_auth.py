"""Who may do what on the ingestion API (SPEC §7): 401 / 403 / 404 / 429."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from orders.models import Order
from tests.api_helpers import INGEST_ENTITIES, order_body, put_order
from tests.factories import (
    CaseFactory,
    ConversationFactory,
    MessageFactory,
    OrderFactory,
    ReviewFactory,
    SellerFactory,
    SurveyFactory,
    aware,
)

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/sellers",
    "/api/v1/sellers/s-x",
    "/api/v1/orders",
    "/api/v1/orders/o-x",
    "/api/v1/messages",
    "/api/v1/messages/m-x",
    "/api/v1/reviews",
    "/api/v1/reviews/r-x",
    "/api/v1/cases",
    "/api/v1/cases/k-x",
    "/api/v1/surveys",
    "/api/v1/surveys/v-x",
    "/api/v1/conversations",
    "/api/v1/conversations/c-x",
]
WRITES = [
    ("put", "/api/v1/sellers/s-x"),
    ("put", "/api/v1/orders/o-x"),
    ("put", "/api/v1/messages/m-x"),
    ("put", "/api/v1/reviews/r-x"),
    ("put", "/api/v1/cases/k-x"),
    ("put", "/api/v1/surveys/v-x"),
    ("put", "/api/v1/conversations/c-x"),
    ("post", "/api/v1/sellers/bulk"),
    ("post", "/api/v1/orders/bulk"),
    ("post", "/api/v1/messages/bulk"),
    ("post", "/api/v1/reviews/bulk"),
    ("post", "/api/v1/cases/bulk"),
    ("post", "/api/v1/surveys/bulk"),
    ("post", "/api/v1/conversations/bulk"),
]


@pytest.fixture
def other_sellers_data(seller):
    """Seller B with one of each object, every id with "other" in it; ``seller`` (A) owns
    nothing of it."""
    other = SellerFactory(external_id="s-other")
    order = OrderFactory(
        external_id="o-other",
        seller=other,
        delivered_at=aware("2026-10-02 10:00"),
        completed_at=aware("2026-10-03 10:00"),
    )
    ReviewFactory(external_id="r-other", order=order)
    MessageFactory(external_id="m-other", seller=other)
    CaseFactory(external_id="k-other", order=order)
    SurveyFactory(external_id="v-other", order=order)
    ConversationFactory(external_id="c-other", seller=other)
    return other


@pytest.mark.parametrize("path", READS)
def test_unauthenticated_read_is_401(api_client, db, path):
    response = api_client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_unauthenticated_write_is_401(api_client, db, method, path):
    assert getattr(api_client, method)(path, {}, format="json").status_code == 401


def test_bad_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/orders").status_code == 401


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_seller_login_cannot_write(seller_client, seller, method, path):
    body = order_body(seller=seller.external_id)
    payload = [body] if path.endswith("bulk") else body
    assert getattr(seller_client, method)(path, payload, format="json").status_code == 403
    assert not Order.objects.exists()


def test_seller_user_putting_its_own_order_gets_403(seller_client, seller):
    OrderFactory(external_id="o-mine", seller=seller)
    body = order_body("o-mine", seller=seller.external_id, excluded_from_metrics=True)
    assert put_order(seller_client, body).status_code == 403
    assert Order.objects.get().excluded_from_metrics is False


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sellers/s-other",
        "/api/v1/orders/o-other",
        "/api/v1/messages/m-other",
        "/api/v1/reviews/r-other",
        "/api/v1/cases/k-other",
        "/api/v1/surveys/v-other",
        "/api/v1/conversations/c-other",
    ],
)
def test_seller_reading_another_sellers_object_gets_404(seller_client, other_sellers_data, path):
    assert seller_client.get(path).status_code == 404


@pytest.mark.parametrize("path", INGEST_ENTITIES)
def test_seller_list_shows_only_its_own_data(seller_client, seller, other_sellers_data, path):
    order = OrderFactory(external_id="o-a", seller=seller)
    MessageFactory(external_id="m-a", seller=seller)
    ReviewFactory(external_id="r-a", order__seller=seller)
    CaseFactory(external_id="k-a", order=order)
    SurveyFactory(external_id="v-a", order=order)
    ConversationFactory(external_id="c-a", seller=seller)
    results = seller_client.get(f"/api/v1/{path}").json()["results"]
    assert results
    owners = {item.get("seller", item["external_id"]) for item in results}
    assert owners == {seller.external_id}


@pytest.mark.parametrize("entity", INGEST_ENTITIES)
def test_seller_listing_with_another_sellers_filter_sees_nothing(
    seller_client, other_sellers_data, entity
):
    response = seller_client.get(f"/api/v1/{entity}", {"seller": "s-other"})
    assert response.status_code == 200
    assert "s-other" not in response.content.decode()
    assert "other" not in str(response.json()["results"])


def test_seller_filtering_on_another_seller_sees_nothing(seller_client, other_sellers_data):
    assert seller_client.get("/api/v1/orders", {"seller": "s-other"}).json()["count"] == 0


def test_seller_reads_its_own_seller_and_order(seller_client, seller):
    OrderFactory(external_id="o-a", seller=seller)
    assert seller_client.get(f"/api/v1/sellers/{seller.external_id}").status_code == 200
    assert seller_client.get("/api/v1/orders/o-a").status_code == 200


def test_staff_reads_every_sellers_objects(staff_client, other_sellers_data):
    for path in ["sellers/s-other", "orders/o-other", "messages/m-other", "reviews/r-other"]:
        assert staff_client.get(f"/api/v1/{path}").status_code == 200


def test_unauthenticated_is_401_on_reads_and_writes(api_client, seller):
    assert api_client.get("/api/v1/orders").status_code == 401
    body = order_body(seller=seller.external_id)
    assert put_order(api_client, body).status_code == 401
    assert api_client.post("/api/v1/orders/bulk", [body], format="json").status_code == 401
    assert not Order.objects.exists()


def test_staff_session_login_can_write(staff_user, seller):
    client = APIClient()
    client.force_login(staff_user)
    assert put_order(client, order_body(seller=seller.external_id)).status_code == 201


def test_staff_token_and_session_see_the_same_list(staff_client, staff_user, seller):
    OrderFactory.create_batch(3, seller=seller)
    session = APIClient()
    session.force_login(staff_user)
    assert session.get("/api/v1/orders").json() == staff_client.get("/api/v1/orders").json()


def test_session_login_works_too(seller):
    client = APIClient()
    client.force_login(seller.user)
    assert client.get(f"/api/v1/sellers/{seller.external_id}").status_code == 200


def test_login_that_is_no_seller_and_not_staff_sees_nothing(db):
    from django.contrib.auth import get_user_model

    client = APIClient()
    client.force_login(get_user_model().objects.create_user(username="nobody"))
    OrderFactory()
    assert client.get("/api/v1/orders").json()["count"] == 0


def test_requests_past_the_user_rate_get_429(staff_client, monkeypatch):
    rates = {**UserRateThrottle.THROTTLE_RATES, "user": "3/minute"}
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    statuses = [staff_client.get("/api/v1/orders").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
