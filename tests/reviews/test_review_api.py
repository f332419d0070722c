"""Reviews over the API: SPEC §2 rules, upsert, bulk (SPEC §7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviews.models import Review
from tests.api_helpers import assert_refused, put_review, review_body
from tests.factories import OrderFactory, ReviewFactory, aware

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed_order(seller):
    return OrderFactory(
        external_id="o-1",
        seller=seller,
        delivered_at=aware("2026-10-03 10:00"),
        completed_at=aware("2026-10-05 10:00"),
    )


def test_put_creates_a_review_of_a_completed_order(staff_client, completed_order):
    response = put_review(staff_client, review_body(order="o-1"))
    assert response.status_code == 201
    review = Review.objects.get()
    assert (review.order_id, review.rating) == (completed_order.id, 5)
    assert review.created_at == aware("2026-10-06 10:00")
    data = response.json()
    assert (data["order"], data["seller"]) == ("o-1", completed_order.seller.external_id)


def test_replaying_a_review_returns_200_and_changes_nothing(staff_client, completed_order):
    body = review_body(order="o-1")
    put_review(staff_client, body)
    before = Review.objects.values("id", "order_id", "rating", "comment", "created_at").get()
    assert put_review(staff_client, body).status_code == 200
    after = Review.objects.values("id", "order_id", "rating", "comment", "created_at").get()
    assert after == before


@pytest.mark.parametrize("rating", [0, 6, -1, 10**30])
def test_rating_outside_1_to_5_is_refused(staff_client, completed_order, rating):
    assert_refused(
        put_review(staff_client, review_body(order="o-1", rating=rating)), "rating", model=Review
    )


@pytest.mark.parametrize("rating", [4.5, "five", True, False, None, [5]])
def test_rating_that_is_not_an_integer_is_refused(staff_client, completed_order, rating):
    assert_refused(
        put_review(staff_client, review_body(order="o-1", rating=rating)), "rating", model=Review
    )


def test_review_of_an_unknown_order_is_refused(staff_client, db):
    assert_refused(
        put_review(staff_client, review_body(order="nope")), "order", "unknown", model=Review
    )


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"delivered_at": aware("2026-10-03 10:00")},
        {"cancelled_at": aware("2026-10-02 10:00"), "cancelled_by": "buyer"},
    ],
    ids=["in-progress", "delivered", "cancelled"],
)
def test_review_of_an_order_that_is_not_completed_is_refused(staff_client, seller, state):
    OrderFactory(external_id="o-1", seller=seller, **state)
    assert_refused(put_review(staff_client, review_body(order="o-1")), "order", "not", model=Review)


def test_rating_5_0_as_a_json_number_is_stored_as_5(staff_client, completed_order):
    response = put_review(staff_client, review_body(order="o-1", rating=5.0))
    assert response.status_code == 201
    assert Review.objects.get().rating == 5


def test_rating_as_a_json_string_is_refused_as_not_an_integer(staff_client, completed_order):
    response = put_review(staff_client, review_body(order="o-1", rating="5"))
    assert response.status_code == 400
    assert "integer" in response.json()["rating"][0]


def test_review_comment_may_be_left_out_or_null(staff_client, completed_order):
    body = review_body(order="o-1", comment=None)
    assert put_review(staff_client, body).status_code == 201
    del body["comment"]
    assert put_review(staff_client, body).status_code == 200


def test_reviews_seller_is_its_orders_seller(staff_client, completed_order):
    response = put_review(staff_client, review_body(order="o-1"))
    assert response.json()["seller"] == completed_order.seller.external_id


def test_a_review_body_naming_its_seller_is_refused(staff_client, completed_order):
    # The seller is the order's (SPEC §2): a review has no seller field to send.
    response = put_review(staff_client, review_body(order="o-1", seller="someone-else"))
    assert response.status_code == 400
    assert "Unknown field 'seller'" in response.json()["seller"][0]


def test_second_review_of_one_order_is_refused(staff_client, completed_order):
    ReviewFactory(external_id="r-first", order=completed_order)
    response = put_review(staff_client, review_body("r-2", order="o-1"))
    assert response.status_code == 400
    assert "r-first" in response.json()["order"][0]
    assert Review.objects.count() == 1


def test_naive_created_at_is_refused(staff_client, completed_order):
    body = review_body(order="o-1", created_at="2026-10-06T10:00:00")
    assert_refused(put_review(staff_client, body), "created_at", "timezone required", model=Review)


def test_over_long_comment_is_refused(staff_client, completed_order):
    body = review_body(order="o-1", comment="x" * 5001)
    assert_refused(put_review(staff_client, body), "comment", "5000 characters", model=Review)


def test_bulk_reviews_all_or_nothing(staff_client, seller):
    orders = [
        OrderFactory(
            external_id=f"o-{n}",
            seller=seller,
            delivered_at=aware("2026-10-03 10:00"),
            completed_at=aware("2026-10-05 10:00") if n != 3 else None,
        )
        for n in range(5)
    ]
    items = [review_body(f"r-{n}", order=f"o-{n}") for n in range(len(orders))]
    response = staff_client.post("/api/v1/reviews/bulk", items, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["errors"]] == [3]
    assert not Review.objects.exists()
    del items[3]
    response = staff_client.post("/api/v1/reviews/bulk", items, format="json")
    assert response.json() == {"created": 4, "updated": 0}


def test_two_reviews_of_one_order_in_a_batch_refuse_the_later(staff_client, completed_order):
    items = [review_body("r-1", order="o-1"), review_body("r-2", order="o-1")]
    response = staff_client.post("/api/v1/reviews/bulk", items, format="json")
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [1]
    assert "index 0" in errors[0]["order"][0]


# The query bound is PostgreSQL's: SQLite's limit on variables per statement splits the batch.
@pytest.mark.postgres
def test_bulk_of_1000_reviews_takes_a_fixed_number_of_queries(
    staff_client, seller, django_assert_max_num_queries
):
    done = aware("2026-10-05 10:00")
    OrderFactory.create_batch(
        1000, seller=seller, delivered_at=done - timedelta(days=1), completed_at=done
    )
    refs = [str(ref) for ref in seller.orders.values_list("external_id", flat=True)]
    items = [review_body(f"r-{n}", order=ref) for n, ref in enumerate(refs)]
    # token, staff permissions, orders, existing reviews, savepoint, order locks, the upsert,
    # release
    with django_assert_max_num_queries(8):
        response = staff_client.post("/api/v1/reviews/bulk", items, format="json")
    assert response.json() == {"created": 1000, "updated": 0}
