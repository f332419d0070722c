"""An integration as an integrating engineer builds one: a typed Python client generated from
the served OpenAPI schema (openapi-python-client), and nothing else, does the whole job.

The schema is read from ``/api/schema/``, validated with openapi-spec-validator, and the client
is generated into a temporary directory (offline: no post hooks, so no formatter is fetched or
run) and imported. Its HTTP client talks to the app in process (httpx's WSGI transport), so
the test runs in the test's database transaction like any other API test.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from openapi_spec_validator import validate

from gradecraft.wsgi import application
from tests.api_helpers import token_of

PACKAGE = "gradecraft_client"
KST = ZoneInfo("Asia/Seoul")
CONFIG = f"""\
project_name_override: gradecraft-client
package_name_override: {PACKAGE}
post_hooks: []
"""


def kst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KST)


@pytest.fixture(scope="module")
def served_schema(django_db_blocker: Any) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def generated(served_schema: dict[str, Any], tmp_path_factory: Any) -> Iterator[ModuleType]:
    """The client package, generated from the served schema and imported."""
    import json

    root = tmp_path_factory.mktemp("client")
    (root / "openapi.json").write_text(json.dumps(served_schema))
    (root / "config.yaml").write_text(CONFIG)
    output = root / PACKAGE
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(  # noqa: S603 - a fixed command line, our own file
        [
            str(generator),
            "generate",
            "--path",
            str(root / "openapi.json"),
            "--config",
            str(root / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every construct of the schema was understood: the generator warns about what it skips.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_served_schema_is_valid_openapi(served_schema):
    validate(served_schema)  # raises on any violation of the OpenAPI 3.0 specification


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
def api(generated, staff_user, _keep_test_connection) -> Any:
    """An authenticated client of the generated package, wired to the app in process."""
    token = token_of(staff_user)
    client = generated.AuthenticatedClient(
        base_url="http://testserver", token=token, prefix="Token"
    )
    client.set_httpx_client(
        httpx.Client(
            base_url="http://testserver",
            headers={"Authorization": f"Token {token}"},
            transport=httpx.WSGITransport(app=application),
        )
    )
    return client


def op(name: str) -> Any:
    """An operation module of the generated package, e.g. ``op("sellers.v1_sellers_update")``."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


