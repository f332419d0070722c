"""Evidence selectors (SPEC §7): the items behind a window metric, failing first, and their
agreement with what ``seller_metrics`` counts."""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from metrics.engine.compute import seller_metrics
from metrics.engine.evidence import EVIDENCE_METRICS, evidence_items
from metrics.engine.periods import Period, window_for_period
from metrics.engine.registry import METRICS
from tests.factories import MessageFactory, OrderFactory, ReviewFactory, SellerFactory, aware

pytestmark = pytest.mark.sqlite


def window(hours=24):
    return window_for_period(
        period=Period(2026, 10), window_months=3, window_days=None, response_window_hours=hours
    )


@pytest.fixture
def seller(db):
    # No linked login: hashing a password per test would dominate the run time.
    return SellerFactory(user=None)


def given_inquiry(seller, conversation, at, reply_after=None):
    MessageFactory(seller=seller, conversation=conversation, sender="buyer", sent_at=at)
    if reply_after is not None:
        MessageFactory(
            seller=seller, conversation=conversation, sender="seller", sent_at=at + reply_after
        )


@pytest.fixture
def busy_seller(seller):
    """A seller with something in every window metric, passing and failing."""
    given_inquiry(seller, "fast", aware("2026-10-02 09:00"), timedelta(minutes=30))
    given_inquiry(seller, "late", aware("2026-10-03 09:00"), timedelta(hours=30))
    given_inquiry(seller, "never", aware("2026-10-01 09:00"))
    given_inquiry(seller, "at-cutoff", aware("2026-10-30 12:00"), timedelta(hours=36))
    given_inquiry(seller, "next-period", aware("2026-10-31 08:00"), timedelta(minutes=1))

    def order(external_id, **fields):
        return OrderFactory(seller=seller, external_id=external_id, **fields)

    completed = order(
        "done-on-time",
        buyer="ann",
        created_at=aware("2026-10-01 10:00"),
        due_at=aware("2026-10-05 10:00"),
        delivered_at=aware("2026-10-04 10:00"),
        completed_at=aware("2026-10-06 10:00"),
        amount=Decimal("120.50"),
    )
    order(
        "done-late",
        buyer="ann",
        created_at=aware("2026-10-08 10:00"),
        due_at=aware("2026-10-09 10:00"),
        delivered_at=aware("2026-10-10 10:00"),
        completed_at=aware("2026-10-12 10:00"),
    )
    order(
        "seller-cancel",
        buyer="bob",
        created_at=aware("2026-09-01 10:00"),
        cancelled_at=aware("2026-09-02 10:00"),
        cancelled_by="seller",
    )
    order(
        "buyer-cancel-after-delivery",
        buyer="cy",
        created_at=aware("2026-09-03 10:00"),
        due_at=None,
        delivered_at=aware("2026-09-04 10:00"),
        cancelled_at=aware("2026-09-05 10:00"),
        cancelled_by="buyer",
    )
    order(
        "excluded",
        buyer="dee",
        excluded_from_metrics=True,
        created_at=aware("2026-09-03 10:00"),
        delivered_at=aware("2026-09-20 10:00"),
        completed_at=aware("2026-09-21 10:00"),
    )
    order(
        "completes-after-cutoff",
        buyer="eve",
        created_at=aware("2026-10-20 10:00"),
        due_at=aware("2026-10-25 10:00"),
        delivered_at=aware("2026-10-24 10:00"),
        completed_at=aware("2026-11-02 10:00"),
    )
    ReviewFactory(order=completed, external_id="r-good", rating=5)
    ReviewFactory(
        order=OrderFactory(
            seller=seller,
            external_id="reviewed-badly",
            buyer="fay",
            created_at=aware("2026-08-01 10:00"),
            due_at=aware("2026-08-05 10:00"),
            delivered_at=aware("2026-08-02 10:00"),
            completed_at=aware("2026-08-03 10:00"),
        ),
        external_id="r-bad",
        rating=2,
        created_at=aware("2026-08-04 10:00"),
    )
    return seller


