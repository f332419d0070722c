"""Cases (SPEC §2, §7): PUT creates or replaces, bulk is all or nothing, the rules of a case's
life (closed not before opened, an outcome exactly once closed) are 400s with field messages."""

from __future__ import annotations

from typing import Any

import pytest

from orders.models import Case
from tests.api_helpers import (
    assert_refused,
    case_body,
    push_case,
    push_conversation,
    push_message,
    push_order,
    push_seller,
    push_survey,
    put_case,
)
from tests.factories import CaseFactory, OrderFactory, SellerFactory, aware

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(seller):
    return OrderFactory(external_id="o-1", seller=seller)


def test_put_creates_a_case_and_shows_it_with_its_orders_seller(staff_client, order):
    response = put_case(staff_client, case_body(order="o-1"))
    assert response.status_code == 201, response.content
    assert response.json() == {
        "external_id": "k-1",
        "order": "o-1",
        "seller": order.seller.external_id,
        "kind": "claim",
        "opened_at": "2026-10-08T09:00:00+09:00",
        "closed_at": "2026-10-20T17:00:00+09:00",
        "outcome": "seller_resolved",
    }
    assert staff_client.get("/api/v1/cases/k-1").json() == response.json()


def test_put_replay_is_200_and_changes_nothing(staff_client, order):
    first = put_case(staff_client, case_body(order="o-1"))
    fields = [f.attname for f in Case._meta.concrete_fields if f.name != "modified"]
    stored = list(Case.objects.values_list(*fields))
    second = put_case(staff_client, case_body(order="o-1"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert list(Case.objects.values_list(*fields)) == stored


def test_an_open_case_has_null_closed_at_and_outcome(staff_client, order):
    body = case_body(order="o-1", closed_at=None, outcome=None)
    response = put_case(staff_client, body)
    assert response.status_code == 201, response.content
    assert (response.json()["closed_at"], response.json()["outcome"]) == (None, None)
    assert Case.objects.get().outcome == ""


def test_closing_an_open_case_replaces_it(staff_client, order):
    put_case(staff_client, case_body(order="o-1", closed_at=None, outcome=None))
    response = put_case(staff_client, case_body(order="o-1", outcome="buyer_favour"))
    assert response.status_code == 200
    case = Case.objects.get()
    assert (case.outcome, case.closed_at is not None) == ("buyer_favour", True)


def test_an_order_may_have_several_cases(staff_client, order):
    assert put_case(staff_client, case_body("k-1", order="o-1")).status_code == 201
    assert (
        put_case(staff_client, case_body("k-2", order="o-1", kind="chargeback")).status_code == 201
    )
    assert order.cases.count() == 2


def test_unknown_order_is_refused(staff_client, db):
    response = put_case(staff_client, case_body(order="o-404"))
    assert_refused(response, "order", "unknown order 'o-404'", model=Case)


@pytest.mark.parametrize("kind", ["refund", "", "Dispute", 1])
def test_kind_outside_the_three_is_refused(staff_client, order, kind):
    assert_refused(put_case(staff_client, case_body(order="o-1", kind=kind)), "kind", model=Case)


def test_closed_before_opened_is_refused(staff_client, order):
    body = case_body(order="o-1", closed_at="2026-10-08T08:59:59+09:00")
    assert_refused(put_case(staff_client, body), "closed_at", "before opened_at", model=Case)


def test_closed_at_the_instant_it_opened_is_accepted(staff_client, order):
    # 00:00Z is 09:00 in Seoul: the same instant as opened_at.
    body = case_body(order="o-1", closed_at="2026-10-08T00:00:00Z")
    assert put_case(staff_client, body).status_code == 201


def test_a_closed_case_without_an_outcome_is_refused(staff_client, order):
    body = case_body(order="o-1", outcome=None)
    assert_refused(
        put_case(staff_client, body), "outcome", "required once the case is closed", model=Case
    )


def test_an_outcome_on_an_open_case_is_refused(staff_client, order):
    body = case_body(order="o-1", closed_at=None)
    assert_refused(
        put_case(staff_client, body), "outcome", "null while the case is open", model=Case
    )


@pytest.mark.parametrize("outcome", ["won", "SELLER_RESOLVED", 3])
def test_an_unknown_outcome_is_refused(staff_client, order, outcome):
    body = case_body(order="o-1", outcome=outcome)
    assert_refused(put_case(staff_client, body), "outcome", "must be one of", model=Case)


@pytest.mark.parametrize("field", ["opened_at", "closed_at"])
def test_naive_timestamps_are_refused(staff_client, order, field):
    body = case_body(order="o-1", **{field: "2026-10-09T10:00:00"})
    assert_refused(put_case(staff_client, body), field, "timezone required", model=Case)


def test_missing_opened_at_is_refused(staff_client, order):
    body = case_body(order="o-1")
    del body["opened_at"]
    assert_refused(put_case(staff_client, body), "opened_at", "required", model=Case)


# --- bulk ------------------------------------------------------------------------------------


def cases_of(order: str, count: int) -> list[dict[str, Any]]:
    return [case_body(f"k-{n}", order=order) for n in range(count)]


def test_bulk_creates_then_counts_replays_as_updated(staff_client, order):
    items = cases_of("o-1", 5)
    assert staff_client.post("/api/v1/cases/bulk", items, format="json").json() == {
        "created": 5,
        "updated": 0,
    }
    assert staff_client.post("/api/v1/cases/bulk", items, format="json").json() == {
        "created": 0,
        "updated": 5,
    }
    assert Case.objects.count() == 5


def test_one_bad_case_refuses_the_batch_and_names_every_bad_index(staff_client, order):
    CaseFactory(external_id="k-0", order=order, kind="dispute")
    items = cases_of("o-1", 6)
    items[2]["order"] = "o-404"
    items[4]["outcome"] = None
    response = staff_client.post("/api/v1/cases/bulk", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["external_id"]) for e in errors] == [(2, "k-2"), (4, "k-4")]
    assert "order" in errors[0]
    assert "outcome" in errors[1]
    # nothing written, and the stored case untouched
    assert list(Case.objects.values_list("external_id", "kind")) == [("k-0", "dispute")]


def test_bulk_with_one_external_id_twice_is_refused_at_the_later_index(staff_client, order):
    items = [case_body("k-1", order="o-1"), case_body("k-1", order="o-1")]
    response = staff_client.post("/api/v1/cases/bulk", items, format="json")
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert not Case.objects.exists()


@pytest.mark.postgres
def test_bulk_of_1000_cases_takes_a_fixed_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    orders = OrderFactory.create_batch(50)
    items = [case_body(f"k-{n}", order=orders[n % 50].external_id) for n in range(1000)]
    # token, order refs, savepoint, the upsert, release: not one per item
    with django_assert_max_num_queries(6):  # + the staff user's permissions
        response = staff_client.post("/api/v1/cases/bulk", items, format="json")
    assert response.json() == {"created": 1000, "updated": 0}
    assert Case.objects.count() == 1000


# --- who reads what ------------------------------------------------------------------------


def test_a_seller_reads_its_own_cases_and_not_another_sellers(seller_client, seller):
    CaseFactory(external_id="k-mine", order__seller=seller)
    CaseFactory(external_id="k-other", order__seller=SellerFactory())
    assert seller_client.get("/api/v1/cases/k-mine").status_code == 200
    assert seller_client.get("/api/v1/cases/k-other").status_code == 404
    results = seller_client.get("/api/v1/cases").json()["results"]
    assert [c["external_id"] for c in results] == ["k-mine"]


def test_a_seller_cannot_write_a_case(seller_client, seller):
    OrderFactory(external_id="o-1", seller=seller)
    assert put_case(seller_client, case_body(order="o-1")).status_code == 403
    assert not Case.objects.exists()


def test_the_list_filters_by_the_orders_seller_newest_opened_first(staff_client, seller):
    CaseFactory(external_id="k-old", order__seller=seller, opened_at=aware("2026-10-02 10:00"))
    CaseFactory(external_id="k-new", order__seller=seller, opened_at=aware("2026-10-09 10:00"))
    CaseFactory(external_id="k-else", order__seller=SellerFactory())
    data = staff_client.get("/api/v1/cases", {"seller": seller.external_id}).json()
    assert [c["external_id"] for c in data["results"]] == ["k-new", "k-old"]


def test_a_shipped_order_with_a_case_a_survey_and_a_thread_pushed_through_the_api(staff_client):
    seller = push_seller(staff_client, "s-ship")
    push_order(
        staff_client,
        "o-ship",
        seller=seller,
        created="2026-10-01 10:00",
        delivered="2026-10-04 10:00",
        completed="2026-10-05 10:00",
        ship_by="2026-10-02 18:00",
        shipped="2026-10-03 09:00",
        tracking="valid",
    )
    push_case(staff_client, "k-ship", order="o-ship", opened="2026-10-06 10:00")
    push_survey(staff_client, "v-ship", order="o-ship", at="2026-10-06 11:00", csat=2, nps=None)
    push_message(staff_client, "m-ship", seller, "c-ship", "buyer", at="2026-10-06 12:00")
    push_conversation(staff_client, "c-ship", seller=seller, resolved="2026-10-06 15:00")

    order = staff_client.get("/api/v1/orders/o-ship").json()
    assert (order["shipped_at"], order["tracking"]) == ("2026-10-03T09:00:00+09:00", "valid")
    case = staff_client.get("/api/v1/cases/k-ship").json()
    assert (case["seller"], case["closed_at"], case["outcome"]) == ("s-ship", None, None)
    assert staff_client.get("/api/v1/surveys/v-ship").json()["csat"] == 2
    assert staff_client.get("/api/v1/conversations/c-ship").json()["resolved_at"] == (
        "2026-10-06T15:00:00+09:00"
    )
