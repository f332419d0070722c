"""``/api/v1/sellers/{external_id}/notification-settings``: staff for any seller, a seller for
its own (404 for another's), every input checked; what it sets decides the emails."""

from __future__ import annotations

import pytest

from notifications.models import SellerPreference
from tests.api_helpers import client_of
from tests.metrics.test_runs import a_seller

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def url(seller) -> str:
    return f"/api/v1/sellers/{seller.external_id}/notification-settings"


SETTINGS = {"language": "ko", "email": "kim@example.com", "at_risk_emails": False}


def test_defaults_until_set_then_what_was_set(staff_client, seller):
    assert staff_client.get(url(seller)).json() == {
        "language": "",
        "email": "",
        "at_risk_emails": True,
    }

    response = staff_client.put(url(seller), SETTINGS, format="json")

    assert response.status_code == 200, response.content
    assert staff_client.get(url(seller) + "/").json() == SETTINGS
    stored = SellerPreference.objects.get(seller=seller)
    assert (stored.language, stored.email, stored.at_risk_emails) == (
        "ko",
        "kim@example.com",
        False,
    )


def test_a_seller_opts_out_for_itself_but_cannot_see_another(seller_client, seller):
    other = a_seller()

    mine = seller_client.put(url(seller), {**SETTINGS, "at_risk_emails": False}, format="json")

    assert mine.status_code == 200
    assert seller_client.get(url(other)).status_code == 404
    assert seller_client.put(url(other), SETTINGS, format="json").status_code == 404
    assert not SellerPreference.objects.filter(seller=other).exists()
    assert client_of(other).get(url(other)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {**SETTINGS, "language": "fr"},
        {**SETTINGS, "email": "not-an-address"},
        {**SETTINGS, "at_risk_emails": "maybe"},
        {"language": "ko"},
        [],
        {**SETTINGS, "language": None},
    ],
)
def test_invalid_settings_are_a_400(staff_client, seller, body):
    response = staff_client.put(url(seller), body, format="json")

    assert response.status_code == 400, response.content
    assert not SellerPreference.objects.exists()


def test_an_unknown_seller_is_a_404(staff_client):
    assert staff_client.get("/api/v1/sellers/nobody/notification-settings").status_code == 404


def test_anonymous_is_401(api_client, seller):
    assert api_client.get(url(seller)).status_code == 401


@pytest.mark.parametrize("flag", [0, 1, "true", "false", "off"])
def test_at_risk_emails_takes_only_a_json_boolean(staff_client, seller, flag):
    # Issue 19: `at_risk_emails: 0` was read as false.
    response = staff_client.put(url(seller), {**SETTINGS, "at_risk_emails": flag}, format="json")
    assert response.status_code == 400
    assert response.json()["at_risk_emails"] == ["Must be a JSON boolean: true or false."]
    assert not SellerPreference.objects.exists()


def test_an_unknown_settings_field_is_named(staff_client, seller):
    response = staff_client.put(url(seller), {**SETTINGS, "langauge": "en"}, format="json")
    assert response.status_code == 400
    assert "Did you mean 'language'?" in response.json()["langauge"][0]
    assert not SellerPreference.objects.exists()
