from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from orders.login_links import issue_login_link, link_url
from orders.models import LoginLink, Seller
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

# Links expire after minutes: every test here runs at a fixed instant (the clock ticks from it,
# so "11 minutes later" is exact) rather than on whatever the wall clock says.
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def ask_for_link(client, seller):
    return client.post(f"/api/v1/sellers/{seller.external_id}/login-link")


def path_of(url: str) -> str:
    return url.split("testserver", 1)[1]


def test_staff_get_a_single_use_url_valid_for_minutes(staff_client, seller):
    response = ask_for_link(staff_client, seller)

    assert response.status_code == 201
    body = response.json()
    assert body["url"].startswith("http://testserver/login/link/")
    expires = LoginLink.objects.get().expires_at
    assert timedelta(minutes=1) < expires - NOW <= timedelta(minutes=10)


def test_the_link_signs_the_seller_in_and_lands_on_the_dashboard(staff_client, seller):
    url = path_of(ask_for_link(staff_client, seller).json()["url"])
    browser = Client()

    assert browser.get(url).status_code == 200  # a confirm page: GET consumes nothing
    response = browser.post(url)

    assert response.status_code == 302 and response["Location"] == "/"
    assert browser.session["_auth_user_id"] == str(seller.user.pk)


def test_a_link_works_once(staff_client, seller):
    url = path_of(ask_for_link(staff_client, seller).json()["url"])
    Client().post(url)

    second = Client()
    response = second.post(url)

    assert response.status_code == 400
    assert "_auth_user_id" not in second.session
    assert second.get(url).status_code == 400


def test_an_expired_link_is_refused(staff_client, seller):
    url = path_of(ask_for_link(staff_client, seller).json()["url"])
    browser = Client()

    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        response = browser.post(url)

    assert response.status_code == 400
    assert "_auth_user_id" not in browser.session


def test_a_made_up_token_is_refused():
    assert Client().post("/login/link/not-a-real-token/").status_code == 400


def test_only_a_hash_of_the_token_is_stored(staff_client, seller):
    url = ask_for_link(staff_client, seller).json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[1]

    assert token not in LoginLink.objects.get().token_hash


def test_a_seller_without_login_gets_one_on_first_use(staff_client):
    SellerFactory(user=None, username="nologin")
    seller = Seller.objects.get(username="nologin")
    url = path_of(ask_for_link(staff_client, seller).json()["url"])

    browser = Client()
    browser.post(url)

    seller.refresh_from_db()
    assert seller.user is not None and not seller.user.has_usable_password()
    assert browser.session["_auth_user_id"] == str(seller.user.pk)


def test_a_link_never_hands_over_another_account_with_the_same_username(staff_client):
    UserFactory(username="taken", is_staff=True)
    seller = SellerFactory(user=None, username="taken")
    url = path_of(ask_for_link(staff_client, seller).json()["url"])

    browser = Client()
    assert browser.post(url).status_code == 400
    assert "_auth_user_id" not in browser.session
    assert get_user_model().objects.filter(username="taken").count() == 1


def test_sellers_cannot_mint_links(seller_client, seller):
    assert ask_for_link(seller_client, seller).status_code == 403


def test_unauthenticated_is_401(api_client, seller):
    assert ask_for_link(api_client, seller).status_code == 401


def test_unknown_seller_is_404(staff_client):
    assert ask_for_link(staff_client, SellerFactory.build(external_id="ghost")).status_code == 404


def test_an_id_the_database_cannot_hold_is_404_not_500(staff_client):
    assert staff_client.post("/api/v1/sellers/a%00b/login-link").status_code == 404


def test_the_link_is_built_on_the_public_base_url_not_the_host_header(settings, seller):
    settings.PUBLIC_BASE_URL = "https://grades.example.com:8443"
    request = RequestFactory().post("/", HTTP_HOST="evil.example")
    link = issue_login_link(seller=seller, actor=None)

    url = link_url(token=link.token, request=request)

    assert url == f"https://grades.example.com:8443/login/link/{link.token}/"


def test_without_a_public_base_url_the_link_keeps_the_requesting_host_and_port(settings, seller):
    settings.PUBLIC_BASE_URL = ""
    request = RequestFactory().post("/", HTTP_HOST="localhost:8000")
    link = issue_login_link(seller=seller, actor=None)

    assert link_url(token=link.token, request=request) == (
        f"http://localhost:8000/login/link/{link.token}/"
    )


def test_made_up_tokens_lock_the_address_out_of_sign_in_links(settings, seller):
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(f"/login/link/guess-{n}/", REMOTE_ADDR="203.0.113.7")
    token = issue_login_link(seller=seller, actor=None).token
    browser = Client()

    response = browser.post(f"/login/link/{token}/", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert LoginLink.objects.get(seller=seller).used_at is None  # the link is not burnt


def test_an_address_locked_out_by_wrong_passwords_cannot_use_a_link_instead(settings, seller):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/login/", {"username": seller.username, "password": "wrong"}, REMOTE_ADDR="10.9.8.7"
        )
    token = issue_login_link(seller=seller, actor=None).token
    browser = Client()

    response = browser.post(f"/login/link/{token}/", REMOTE_ADDR="10.9.8.7")

    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_a_valid_link_still_signs_in_from_another_address(settings, seller):
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(f"/login/link/guess-{n}/", REMOTE_ADDR="203.0.113.7")
    token = issue_login_link(seller=seller, actor=None).token
    browser = Client()

    response = browser.post(f"/login/link/{token}/", REMOTE_ADDR="198.51.100.20")

    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(seller.user.pk)


def test_the_api_builds_the_link_on_the_public_base_url(settings, staff_client, seller):
    settings.PUBLIC_BASE_URL = "https://grades.example.com"
    settings.ALLOWED_HOSTS = ["*"]  # even where any Host header gets through

    response = staff_client.post(
        f"/api/v1/sellers/{seller.external_id}/login-link", HTTP_HOST="evil.example"
    )

    assert response.json()["url"].startswith("https://grades.example.com/login/link/")