@pytest.mark.usefixtures("clock_at_2027_01_15")
def test_an_integration_does_its_job_with_the_generated_client_only(
    api, django_capture_on_commit_callbacks
):
    models = importlib.import_module(f"{PACKAGE}.models")

    # Sellers: one PUT, one bulk.
    put = op("sellers.v1_sellers_update").sync_detailed(
        "s-1",
        client=api,
        body=models.SellerWriteRequest(
            username="studio", display_name="Studio", joined_at=kst("2025-01-01T00:00:00")
        ),
    )
    assert put.status_code == 201
    assert isinstance(put.parsed, models.Seller)
    assert (put.parsed.external_id, put.parsed.username) == ("s-1", "studio")
    bulk = op("sellers.v1_sellers_bulk_create").sync(
        client=api,
        body=[
            models.SellerBulkItemRequest(
                external_id="s-2", username="second", joined_at=kst("2025-02-01T00:00:00")
            )
        ],
    )
    assert isinstance(bulk, models.BulkResult)
    assert (bulk.created, bulk.updated) == (1, 0)

    # Orders of s-1 in December 2026: one on time (PUT), one late and one cancelled (bulk).
    def order(external_id: str, **fields: Any) -> dict[str, Any]:
        return {
            "seller": "s-1",
            "buyer": f"b-{external_id}",
            "amount": "15000.00",
            "created_at": kst("2026-12-01T10:00:00"),
            "due_at": kst("2026-12-04T10:00:00"),
            **fields,
        }

    placed = op("orders.v1_orders_update").sync(
        "o-1",
        client=api,
        body=models.OrderWriteRequest(
            **order(
                "o-1",
                delivered_at=kst("2026-12-03T10:00:00"),
                completed_at=kst("2026-12-05T10:00:00"),
            )
        ),
    )
    assert isinstance(placed, models.Order)
    assert (placed.status, placed.amount) == (models.StatusEnum.COMPLETED, "15000.00")
    bulk = op("orders.v1_orders_bulk_create").sync(
        client=api,
        body=[
            models.OrderBulkItemRequest(
                external_id="o-2",
                **order(
                    "o-2",
                    amount=20000,
                    delivered_at=kst("2026-12-06T10:00:00"),
                    completed_at=kst("2026-12-07T10:00:00"),
                ),
            ),
            models.OrderBulkItemRequest(
                external_id="o-3",
                **order(
                    "o-3",
                    cancelled_at=kst("2026-12-02T10:00:00"),
                    cancelled_by=models.CancelledByEnum.BUYER,
                ),
            ),
        ],
    )
    assert (bulk.created, bulk.updated) == (2, 0)

    # Messages: an inquiry answered in an hour (PUT) and one never answered (bulk).
    message = op("messages.v1_messages_update").sync(
        "m-1",
        client=api,
        body=models.MessageWriteRequest(
            conversation="c-1",
            seller="s-1",
            buyer="b-o-1",
            sender=models.SenderEnum.BUYER,
            sent_at=kst("2026-12-10T09:00:00"),
        ),
    )
    assert isinstance(message, models.Message)
    bulk = op("messages.v1_messages_bulk_create").sync(
        client=api,
        body=[
            models.MessageBulkItemRequest(
                external_id="m-2",
                conversation="c-1",
                seller="s-1",
                buyer="b-o-1",
                sender=models.SenderEnum.SELLER,
                sent_at=kst("2026-12-10T10:00:00"),
            ),
            models.MessageBulkItemRequest(
                external_id="m-3",
                conversation="c-2",
                seller="s-1",
                buyer="b-o-2",
                sender=models.SenderEnum.BUYER,
                sent_at=kst("2026-12-11T09:00:00"),
            ),
        ],
    )
    assert (bulk.created, bulk.updated) == (2, 0)

    # Reviews of the two completed orders: 5 (PUT) and 4 (bulk).
    review = op("reviews.v1_reviews_update").sync(
        "r-1",
        client=api,
        body=models.ReviewWriteRequest(
            order="o-1", rating=5, comment="Great", created_at=kst("2026-12-06T10:00:00")
        ),
    )
    assert isinstance(review, models.Review)
    assert (review.seller, review.rating) == ("s-1", 5)
    bulk = op("reviews.v1_reviews_bulk_create").sync(
        client=api,
        body=[
            models.ReviewBulkItemRequest(
                external_id="r-2", order="o-2", rating=4, created_at=kst("2026-12-08T10:00:00")
            )
        ],
    )
    assert (bulk.created, bulk.updated) == (1, 0)

    # Refusals come back typed: field messages, and a bulk error with the item's index.
    refused = op("reviews.v1_reviews_update").sync_detailed(
        "r-3",
        client=api,
        body=models.ReviewWriteRequest(
            order="o-3", rating=1, created_at=kst("2026-12-08T10:00:00")
        ),
    )
    assert refused.status_code == 400
    assert isinstance(refused.parsed, models.Error)
    assert "completed" in refused.parsed.additional_properties["order"][0]
    refused = op("orders.v1_orders_bulk_create").sync_detailed(
        client=api,
        body=[models.OrderBulkItemRequest(external_id="o-9", **order("o-9", seller="nobody"))],
    )
    assert refused.status_code == 400
    assert isinstance(refused.parsed, models.BulkError)
    [entry] = refused.parsed.errors
    assert (entry.index, entry.external_id) == (0, "o-9")
    assert "Unknown seller" in entry.additional_properties["seller"][0]

    # Evaluate December 2026 and poll the run.
    # (The run is queued when the request's transaction commits: here, the test's callbacks.)
    with django_capture_on_commit_callbacks(execute=True):
        started = op("evaluations.v1_evaluations_create").sync_detailed(
            client=api, body=models.RunStartRequest(period="2026-12")
        )
    assert started.status_code == 202
    run = started.parsed
    for _ in range(20):
        run = op("evaluations.v1_evaluations_retrieve").sync(run.id, client=api)
        if run.status in ("succeeded", "failed"):
            break
    assert isinstance(run, models.Run)
    assert (run.period, run.status, run.sellers) == ("2026-12", "succeeded", 2)

    # The grade: 2 completed orders (35,000), 1 of 2 inquiries answered in time, ratings 5
    # and 4, 1 of 2 delivered orders on time, 2 of 3 finished orders completed.
    grade = op("grades.v1_sellers_grade_retrieve").sync("s-1", client=api)
    assert isinstance(grade, models.Grade)
    assert (grade.seller, grade.period, grade.level) == ("s-1", "2026-12", "Level 1")
    figures = grade.metrics.additional_properties
    assert figures["completed_orders"] == 2
    assert figures["revenue"] == 35000
    assert figures["response_rate"] == 50
    assert figures["average_rating"] == 4.5
    assert figures["on_time_rate"] == 50
    assert figures["success_rate"] == 66.67
    assert grade.next_level.level == "Level 2"
    assert {m.metric for m in grade.next_level.missing} >= {"average_rating", "response_rate"}
    assert grade.criteria and all(isinstance(c, models.CriterionResult) for c in grade.criteria)

    # The preview of the month so far (January 2027, its window reaching back into 2026).
    preview = op("grades.v1_sellers_grade_preview_retrieve").sync("s-1", client=api)
    assert isinstance(preview, models.GradePreview)
    assert preview.period == "2027-01"
    assert preview.as_of.tzinfo is not None
    assert preview.metrics.additional_properties["completed_orders"] == 2

    # The evidence behind the on-time rate, one item a page: the late order first.
    evidence = op("grades.v1_sellers_evidence_retrieve")
    metric = models.V1SellersEvidenceRetrieveMetric.ON_TIME_RATE
    first = evidence.sync("s-1", client=api, period="2026-12", metric=metric, page_size=1)
    assert isinstance(first, models.EvidencePage)
    assert (first.count, first.previous) == (2, None)
    assert first.next_ is not None
    [late] = first.results
    assert isinstance(late, models.OrderEvidence)
    assert (late.external_id, late.on_time) == ("o-2", False)
    second = evidence.sync("s-1", client=api, period="2026-12", metric=metric, page=2, page_size=1)
    assert [item.external_id for item in second.results] == ["o-1"]
    assert second.next_ is None

    # The policy the grades come from.
    policy = op("policy.policy_retrieve").sync(client=api)
    assert isinstance(policy, models.Policy)
    assert [level.name for level in policy.levels] == ["Level 1", "Level 2", "Level 3", "Master"]
    assert policy.window_months == 3


