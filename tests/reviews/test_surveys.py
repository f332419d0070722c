"""Surveys (SPEC §2, §7): CSAT 1–5 and/or NPS 0–10 as JSON integers, at least one; one survey
per order; PUT creates or replaces, bulk is all or nothing."""

from __future__ import annotations

import pytest

from reviews.models import Survey
from tests.api_helpers import assert_refused, put_survey, survey_body
from tests.factories import OrderFactory, SellerFactory, SurveyFactory, aware

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(seller):
    return OrderFactory(
        external_id="o-1",
        seller=seller,
        delivered_at=aware("2026-10-03 10:00"),
        completed_at=aware("2026-10-05 10:00"),
    )


def test_put_creates_a_survey_and_shows_it_with_its_orders_seller(staff_client, order):
    response = put_survey(staff_client, survey_body(order="o-1"))
    assert response.status_code == 201, response.content
    assert response.json() == {
        "external_id": "v-1",
        "order": "o-1",
        "seller": order.seller.external_id,
        "csat": 5,
        "nps": 9,
        "answered_at": "2026-10-06T12:00:00+09:00",
    }
    assert staff_client.get("/api/v1/surveys/v-1").json() == response.json()


def test_put_replay_is_200_and_changes_nothing(staff_client, order):
    first = put_survey(staff_client, survey_body(order="o-1"))
    second = put_survey(staff_client, survey_body(order="o-1"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert Survey.objects.count() == 1


@pytest.mark.parametrize(("csat", "nps"), [(1, None), (None, 0), (5, 10), (3, None)])
def test_either_answer_alone_or_both_is_accepted(staff_client, order, csat, nps):
    body = survey_body(order="o-1", csat=csat, nps=nps)
    response = put_survey(staff_client, body)
    assert response.status_code == 201, response.content
    assert (Survey.objects.get().csat, Survey.objects.get().nps) == (csat, nps)


def test_a_survey_left_without_csat_and_nps_is_refused(staff_client, order):
    body = survey_body(order="o-1")
    del body["csat"], body["nps"]
    assert_refused(put_survey(staff_client, body), "non_field_errors", "at least one", model=Survey)


def test_both_null_is_refused_too(staff_client, order):
    body = survey_body(order="o-1", csat=None, nps=None)
    assert_refused(put_survey(staff_client, body), "non_field_errors", "csat, nps", model=Survey)


@pytest.mark.parametrize("csat", [0, 6, -1, "5", 4.5, True, [5]])
def test_csat_outside_1_to_5_or_not_a_json_integer_is_refused(staff_client, order, csat):
    assert_refused(
        put_survey(staff_client, survey_body(order="o-1", csat=csat)), "csat", model=Survey
    )


@pytest.mark.parametrize("nps", [-1, 11, "9", 9.5, False])
def test_nps_outside_0_to_10_or_not_a_json_integer_is_refused(staff_client, order, nps):
    assert_refused(put_survey(staff_client, survey_body(order="o-1", nps=nps)), "nps", model=Survey)


def test_naive_answered_at_is_refused(staff_client, order):
    body = survey_body(order="o-1", answered_at="2026-10-06T12:00:00")
    assert_refused(put_survey(staff_client, body), "answered_at", "timezone required", model=Survey)


def test_unknown_order_is_refused(staff_client, db):
    assert_refused(
        put_survey(staff_client, survey_body(order="o-404")), "order", "unknown order", model=Survey
    )


def test_a_second_survey_of_the_same_order_is_refused(staff_client, order):
    SurveyFactory(external_id="v-first", order=order)
    response = put_survey(staff_client, survey_body("v-2", order="o-1"))
    assert response.status_code == 400
    assert "already has a survey ('v-first')" in response.json()["order"][0]
    assert list(Survey.objects.values_list("external_id", flat=True)) == ["v-first"]


def test_a_cancelled_order_may_be_surveyed(staff_client, seller):
    OrderFactory(
        external_id="o-c",
        seller=seller,
        cancelled_at=aware("2026-10-02 10:00"),
        cancelled_by="seller",
    )
    assert put_survey(staff_client, survey_body(order="o-c")).status_code == 201


def test_moving_a_survey_to_another_order_frees_the_first(staff_client, order, seller):
    OrderFactory(external_id="o-2", seller=seller)
    put_survey(staff_client, survey_body("v-1", order="o-1"))
    assert put_survey(staff_client, survey_body("v-1", order="o-2")).status_code == 200
    assert put_survey(staff_client, survey_body("v-9", order="o-1")).status_code == 201


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_creates_and_counts(staff_client, seller):
    OrderFactory.create_batch(3, seller=seller)
    orders = list(seller.orders.values_list("external_id", flat=True))
    items = [survey_body(f"v-{n}", order=o) for n, o in enumerate(orders)]
    response = staff_client.post("/api/v1/surveys/bulk", items, format="json")
    assert response.json() == {"created": 3, "updated": 0}
    response = staff_client.post("/api/v1/surveys/bulk", items, format="json")
    assert response.json() == {"created": 0, "updated": 3}


def test_two_surveys_of_one_order_in_a_batch_refuse_the_later(staff_client, order):
    items = [survey_body("v-1", order="o-1"), survey_body("v-2", order="o-1")]
    response = staff_client.post("/api/v1/surveys/bulk", items, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["index"] == 1
    assert "index 0" in error["order"][0]
    assert not Survey.objects.exists()


def test_one_bad_survey_refuses_the_whole_batch(staff_client, seller):
    OrderFactory(external_id="o-a", seller=seller)
    OrderFactory(external_id="o-b", seller=seller)
    items = [survey_body("v-a", order="o-a"), survey_body("v-b", order="o-b", nps=11)]
    response = staff_client.post("/api/v1/surveys/bulk", items, format="json")
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert not Survey.objects.exists()


@pytest.mark.postgres
def test_bulk_of_1000_surveys_takes_a_fixed_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    orders = OrderFactory.create_batch(1000)
    items = [survey_body(f"v-{n}", order=o.external_id) for n, o in enumerate(orders)]
    # token, order refs (with their surveys), savepoint, the upsert, release
    with django_assert_max_num_queries(6):  # + the staff user's permissions
        response = staff_client.post("/api/v1/surveys/bulk", items, format="json")
    assert response.json() == {"created": 1000, "updated": 0}


# --- who reads what ------------------------------------------------------------------------


def test_a_seller_reads_only_its_own_surveys(seller_client, seller):
    SurveyFactory(external_id="v-mine", order__seller=seller)
    SurveyFactory(external_id="v-other", order__seller=SellerFactory())
    assert seller_client.get("/api/v1/surveys/v-other").status_code == 404
    results = seller_client.get("/api/v1/surveys").json()["results"]
    assert [s["external_id"] for s in results] == ["v-mine"]


def test_a_seller_cannot_write_a_survey(seller_client, order):
    assert put_survey(seller_client, survey_body(order="o-1")).status_code == 403
    assert not Survey.objects.exists()
