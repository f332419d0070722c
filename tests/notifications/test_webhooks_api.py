"""``/api/v1/webhooks`` (SPEC §7): staff only, every input checked (400, never 500), the
secret write-only, loopback and private addresses refused unless WEBHOOKS_ALLOW_PRIVATE."""

from __future__ import annotations

import pytest

from notifications.models import WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SECRET = "whsec-test-0123456789abcdef"
PUBLIC = "http://93.184.216.34/hooks"  # a public address literal: no DNS needed


def body(**overrides):
    return {
        "url": PUBLIC,
        "events": ["level.changed", "run.completed"],
        "secret": SECRET,
        **overrides,
    }


def test_staff_subscribe_list_and_delete_and_the_secret_is_never_shown(staff_client):
    created = staff_client.post("/api/v1/webhooks", body(), format="json")

    assert created.status_code == 201, created.content
    shown = created.json()
    assert set(shown) == {"id", "url", "events", "created_at"}
    assert (shown["url"], shown["events"]) == (PUBLIC, ["level.changed", "run.completed"])
    assert WebhookEndpoint.objects.get().secret == SECRET
    listed = staff_client.get("/api/v1/webhooks").json()
    assert listed["count"] == 1 and listed["results"] == [shown]
    assert SECRET not in staff_client.get("/api/v1/webhooks").content.decode()
    assert staff_client.delete(f"/api/v1/webhooks/{shown['id']}").status_code == 204
    assert staff_client.get("/api/v1/webhooks/").json()["count"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://172.16.5.5/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://100.64.0.1/hooks",
    ],
)
def test_a_url_on_a_loopback_or_private_address_is_refused(staff_client, url):
    response = staff_client.post("/api/v1/webhooks", body(url=url), format="json")

    assert response.status_code == 400, response.content
    assert "url" in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_the_setting_allows_private_addresses_for_development(staff_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True

    response = staff_client.post(
        "/api/v1/webhooks", body(url="http://127.0.0.1:8000/hooks"), format="json"
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(url="ftp://93.184.216.34/x"), "url"),
        (body(url="javascript:alert(1)"), "url"),
        (body(url="http:///nohost"), "url"),
        (body(url="http://93.184.216.34:99999/x"), "url"),
        (body(url="http://user:pw@93.184.216.34/x"), "url"),
        (body(url="http://no-such-host.invalid/x"), "url"),
        (body(url="http://" + "a" * 2000 + ".com/"), "url"),
        (body(url=123), "url"),
        (body(url=None), "url"),
        (body(events=[]), "events"),
        (body(events=["level.deleted"]), "events"),
        (body(events=["run.completed", "run.completed"]), "events"),
        (body(events="level.changed"), "events"),
        (body(events=[["level.changed"]]), "events"),
        (body(secret="short"), "secret"),
        (body(secret="x" * 256), "secret"),
        (body(secret=None), "secret"),
        ({"url": PUBLIC, "events": ["run.completed"]}, "secret"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(staff_client, payload, field):
    response = staff_client.post("/api/v1/webhooks", payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("raw", ["[]", "null", '"x"', "{", "[" * 5000])
def test_a_body_that_is_not_an_object_is_a_400(staff_client, raw):
    response = staff_client.post("/api/v1/webhooks", raw, content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/webhooks/999", "/api/v1/webhooks/" + "9" * 18])
def test_deleting_an_unknown_webhook_is_a_404(staff_client, path):
    assert staff_client.delete(path).status_code == 404


def test_an_id_too_long_for_any_webhook_is_a_404_not_a_500(staff_client):
    assert staff_client.delete("/api/v1/webhooks/" + "9" * 40).status_code == 404


def test_a_seller_cannot_see_or_change_webhooks(seller_client, staff_client):
    endpoint = staff_client.post("/api/v1/webhooks", body(), format="json").json()

    assert seller_client.get("/api/v1/webhooks").status_code == 403
    assert seller_client.post("/api/v1/webhooks", body(), format="json").status_code == 403
    assert seller_client.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 403
    assert WebhookEndpoint.objects.filter(deleted_at__isnull=True).count() == 1


def test_anonymous_requests_are_401(api_client):
    assert api_client.get("/api/v1/webhooks").status_code == 401
    assert api_client.post("/api/v1/webhooks", body(), format="json").status_code == 401


def test_the_list_reads_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    for index in range(5):
        WebhookEndpoint.objects.create(
            url=f"{PUBLIC}/{index}", events=["run.completed"], secret=SECRET
        )

    with django_assert_max_num_queries(5):  # with the staff user's permissions
        response = staff_client.get("/api/v1/webhooks")

    assert response.json()["count"] == 5


def test_the_schema_documents_the_webhooks_api(staff_client):
    schema = staff_client.get("/api/schema/?format=json").json()

    operations = schema["paths"]["/api/v1/webhooks"]
    assert set(operations) >= {"get", "post"}
    assert "/api/v1/webhooks/{webhook_id}" in schema["paths"]
    request = schema["components"]["schemas"]["WebhookEndpointRequest"]
    assert set(request["required"]) == {"url", "events", "secret"}
    assert "secret" not in schema["components"]["schemas"]["WebhookEndpoint"]["properties"]
    assert "GradeCraft-Signature" in operations["post"]["description"]


@pytest.mark.parametrize("extra", [{"secrett": SECRET}, {"id": 5}, {"created_at": "2026-10-01"}])
def test_a_field_the_subscription_does_not_take_is_named(staff_client, extra):
    response = staff_client.post("/api/v1/webhooks", body(**extra), format="json")
    assert response.status_code == 400
    [name] = extra
    assert name in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_the_schema_states_the_url_scheme_and_closes_the_body(staff_client):
    schema = staff_client.get("/api/schema/?format=json").json()
    request = schema["components"]["schemas"]["WebhookEndpointRequest"]
    assert request["additionalProperties"] is False
    assert request["properties"]["url"]["pattern"].startswith("^[Hh][Tt][Tt][Pp][Ss]?://")
    response = staff_client.post(
        "/api/v1/webhooks", body(url="ftp://93.184.216.34/"), format="json"
    )
    assert response.status_code == 400
