"""Parallel PUTs of one new id: one row, and exactly one answer says it was created (PostgreSQL).

Whether a PUT created its row is what the database did (``INSERT ... ON CONFLICT``), not what
a read before the write saw: twenty writers all read "absent", only one of them inserts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from orders.models import Message, Order, Seller
from reviews.models import Review
from tests.api_helpers import (
    message_body,
    open_order_body,
    order_body,
    put_message,
    put_order,
    put_review,
    put_seller,
    review_body,
    seller_body,
    token_client,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 20


def statuses_of_parallel(put: Callable[[Any], Any], staff_user: Any) -> list[int]:
    """``put(client)`` from WRITERS threads at once, each with its own client and connection."""
    if connection.vendor != "postgresql":
        pytest.fail("parallel writers need PostgreSQL")
    clients = [token_client(staff_user) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(client: Any) -> None:
        try:
            start.wait(timeout=30)
            status = put(client).status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == WRITERS
    return statuses


def test_parallel_puts_of_one_new_order_say_created_exactly_once(staff_user, seller):
    body = open_order_body("o-par", seller=seller.external_id)
    statuses = statuses_of_parallel(lambda client: put_order(client, body), staff_user)
    assert sorted(statuses) == [200] * (WRITERS - 1) + [201]
    assert Order.objects.filter(external_id="o-par").count() == 1


def test_parallel_puts_of_one_new_message_say_created_exactly_once(staff_user, seller):
    body = message_body("m-par", seller=seller.external_id)
    statuses = statuses_of_parallel(lambda client: put_message(client, body), staff_user)
    assert sorted(statuses) == [200] * (WRITERS - 1) + [201]
    assert Message.objects.filter(external_id="m-par").count() == 1


def test_parallel_puts_of_one_new_review_say_created_exactly_once(staff_user, seller):
    assert put_order(token_client(staff_user), order_body("o-r", seller=seller.external_id))
    body = review_body("r-par", order="o-r")
    statuses = statuses_of_parallel(lambda client: put_review(client, body), staff_user)
    assert sorted(statuses) == [200] * (WRITERS - 1) + [201]
    assert Review.objects.filter(external_id="r-par").count() == 1


def test_parallel_puts_of_one_new_seller_say_created_at_most_once(staff_user):
    # Each writer also creates the seller's login: the losers of that race are a clean 409.
    body = seller_body("s-par")
    statuses = statuses_of_parallel(lambda client: put_seller(client, body), staff_user)
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    assert Seller.objects.filter(external_id="s-par").count() == 1