def test_response_rate_evidence_lists_missed_inquiries_first(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="response_rate")

    assert [(i["conversation"], i["in_time"]) for i in items] == [
        ("never", False),
        ("late", False),
        ("at-cutoff", False),
        ("fast", True),
    ]
    never, late, at_cutoff, fast = items
    assert never["answered_at"] is None
    assert at_cutoff["answered_at"] is None  # the reply at the cutoff does not count
    assert late["answered_at"] == aware("2026-10-04 15:00")
    assert fast["sent_at"] == aware("2026-10-02 09:00")
    assert fast["deadline"] == aware("2026-10-03 09:00")
    assert set(fast) == {"conversation", "sent_at", "deadline", "answered_at", "in_time"}


def test_median_evidence_lists_the_answered_inquiries_slowest_first(busy_seller):
    items = evidence_items(
        seller_id=busy_seller.pk, window=window(), metric="median_first_response_minutes"
    )

    assert [i["conversation"] for i in items] == ["late", "fast"]


def test_on_time_evidence_lists_late_deliveries_first(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="on_time_rate")

    assert [(i["external_id"], i["on_time"]) for i in items] == [
        ("done-late", False),
        ("reviewed-badly", True),
        ("buyer-cancel-after-delivery", True),
        ("done-on-time", True),
        ("completes-after-cutoff", True),
    ]
    assert set(items[0]) == {
        "external_id",
        "due_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "on_time",
    }


def test_success_rate_evidence_lists_cancelled_orders_first(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="success_rate")

    assert [i["external_id"] for i in items] == [
        "seller-cancel",
        "buyer-cancel-after-delivery",
        "reviewed-badly",
        "done-on-time",
        "done-late",
    ]
    assert items[0]["cancelled_by"] == "seller"


def test_seller_cancellation_evidence_fails_only_seller_cancellations(busy_seller):
    items = evidence_items(
        seller_id=busy_seller.pk, window=window(), metric="seller_cancellation_rate"
    )

    assert items[0]["external_id"] == "seller-cancel"
    # then by finishing time: 08-03, 09-05 (cancelled by the buyer: not failing), 10-06, 10-12
    assert [i["external_id"] for i in items[1:]] == [
        "reviewed-badly",
        "buyer-cancel-after-delivery",
        "done-on-time",
        "done-late",
    ]


def test_order_events_at_or_after_the_cutoff_are_not_shown(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="delivered_orders")

    pending = next(i for i in items if i["external_id"] == "completes-after-cutoff")
    assert pending["completed_at"] is None
    assert pending["delivered_at"] == aware("2026-10-24 10:00")


def test_window_revenue_evidence_lists_every_completed_order_including_excluded(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="window_revenue")

    assert [i["external_id"] for i in items] == [
        "reviewed-badly",
        "excluded",
        "done-on-time",
        "done-late",
    ]


def test_negative_review_evidence_lists_low_ratings_first(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="negative_review_rate")

    assert list(items) == [
        {"external_id": "r-bad", "order": "reviewed-badly", "rating": 2},
        {"external_id": "r-good", "order": "done-on-time", "rating": 5},
    ]


def test_repeat_buyer_evidence_lists_each_window_buyer_once_new_buyers_first(busy_seller):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric="repeat_buyer_rate")

    # window buyers (excluded orders ignored): fay, bob, cy, ann, eve; ann is the only repeat
    # buyer (done-on-time completed 10-06 before done-late was created 10-08).
    assert [i["external_id"] for i in items] == [
        "reviewed-badly",
        "seller-cancel",
        "buyer-cancel-after-delivery",
        "completes-after-cutoff",
        "done-late",
    ]


@pytest.mark.parametrize("metric", ["completed_orders", "revenue", "revenue_rank", "tenure_days"])
def test_cumulative_metrics_have_no_evidence(seller, metric):
    with pytest.raises(ValueError, match="no evidence"):
        evidence_items(seller_id=seller.pk, window=window(), metric=metric)


def test_unknown_metric_is_refused(seller):
    with pytest.raises(ValueError, match="Unknown metric"):
        evidence_items(seller_id=seller.pk, window=window(), metric="karma")


def test_every_window_metric_has_evidence():
    # success_score is derived from the policy: its parts have the evidence.
    window = {key for key, info in METRICS.items() if info.window and not info.derived}
    assert window == EVIDENCE_METRICS


