"""The rule "a review needs a completed order" holds under concurrent writers (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from common.ingest import WriteConflict
from orders.models import Order
from reviews.models import Review
from reviews.services import upsert_reviews
from tests.factories import OrderFactory, aware

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_review_racing_an_order_uncompletion_is_refused_not_written():
    if connection.vendor != "postgresql":
        pytest.fail("this race needs PostgreSQL row locks")
    OrderFactory(
        external_id="race-1",
        created_at=aware("2026-10-01 10:00"),
        delivered_at=aware("2026-10-02 10:00"),
        completed_at=aware("2026-10-03 10:00"),
    )
    order = Order.objects.get(external_id="race-1")
    locked = threading.Event()
    release = threading.Event()

    def uncomplete_and_hold() -> None:
        try:
            with transaction.atomic():
                Order.objects.select_for_update().filter(pk=order.pk).update(completed_at=None)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    other = threading.Thread(target=uncomplete_and_hold)
    other.start()
    assert locked.wait(timeout=10)
    outcome: list[object] = []

    def review() -> None:
        try:
            upsert_reviews(
                items=[
                    {
                        "external_id": "race-r",
                        "order": "race-1",
                        "rating": 5,
                        "created_at": "2026-10-04T10:00:00+09:00",
                    }
                ]
            )
            outcome.append("written")
        except WriteConflict as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    reviewer = threading.Thread(target=review)
    reviewer.start()
    time.sleep(0.5)  # the reviewer validated against the committed (completed) order and waits
    release.set()
    other.join(timeout=10)
    reviewer.join(timeout=10)

    assert len(outcome) == 1 and isinstance(outcome[0], WriteConflict)
    assert not Review.objects.exists()