def keyed_client(generated: Any, *scopes: str) -> Any:
    """A generated client holding a new API key with these scopes (SPEC §7)."""
    from access.models import ApiKey

    _, secret = ApiKey.objects.create_key(name="marketplace", scopes=list(scopes))
    client = generated.AuthenticatedClient(
        base_url="http://testserver", token=secret, prefix="Api-Key"
    )
    client.set_httpx_client(
        httpx.Client(
            base_url="http://testserver",
            headers={"Authorization": f"Api-Key {secret}"},
            transport=httpx.WSGITransport(app=application),
        )
    )
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("clock_at_2027_01_15", "_keep_test_connection")
def test_an_ingest_key_pushes_a_read_key_syncs_the_period_and_cannot_write(
    generated, django_capture_on_commit_callbacks
):
    models = importlib.import_module(f"{PACKAGE}.models")
    ingest, read = keyed_client(generated, "ingest"), keyed_client(generated, "read")
    admin = keyed_client(generated, "admin")

    # The ingest key pushes five sellers, each with (index) orders completed in December.
    sellers = [
        models.SellerBulkItemRequest(
            external_id=f"s-{n}", username=f"seller{n}", joined_at=kst("2025-01-01T00:00:00")
        )
        for n in range(5)
    ]
    pushed = op("sellers.v1_sellers_bulk_create").sync(client=ingest, body=sellers)
    assert (pushed.created, pushed.updated) == (5, 0)
    orders = [
        models.OrderBulkItemRequest(
            external_id=f"o-{n}-{k}",
            seller=f"s-{n}",
            buyer="b-1",
            amount=15000,
            created_at=kst("2026-12-01T10:00:00"),
            delivered_at=kst("2026-12-02T10:00:00"),
            completed_at=kst("2026-12-03T10:00:00"),
        )
        for n in range(5)
        for k in range(n)
    ]
    pushed = op("orders.v1_orders_bulk_create").sync(client=ingest, body=orders)
    assert (pushed.created, pushed.updated) == (10, 0)

    # An admin key evaluates December.
    with django_capture_on_commit_callbacks(execute=True):
        started = op("evaluations.v1_evaluations_create").sync_detailed(
            client=admin, body=models.RunStartRequest(period="2026-12")
        )
    assert started.status_code == 202

    # The read key syncs the period through /grades, two a page, following next.
    grades = op("grades.v1_grades_retrieve")
    synced: dict[str, Any] = {}
    page = grades.sync(client=read, page_size=2)
    pages = 1
    while True:
        assert isinstance(page, models.GradePage)
        for item in page.results:
            synced[item.seller] = item
        if not page.next_:
            break
        cursor = httpx.URL(page.next_).params["cursor"]
        page = grades.sync(client=read, page_size=2, period="2026-12", cursor=cursor)
        pages += 1
    assert pages == 3
    assert sorted(synced) == [f"s-{n}" for n in range(5)]
    assert {item.period for item in synced.values()} == {"2026-12"}
    completed = {
        s: item.metrics.additional_properties["completed_orders"] for s, item in synced.items()
    }
    assert completed == {f"s-{n}": n for n in range(5)}

    # The same period as one NDJSON stream.
    stream = read.get_httpx_client().get("/api/v1/grades?format=ndjson")
    assert stream.status_code == 200
    import json

    lines = [json.loads(line) for line in stream.text.splitlines()]
    assert [line["seller"] for line in lines] == sorted(synced)

    # The read key cannot write: a 403 naming the scope, nothing written.
    refused = op("sellers.v1_sellers_update").sync_detailed(
        "s-9",
        client=read,
        body=models.SellerWriteRequest(username="intruder", joined_at=kst("2025-01-01T00:00:00")),
    )
    assert refused.status_code == 403
    assert "'ingest' scope" in refused.parsed.detail
    listed = op("sellers.v1_sellers_list").sync_detailed(client=ingest)
    assert [s.external_id for s in listed.parsed.results] == [f"s-{n}" for n in range(5)]
