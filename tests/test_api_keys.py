"""API keys with scopes (SPEC §7, issue 19): `Authorization: Api-Key <key>`, hashed at rest and
shown once, optional expiry, last use recorded, each with its own throttle; any other scheme is a
401 naming the ones that work; a key outside its scopes is a 403 naming the scope; staff users
are held to their Django model permissions; existing staff tokens keep working."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.models import ApiKey
from common.scopes import RULES, route_of
from orders.models import Order, Seller
from tests.api_helpers import open_order_body, seller_body, token_client
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def key_client(*scopes: str, **fields) -> tuple[APIClient, ApiKey]:
    key, secret = ApiKey.objects.create_key(name="marketplace", scopes=list(scopes), **fields)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client, key


def test_an_ingest_key_pushes_and_reads_sellers_and_orders():
    client, _ = key_client("ingest")
    assert client.put("/api/v1/sellers/s-1", seller_body("s-1"), format="json").status_code == 201
    order = open_order_body("o-1", seller="s-1")
    assert client.put("/api/v1/orders/o-1", order, format="json").status_code == 201
    assert client.get("/api/v1/orders?seller=s-1").json()["results"][0]["external_id"] == "o-1"
    assert client.get("/api/v1/sellers").json()["results"][0]["external_id"] == "s-1"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/api/v1/grades", "read"),
        ("get", "/api/v1/policy", "read"),
        ("put", "/api/v1/policy", "admin"),
        ("post", "/api/v1/evaluations", "admin"),
        ("post", "/api/v1/webhooks", "admin"),
        ("post", "/api/v1/sellers/s-1/login-link", "admin"),
    ],
)
def test_an_ingest_key_outside_its_scope_is_a_403_naming_the_scope(method, path, scope):
    # Issue 19: the ingestion token could issue login links, create webhooks, rewrite the policy.
    SellerFactory(external_id="s-1")
    client, _ = key_client("ingest")
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 403
    assert f"'{scope}' scope" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/v1/sellers/s-9"),
        ("post", "/api/v1/orders/bulk"),
        ("put", "/api/v1/policy"),
        ("post", "/api/v1/webhooks"),
    ],
)
def test_a_read_key_cannot_write(method, path):
    client, _ = key_client("read")
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 403
    assert not Seller.objects.exists()


def test_a_read_key_reads_grades_policy_and_presets_not_orders():
    client, _ = key_client("read")
    assert client.get("/api/v1/grades").status_code == 200
    assert client.get("/api/v1/policy/presets").status_code == 200
    assert client.get("/api/v1/orders").status_code == 403


def test_an_admin_key_writes_the_policy_and_issues_login_links():
    SellerFactory(external_id="s-1")
    client, _ = key_client("admin", "read")
    policy = client.get("/api/v1/policy").json()
    assert client.put("/api/v1/policy", policy, format="json").status_code == 200
    assert client.post("/api/v1/sellers/s-1/login-link").status_code == 201


@pytest.mark.parametrize(
    "header",
    ["Bearer abc.def", "Basic dXNlcjpwdw==", "abc.def", "Apikey x", "JWT x"],
)
def test_any_other_scheme_is_a_401_naming_the_accepted_ones(api_client, header):
    response = api_client.get("/api/v1/sellers", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "Token <key>" in detail and "Api-Key <key>" in detail


@pytest.mark.parametrize("prefix", ["Api-Key", "api-key", "API-KEY"])
def test_the_api_key_prefix_is_case_insensitive(prefix):
    _, key = key_client("read")
    secret = ApiKey.objects.assign_key(key)
    key.save()
    response = APIClient().get("/api/v1/grades", HTTP_AUTHORIZATION=f"{prefix} {secret}")
    assert response.status_code == 200


@pytest.mark.parametrize("how", ["wrong", "revoked", "expired"])
def test_a_wrong_revoked_or_expired_key_is_a_401(how):
    client, key = key_client("read")
    if how == "wrong":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.prefix}.not-the-secret")
    elif how == "revoked":
        key.revoked = True
        key.save()
    else:
        key.expiry_date = timezone.now() - timedelta(seconds=1)
        key.save()
    response = client.get("/api/v1/grades")
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


def test_a_key_is_stored_hashed_and_its_last_use_recorded():
    key, secret = ApiKey.objects.create_key(name="marketplace", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert secret not in key.hashed_key and secret not in key.id
    assert key.last_used_at is None
    moment = timezone.now()
    with time_machine.travel(moment, tick=False):
        client.get("/api/v1/grades")
    key.refresh_from_db()
    assert key.last_used_at == moment


def test_each_key_has_its_own_throttle(settings):
    slow, _ = key_client("read", throttle_rate="2/minute")
    other, _ = key_client("read")
    assert [slow.get("/api/v1/grades").status_code for _ in range(3)] == [200, 200, 429]
    assert other.get("/api/v1/grades").status_code == 200


def test_create_api_key_prints_the_key_once_and_it_works():
    out = StringIO()
    call_command("create_api_key", "--scope", "ingest", "--name", "marketplace", stdout=out)
    [secret] = re.findall(r"^(\w{8}\.\w+)$", out.getvalue(), flags=re.MULTILINE)
    key = ApiKey.objects.get()
    assert (key.name, key.scopes) == ("marketplace", ["ingest"])
    assert secret not in key.hashed_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert client.put("/api/v1/sellers/s-1", seller_body("s-1"), format="json").status_code == 201


# --- staff users are held to their Django model permissions ---------------------------------


def test_a_staff_user_without_permissions_is_refused_as_in_admin(seller):
    # Issue 19: a staff user with no permissions in admin could do everything over the API.
    bare = token_client(UserFactory(username="clerk", is_staff=True))
    order = open_order_body(seller=seller.external_id)
    response = bare.put("/api/v1/orders/o-1", order, format="json")
    assert response.status_code == 403
    assert "orders.add_order" in response.json()["detail"]
    assert bare.get("/api/v1/webhooks").status_code == 403
    assert not Order.objects.exists()


def test_a_staff_user_with_the_permission_may(seller):
    from django.contrib.auth.models import Permission

    clerk: Any = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_order", "change_order", "view_order"])
    )
    client = token_client(clerk)
    order = open_order_body(seller=seller.external_id)
    assert client.put("/api/v1/orders/o-1", order, format="json").status_code == 201
    assert client.get("/api/v1/orders").status_code == 200
    assert client.get("/api/v1/webhooks").status_code == 403


def test_a_superusers_token_may_do_everything(seller):
    root = token_client(UserFactory(username="root", is_staff=True, is_superuser=True))
    order = open_order_body(seller=seller.external_id)
    assert root.put("/api/v1/orders/o-1", order, format="json").status_code == 201


def test_existing_staff_tokens_keep_working_after_the_migration(seller):
    # The migration path: staff users holding a token join the group with the API's permissions.
    integration: Any = UserFactory(username="old-integration", is_staff=True)
    Token.objects.create(user=integration)
    newcomer: Any = UserFactory(username="newcomer", is_staff=True)
    migration = importlib.import_module("access.migrations.0002_staff_tokens_keep_working")
    migration.keep_staff_tokens_working(django_apps, None)
    assert Group.objects.get(name=migration.GROUP) in integration.groups.all()
    assert not newcomer.groups.exists()
    client = token_client(integration)
    order = open_order_body(seller=seller.external_id)
    assert client.put("/api/v1/orders/o-1", order, format="json").status_code == 201
    assert client.post("/api/v1/webhooks", {}, format="json").status_code == 400  # not 403


# --- the one scope table covers every operation -----------------------------------------------


def _api_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            found += _api_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            found.append((route, pattern.callback))
    return found


def test_every_api_operation_has_a_row_in_the_scope_table():
    missing = []
    for route, callback in _api_routes():
        view = getattr(callback, "view_class", None)
        if view is None:
            continue
        for method in ("get", "put", "post", "delete"):
            if hasattr(view, method) and (route_of(route), method.upper()) not in RULES:
                missing.append(f"{method.upper()} {route_of(route)}")
    assert missing == []


def test_the_schema_names_each_operations_scope(staff_client):
    schema = staff_client.get("/api/schema/?format=json").json()
    assert "apiKeyAuth" in schema["components"]["securitySchemes"]
    grades = schema["paths"]["/api/v1/grades"]["get"]
    assert grades["x-api-key-scope"] == "read"
    assert {"apiKeyAuth": []} in grades["security"]
    assert schema["paths"]["/api/v1/policy"]["put"]["x-api-key-scope"] == "admin"
    assert schema["paths"]["/api/v1/orders/bulk"]["post"]["x-api-key-scope"] == "ingest"


def test_admin_creates_a_key_shows_it_once_and_lists_its_scopes(client):
    root: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        "/admin/access/apikey/add/",
        {"name": "marketplace", "scopes": ["ingest", "read"], "throttle_rate": ""},
        follow=True,
    )
    key = ApiKey.objects.get()
    assert key.scopes == ["ingest", "read"]
    [shown] = [str(m) for m in response.context["messages"] if "you will not be able" in str(m)]
    secret = re.search(r"is: (\S+)\.", shown).group(1)  # type: ignore[union-attr]
    assert ApiKey.objects.get_from_key(secret) == key
    listing = client.get("/admin/access/apikey/").content.decode()
    assert "ingest, read" in listing and secret not in listing
