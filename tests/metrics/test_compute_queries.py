"""The engine is set-based: a chunk of sellers takes a fixed number of queries (SPEC §4)."""

from datetime import timedelta

import pytest

from metrics.engine.compute import QUERIES_PER_CHUNK, seller_figures, seller_metrics
from metrics.engine.periods import Period, window_for_period
from tests.factories import MessageFactory, OrderFactory, ReviewFactory, SellerFactory, aware

pytestmark = pytest.mark.sqlite


def given_active_seller(index):
    seller = SellerFactory(user=None)
    day = aware("2026-09-01 10:00") + timedelta(hours=index)
    order = OrderFactory(
        seller=seller,
        created_at=day,
        delivered_at=day + timedelta(days=1),
        completed_at=day + timedelta(days=2),
    )
    ReviewFactory(order=order, rating=1 + index % 5, created_at=day + timedelta(days=3))
    OrderFactory(
        seller=seller,
        buyer=order.buyer,
        created_at=day + timedelta(days=4),
        cancelled_at=day + timedelta(days=5),
        cancelled_by="seller",
    )
    MessageFactory(seller=seller, conversation="c", sender="buyer", sent_at=day)
    MessageFactory(
        seller=seller, conversation="c", sender="seller", sent_at=day + timedelta(minutes=index)
    )
    return seller


@pytest.fixture
def window():
    return window_for_period(
        period=Period(2026, 10), window_months=3, window_days=None, response_window_hours=24
    )


def test_one_seller_and_fifty_sellers_take_the_same_two_queries(
    db, window, django_assert_num_queries
):
    sellers = [given_active_seller(i) for i in range(50)]

    # the order and review figures, then the inquiries
    with django_assert_num_queries(QUERIES_PER_CHUNK + 1):
        one = seller_metrics(seller_ids=[sellers[0].pk], window=window)
    with django_assert_num_queries(QUERIES_PER_CHUNK + 1):
        fifty = seller_metrics(seller_ids=[s.pk for s in sellers], window=window)

    assert len(one) == 1
    assert len(fifty) == 50
    assert QUERIES_PER_CHUNK == 1


def test_a_chunk_with_its_figures_in_hand_takes_one_query(db, window, django_assert_num_queries):
    sellers = [given_active_seller(i) for i in range(20)]
    ids = [s.pk for s in sellers]
    figures = seller_figures(window=window, seller_ids=ids)

    with django_assert_num_queries(1):
        chunk = seller_metrics(seller_ids=ids, window=window, figures=figures)

    assert chunk == seller_metrics(seller_ids=ids, window=window)


def test_a_seller_gets_the_same_metrics_alone_or_in_a_chunk(db, window):
    sellers = [given_active_seller(i) for i in range(7)]

    chunk = seller_metrics(seller_ids=[s.pk for s in sellers], window=window)

    for seller in sellers:
        alone = seller_metrics(seller_ids=[seller.pk], window=window)
        assert alone[seller.pk] == chunk[seller.pk]
