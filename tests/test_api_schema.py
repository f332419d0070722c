"""Schemathesis over the whole OpenAPI schema: no generated request (valid or not) is a 500.

The schema is read from the running app (``/api/schema/``), so every endpoint, including the
ones other apps add, is covered: one test per operation. Requests are authenticated as staff
with a token, so generated bodies reach validation and the database, not just a 401.

(``schemathesis.pytest.from_fixture`` would load the schema lazily, but it does not work with
pytest 9; the schema is loaded at import instead, and a schema that cannot be generated fails
``test_openapi_schema_is_served`` rather than the collection of the whole suite.)
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from gradecraft.wsgi import application
from tests.api_helpers import token_of

# Bounded so the whole schema run stays around a minute on 2 cores.
MAX_EXAMPLES = 6

schema: OpenApiSchema | None
try:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    SCHEMA_PROBLEM = ""
except Exception as exc:  # reported by the test below, with the reason
    schema = None
    SCHEMA_PROBLEM = f"{type(exc).__name__}: {exc}"


def test_openapi_schema_is_served():
    assert not SCHEMA_PROBLEM


def test_schema_documents_every_ingestion_operation():
    assert schema is not None
    paths = schema.raw_schema["paths"]
    for entity in ["sellers", "orders", "messages", "reviews"]:
        assert "get" in paths[f"/api/v1/{entity}"]
        assert {"get", "put"} <= set(paths[f"/api/v1/{entity}/{{external_id}}"])
        assert "post" in paths[f"/api/v1/{entity}/bulk"]


def test_api_docs_page_is_served(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.fixture
def _keep_test_connection():
    # The raw WSGI app closes the connection after each request (CONN_MAX_AGE=0), which would
    # end the test's transaction; Django's own test client disconnects these the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_headers(staff_user, _keep_test_connection):
    return {"Authorization": f"Token {token_of(staff_user)}"}


if schema is not None:
    # PostgreSQL only: SQLite keeps decimals as REAL, and a generated threshold such as
    # 9999999999999996.0 comes back from it as a value Django's decimal converter refuses (500).
    @pytest.mark.postgres
    @pytest.mark.django_db
    @schema.parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def test_no_request_is_a_server_error(case, staff_headers):
        cache.clear()  # keep the user throttle out of the way of generated requests
        case.call_and_validate(headers=staff_headers, checks=[not_a_server_error])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/policy"),
        ("post", "/api/v1/evaluations"),
        ("put", "/api/v1/sellers/s-1"),
        ("post", "/api/v1/reviews/bulk"),
    ],
)
def test_json_nested_too_deeply_is_a_400_on_every_write(staff_client, method, url):
    body = "[" * 100_000 + "]" * 100_000
    response = getattr(staff_client, method)(url, body, content_type="application/json")
    assert response.status_code == 400
    answer = response.json()
    if url.endswith("/bulk"):
        answer = answer["errors"][0]
        answer = {"detail": answer["non_field_errors"][0]}
    assert "nested too deeply" in answer["detail"]