def test_evidence_agrees_with_the_computed_metrics(busy_seller):
    metrics = seller_metrics(seller_ids=[busy_seller.pk], window=window())[busy_seller.pk]

    def items(metric):
        return evidence_items(seller_id=busy_seller.pk, window=window(), metric=metric)

    inquiries = items("response_rate")
    assert len(inquiries) == metrics["inquiries"] == len(items("inquiries"))
    assert sum(i["in_time"] for i in inquiries) == metrics["answered_in_time"]
    assert len(items("median_first_response_minutes")) == sum(
        i["answered_at"] is not None for i in inquiries
    )
    finished = items("finished_orders")
    assert len(finished) == metrics["finished_orders"]
    completed = sum(i["completed_at"] is not None for i in finished)
    assert metrics["success_rate"] == Fraction(100 * completed, len(finished))
    seller_cancelled = sum(i["cancelled_by"] == "seller" for i in finished)
    assert metrics["seller_cancellation_rate"] == Fraction(100 * seller_cancelled, len(finished))
    delivered = items("on_time_rate")
    assert len(delivered) == metrics["delivered_orders"]
    on_time = sum(i["on_time"] for i in delivered)
    assert metrics["on_time_rate"] == Fraction(100 * on_time, len(delivered))
    assert len(items("window_completed_orders")) == metrics["window_completed_orders"]
    reviews = items("average_rating")
    assert len(reviews) == metrics["window_review_count"]
    assert metrics["average_rating"] == Fraction(sum(r["rating"] for r in reviews), len(reviews))
    repeat = items("repeat_buyer_rate")
    assert metrics["repeat_buyer_rate"] == Fraction(100 * 1, len(repeat))  # ann only


def test_reading_the_evidence_takes_one_query(busy_seller, django_assert_num_queries):
    for metric in ("response_rate", "on_time_rate", "repeat_buyer_rate", "average_rating"):
        with django_assert_num_queries(1):
            items = evidence_items(seller_id=busy_seller.pk, window=window(), metric=metric)
            read = [item for item in items]  # a for loop: list() would also count them

        assert read


@pytest.mark.parametrize(
    "metric",
    ["success_rate", "on_time_rate", "window_revenue", "repeat_buyer_rate", "average_rating"],
)
def test_order_and_review_evidence_is_read_only_when_asked(
    busy_seller, metric, django_assert_num_queries
):
    with django_assert_num_queries(0):
        items = evidence_items(seller_id=busy_seller.pk, window=window(), metric=metric)
    with django_assert_num_queries(1):
        count = items.count()
    with django_assert_num_queries(1):
        page = items[1:3]

    everything = list(items)
    assert count == len(everything)
    assert page == everything[1:3]


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        # seller-cancel | reviewed-badly, buyer-cancel-after-delivery, done-on-time, done-late
        ("seller_cancellation_rate", ["buyer-cancel-after-delivery", "done-on-time"]),
        # done-late | reviewed-badly, buyer-cancel-after-delivery, done-on-time, ...
        ("on_time_rate", ["buyer-cancel-after-delivery", "done-on-time"]),
        # new buyers reviewed-badly, seller-cancel, buyer-cancel..., completes-after-cutoff | ann
        ("repeat_buyer_rate", ["buyer-cancel-after-delivery", "completes-after-cutoff"]),
    ],
)
def test_a_slice_is_cut_from_the_failing_first_order(busy_seller, metric, expected):
    items = evidence_items(seller_id=busy_seller.pk, window=window(), metric=metric)

    assert [i["external_id"] for i in items[2:4]] == expected


def test_a_window_reaching_before_year_1_is_a_value_error(seller):
    # Period 0001-01, one-month window: it starts at 0001-01-01 00:00 local, before 0001-01-01
    # 00:00 UTC (which the database adapters would need), so it is refused up front.
    first_month = window_for_period(
        period=Period(1, 1), window_months=1, window_days=None, response_window_hours=24
    )

    with pytest.raises(ValueError, match="outside the supported calendar"):
        evidence_items(seller_id=seller.pk, window=first_month, metric="on_time_rate")
