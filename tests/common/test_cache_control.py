"""``Cache-Control: private, no-store`` on every page that shows a seller's data and on the
API (issue 20, finding 7): a shared computer's browser keeps no copy of a seller's figures."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from metrics.engine.periods import Period
from metrics.runs import evaluate_period
from tests.dashboard_world import PASSWORD, given_level_2_seller
from tests.factories import aware

pytestmark = pytest.mark.django_db

NO_STORE = "private, no-store"


@pytest.fixture
def seller_browser() -> tuple[Client, str]:
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        seller = given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
    client = Client()
    assert seller.user is not None
    assert client.login(username=seller.user.username, password=PASSWORD)
    return client, seller.external_id


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/evidence/response_rate/?period=2026-10",
        "/api/v1/sellers/{seller}/grade",
        "/api/v1/sellers/{seller}/evaluations",
        "/api/v1/sellers/{seller}/evidence?period=2026-10&metric=response_rate",
        "/api/v1/sellers/{seller}/evidence?period=2026-10&metric=response_rate&format=csv",
    ],
)
def test_a_sellers_pages_and_api_answers_are_not_stored(seller_browser, path):
    client, seller = seller_browser

    response = client.get(path.format(seller=seller))

    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_errors_and_staff_pages_are_not_stored_either(seller_browser):
    client, _ = seller_browser
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-0123456789")
    admin = Client()
    admin.force_login(staff)

    assert client.get("/api/v1/sellers/someone-else/grade")["Cache-Control"] == NO_STORE
    assert Client().get("/api/v1/policy")["Cache-Control"] == NO_STORE  # 401
    for path in ("/", "/admin/metrics/sellerevaluation/"):  # the staff overview, admin
        response = admin.get(path)
        assert (response.status_code, response["Cache-Control"]) == (200, NO_STORE)
