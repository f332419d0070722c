"""Order, review, rank and seller metrics (SPEC §4), hand-computed expectations."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import cast

import pytest

from metrics.engine.compute import seller_metrics
from metrics.engine.periods import Period, window_for_period
from metrics.engine.registry import ENGINE_METRIC_KEYS
from orders.models import Seller
from tests.factories import OrderFactory, ReviewFactory, SellerFactory, aware

pytestmark = pytest.mark.sqlite


def new_seller(**fields) -> Seller:
    # No linked login: hashing a password per test would dominate the run time.
    return cast(Seller, SellerFactory(user=None, **fields))


@pytest.fixture
def seller(db):
    return new_seller()


def when_evaluated(seller, period="2026-10", *, window_months=3, window_days=None):
    window = window_for_period(
        period=Period.parse(period),
        window_months=window_months,
        window_days=window_days,
        response_window_hours=24,
    )
    return seller_metrics(seller_ids=[seller.pk], window=window)[seller.pk]


def given_completed_order(seller, at, *, amount="10000", buyer=None, excluded=False, **extra):
    fields = {"buyer": buyer} if buyer else {}
    return OrderFactory(
        seller=seller,
        created_at=at - timedelta(days=2),
        due_at=at - timedelta(days=1),
        delivered_at=at - timedelta(days=1),
        completed_at=at,
        amount=Decimal(amount),
        excluded_from_metrics=excluded,
        **fields,
        **extra,
    )


def given_cancelled_order(seller, at, *, by="buyer", buyer=None, excluded=False, **extra):
    fields = {"buyer": buyer} if buyer else {}
    return OrderFactory(
        seller=seller,
        created_at=at - timedelta(days=2),
        cancelled_at=at,
        cancelled_by=by,
        excluded_from_metrics=excluded,
        **fields,
        **extra,
    )


# --- month edges in Asia/Seoul ---------------------------------------------------------------


def test_order_completed_one_second_before_the_seoul_month_end_counts_in_that_month(seller):
    given_completed_order(seller, datetime.fromisoformat("2026-10-31T23:59:59+09:00"))

    metrics = when_evaluated(seller, window_months=1)

    assert (metrics["completed_orders"], metrics["window_completed_orders"]) == (1, 1)


def test_order_completed_at_seoul_midnight_of_the_next_month_does_not_count(seller):
    given_completed_order(seller, datetime.fromisoformat("2026-11-01T00:00:00+09:00"))

    metrics = when_evaluated(seller, window_months=1)

    assert (metrics["completed_orders"], metrics["window_completed_orders"]) == (0, 0)
    assert when_evaluated(seller, "2026-11", window_months=1)["window_completed_orders"] == 1


def test_order_completed_at_utc_afternoon_of_the_31st_is_already_next_month_in_seoul(seller):
    # 2026-10-31 15:00Z = 2026-11-01 00:00 KST.
    given_completed_order(seller, datetime(2026, 10, 31, 15, 0, tzinfo=UTC))

    assert when_evaluated(seller, window_months=1)["completed_orders"] == 0


def test_order_completed_at_the_window_start_is_in_the_window(seller):
    given_completed_order(seller, aware("2026-10-01 00:00"))
    given_completed_order(seller, aware("2026-09-30 23:59:59"))

    metrics = when_evaluated(seller, window_months=1)

    assert (metrics["completed_orders"], metrics["window_completed_orders"]) == (2, 1)


# --- cumulative sales and rank ----------------------------------------------------------------


def test_revenue_and_unique_buyers_count_completed_orders_before_the_cutoff(seller):
    given_completed_order(seller, aware("2025-03-01 12:00"), amount="1000.50", buyer="ann")
    given_completed_order(seller, aware("2026-10-20 12:00"), amount="2000.25", buyer="ann")
    given_completed_order(seller, aware("2026-10-21 12:00"), amount="300", buyer="bob")
    given_completed_order(seller, aware("2026-11-02 12:00"), amount="99999", buyer="cy")
    OrderFactory(seller=seller, buyer="dee", created_at=aware("2026-10-05 12:00"))  # open

    metrics = when_evaluated(seller)

    assert metrics["completed_orders"] == 3
    assert metrics["revenue"] == Decimal("3300.75")
    assert metrics["unique_buyers"] == 2
    assert (metrics["window_completed_orders"], metrics["window_revenue"]) == (
        2,
        Decimal("2300.25"),
    )


def test_equal_revenues_share_the_best_rank_and_the_next_skips(db):
    a, b, c, d, idle = (new_seller() for _ in range(5))
    # 0.10 + 0.20 must tie with 0.30 exactly (float sums would not).
    given_completed_order(a, aware("2026-09-01 10:00"), amount="0.10")
    given_completed_order(a, aware("2026-09-02 10:00"), amount="0.20")
    given_completed_order(b, aware("2026-09-03 10:00"), amount="0.30")
    given_completed_order(c, aware("2026-09-03 10:00"), amount="0.20")
    given_completed_order(d, aware("2026-09-03 10:00"), amount="0")
    window = window_for_period(
        period=Period(2026, 10), window_months=3, window_days=None, response_window_hours=24
    )

    metrics = seller_metrics(seller_ids=[a.pk, b.pk, c.pk, d.pk, idle.pk], window=window)

    ranks = [metrics[s.pk]["revenue_rank"] for s in (a, b, c, d, idle)]
    assert ranks == [1, 1, 3, 4, None]
    assert {metrics[s.pk]["ranked_sellers"] for s in (a, b, c, d, idle)} == {4}
    tops = [metrics[s.pk]["revenue_top_percent"] for s in (a, b, c, d, idle)]
    assert tops == [Fraction(25), Fraction(25), Fraction(75), Fraction(100), None]


def test_rank_is_over_all_sellers_even_when_the_chunk_holds_one(db):
    first, second = new_seller(), new_seller()
    given_completed_order(first, aware("2026-09-01 10:00"), amount="500")
    given_completed_order(second, aware("2026-09-01 10:00"), amount="100")

    metrics = when_evaluated(second)

    assert (metrics["revenue_rank"], metrics["ranked_sellers"]) == (2, 2)
    assert metrics["revenue_top_percent"] == Fraction(100)


def test_rank_ignores_revenue_completed_at_or_after_the_cutoff(db):
    first, second = new_seller(), new_seller()
    given_completed_order(first, aware("2026-11-01 00:00"), amount="500")
    given_completed_order(second, aware("2026-09-01 10:00"), amount="100")

    metrics = when_evaluated(second)

    assert (metrics["revenue_rank"], metrics["ranked_sellers"]) == (1, 1)
    assert when_evaluated(first)["revenue_rank"] is None


def test_tenure_is_whole_days_from_joining_to_the_cutoff(db):
    # 1 day 23:59:59 before the 2026-11-01 00:00 cutoff → 1 whole day.
    almost_two = new_seller(joined_at=aware("2026-10-30 00:00:01"))
    at_cutoff = new_seller(joined_at=aware("2026-11-01 00:00"))
    later = new_seller(joined_at=aware("2026-12-01 00:00"))
    years = new_seller(joined_at=aware("2025-11-01 00:00"))

    assert when_evaluated(almost_two)["tenure_days"] == 1
    assert when_evaluated(at_cutoff)["tenure_days"] == 0
    assert when_evaluated(later)["tenure_days"] == 0
    assert when_evaluated(years)["tenure_days"] == 365


# --- finished orders, cancellations, delivery --------------------------------------------------


def test_success_and_cancellation_rates_over_finished_orders(seller):
    for day in (3, 4, 5):
        given_completed_order(seller, aware(f"2026-10-{day:02d} 10:00"))
    given_cancelled_order(seller, aware("2026-10-06 10:00"), by="seller")
    given_cancelled_order(seller, aware("2026-10-07 10:00"), by="buyer")
    given_cancelled_order(seller, aware("2026-10-08 10:00"), by="admin")
    given_cancelled_order(seller, aware("2026-07-08 10:00"), by="seller")  # before the window

    metrics = when_evaluated(seller)

    assert metrics["finished_orders"] == 6
    assert metrics["success_rate"] == Fraction(50)
    assert metrics["cancellation_rate"] == Fraction(50)
    assert metrics["seller_cancellation_rate"] == Fraction(100, 6)


def test_on_time_rate_counts_deliveries_in_the_window(seller):
    def delivered(at, due):
        return OrderFactory(
            seller=seller, created_at=aware("2026-07-20 10:00"), due_at=due, delivered_at=at
        )

    delivered(aware("2026-10-10 10:00"), due=aware("2026-10-11 10:00"))  # early
    delivered(aware("2026-10-10 10:00"), due=aware("2026-10-10 10:00"))  # exactly at due
    delivered(aware("2026-10-10 10:00:01"), due=aware("2026-10-10 10:00"))  # 1 s late
    delivered(aware("2026-10-12 10:00"), due=None)  # no due date: on time
    delivered(aware("2026-07-31 10:00"), due=aware("2026-07-30 10:00"))  # before the window
    OrderFactory(  # delivered late, then cancelled: delivered AND cancelled
        seller=seller,
        created_at=aware("2026-09-01 10:00"),
        due_at=aware("2026-09-02 10:00"),
        delivered_at=aware("2026-09-03 10:00"),
        cancelled_at=aware("2026-09-04 10:00"),
        cancelled_by="buyer",
    )

    metrics = when_evaluated(seller)

    assert metrics["delivered_orders"] == 5
    assert metrics["on_time_rate"] == Fraction(100 * 3, 5)
    assert (metrics["finished_orders"], metrics["cancellation_rate"]) == (1, Fraction(100))


# --- reviews ---------------------------------------------------------------------------------


def test_review_metrics_over_reviews_created_in_the_window(seller):
    for rating, day in ((5, 10), (4, 11), (2, 12), (1, 13)):
        order = given_completed_order(seller, aware(f"2026-10-{day:02d} 10:00"))
        ReviewFactory(order=order, rating=rating, created_at=aware(f"2026-10-{day:02d} 12:00"))
    old = given_completed_order(seller, aware("2026-05-01 10:00"))
    ReviewFactory(order=old, rating=1, created_at=aware("2026-05-02 10:00"))
    late = given_completed_order(seller, aware("2026-10-31 10:00"))
    ReviewFactory(order=late, rating=1, created_at=aware("2026-11-01 00:00"))  # at the cutoff

    metrics = when_evaluated(seller)

    assert (metrics["review_count"], metrics["window_review_count"]) == (5, 4)
    assert metrics["average_rating"] == Fraction(5 + 4 + 2 + 1, 4)
    assert metrics["negative_review_rate"] == Fraction(50)


# --- excluded orders --------------------------------------------------------------------------


def test_excluded_orders_count_in_sales_figures_but_in_no_rate(seller):
    kept = given_completed_order(seller, aware("2026-10-10 10:00"), amount="100", buyer="ann")
    ReviewFactory(order=kept, rating=5, created_at=aware("2026-10-11 10:00"))
    excluded = given_completed_order(
        seller, aware("2026-10-12 10:00"), amount="50", buyer="bob", excluded=True
    )
    ReviewFactory(order=excluded, rating=1, created_at=aware("2026-10-13 10:00"))
    given_cancelled_order(seller, aware("2026-10-14 10:00"), by="seller", excluded=True)
    OrderFactory(
        seller=seller,
        excluded_from_metrics=True,
        created_at=aware("2026-10-01 10:00"),
        due_at=aware("2026-10-02 10:00"),
        delivered_at=aware("2026-10-09 10:00"),
    )

    metrics = when_evaluated(seller)

    # Sales figures count every order (SPEC §4).
    assert (metrics["completed_orders"], metrics["revenue"]) == (2, Decimal("150.00"))
    assert (metrics["window_completed_orders"], metrics["window_revenue"]) == (
        2,
        Decimal("150.00"),
    )
    assert metrics["unique_buyers"] == 2
    assert metrics["review_count"] == 2
    # Rates and their counts ignore the excluded orders and their reviews.
    assert (metrics["finished_orders"], metrics["success_rate"]) == (1, Fraction(100))
    assert (metrics["cancellation_rate"], metrics["seller_cancellation_rate"]) == (0, 0)
    assert (metrics["delivered_orders"], metrics["on_time_rate"]) == (1, Fraction(100))
    assert (metrics["window_review_count"], metrics["average_rating"]) == (1, Fraction(5))
    assert metrics["negative_review_rate"] == 0


# --- repeat buyers ----------------------------------------------------------------------------


def test_repeat_buyer_rate_fine_points(seller):
    # ann: completed before the window, orders again in it → repeat
    given_completed_order(seller, aware("2026-06-01 10:00"), buyer="ann")
    OrderFactory(seller=seller, buyer="ann", created_at=aware("2026-10-05 10:00"))
    # bob: first window order completed 10-05, second created 10-10 → repeat
    given_completed_order(seller, aware("2026-10-05 10:00"), buyer="bob")
    OrderFactory(seller=seller, buyer="bob", created_at=aware("2026-10-10 10:00"))
    # cy: one window order → not repeat
    given_completed_order(seller, aware("2026-10-05 10:00"), buyer="cy")
    # dee: earlier order completed at the very instant the window order is created → not
    given_completed_order(seller, aware("2026-09-01 10:00"), buyer="dee")
    OrderFactory(seller=seller, buyer="dee", created_at=aware("2026-09-01 10:00"))
    # eve: the earlier completed order is excluded → not repeat
    given_completed_order(seller, aware("2026-06-01 10:00"), buyer="eve", excluded=True)
    OrderFactory(seller=seller, buyer="eve", created_at=aware("2026-10-05 10:00"))
    # fay: her only window order is excluded → not a window buyer at all
    given_completed_order(seller, aware("2026-06-01 10:00"), buyer="fay")
    OrderFactory(
        seller=seller, buyer="fay", created_at=aware("2026-10-05 10:00"), excluded_from_metrics=True
    )
    # gus: his window order was cancelled; it is a window order all the same → repeat
    given_completed_order(seller, aware("2026-06-01 10:00"), buyer="gus")
    given_cancelled_order(seller, aware("2026-10-07 10:00"), buyer="gus")
    # hal: the earlier order was cancelled, not completed → not repeat
    given_cancelled_order(seller, aware("2026-06-01 10:00"), buyer="hal")
    OrderFactory(seller=seller, buyer="hal", created_at=aware("2026-10-05 10:00"))
    # ian: ordered from another seller before → not a repeat buyer of this seller
    given_completed_order(new_seller(), aware("2026-06-01 10:00"), buyer="ian")
    OrderFactory(seller=seller, buyer="ian", created_at=aware("2026-10-05 10:00"))
    # jo: the earlier order completes only after her latest window order was created → not
    OrderFactory(
        seller=seller,
        buyer="jo",
        created_at=aware("2026-09-01 10:00"),
        delivered_at=aware("2026-09-20 10:00"),
        completed_at=aware("2026-09-21 10:00"),
    )
    OrderFactory(seller=seller, buyer="jo", created_at=aware("2026-09-15 10:00"))

    metrics = when_evaluated(seller)

    # window buyers: ann bob cy dee eve gus hal ian jo = 9; repeat: ann bob gus = 3
    assert metrics["repeat_buyer_rate"] == Fraction(300, 9)


def test_repeat_buyer_judged_at_the_latest_window_order(seller):
    OrderFactory(seller=seller, buyer="ann", created_at=aware("2026-08-02 10:00"))
    given_completed_order(seller, aware("2026-09-01 10:00"), buyer="ann")
    OrderFactory(seller=seller, buyer="ann", created_at=aware("2026-10-02 10:00"))

    assert when_evaluated(seller)["repeat_buyer_rate"] == Fraction(100)


# --- null metrics and windows -----------------------------------------------------------------


def test_seller_with_no_activity_gets_zero_counts_and_null_rates(db):
    busy, idle = new_seller(), new_seller()
    given_completed_order(busy, aware("2026-09-01 10:00"))

    metrics = when_evaluated(idle)

    assert set(metrics) == set(ENGINE_METRIC_KEYS)  # success_score: added by the grading
    assert metrics == {
        "completed_orders": 0,
        "revenue": Decimal("0.00"),
        "review_count": 0,
        "revenue_rank": None,
        "ranked_sellers": 1,
        "revenue_top_percent": None,
        "unique_buyers": 0,
        "tenure_days": (aware("2026-11-01 00:00") - aware("2025-01-01 00:00")).days,
        "inquiries": 0,
        "answered_in_time": 0,
        "response_rate": None,
        "window_completed_orders": 0,
        "window_revenue": Decimal("0.00"),
        "finished_orders": 0,
        "success_rate": None,
        "cancellation_rate": None,
        "seller_cancellation_rate": None,
        "delivered_orders": 0,
        "on_time_rate": None,
        "window_review_count": 0,
        "average_rating": None,
        "negative_review_rate": None,
        "median_first_response_minutes": None,
        "repeat_buyer_rate": None,
        "window_orders": 0,
        "order_defect_rate": None,
        "dispatch_orders": 0,
        "late_shipment_rate": None,
        "shipped_orders": 0,
        "valid_tracking_rate": None,
        "cases_opened": 0,
        "case_rate": None,
        "unresolved_case_rate": None,
        "csat_responses": 0,
        "csat_percent": None,
        "nps_responses": 0,
        "nps": None,
        "resolved_conversations": 0,
        "median_resolution_hours": None,
        "buyer_retention_rate": None,
        "buyer_churn_rate": None,
    }


def test_value_types_follow_the_registry_contract(seller):
    order = given_completed_order(seller, aware("2026-10-10 10:00"))
    ReviewFactory(order=order, rating=4, created_at=aware("2026-10-11 10:00"))

    metrics = when_evaluated(seller)

    assert type(metrics["completed_orders"]) is int
    assert type(metrics["revenue_rank"]) is int
    assert type(metrics["revenue"]) is Decimal
    assert type(metrics["window_revenue"]) is Decimal
    assert type(metrics["average_rating"]) is Fraction
    assert type(metrics["success_rate"]) is Fraction


def test_window_months_three_zero_and_window_days(seller):
    given_completed_order(seller, aware("2026-05-10 10:00"))
    given_completed_order(seller, aware("2026-08-01 00:00"))
    given_completed_order(seller, aware("2026-10-20 10:00"))

    assert when_evaluated(seller, window_months=3)["finished_orders"] == 2
    assert when_evaluated(seller, window_months=0)["finished_orders"] == 3
    assert when_evaluated(seller, window_months=1)["finished_orders"] == 1
    # 15 days before 2026-11-01 → from 2026-10-17 00:00
    assert when_evaluated(seller, window_days=15)["finished_orders"] == 1
    # 92 days before 2026-11-01 → from 2026-08-01 00:00 (31 + 30 + 31)
    assert when_evaluated(seller, window_days=92)["finished_orders"] == 2
    assert when_evaluated(seller, window_days=91)["finished_orders"] == 1
    # cumulative figures do not depend on the window
    assert when_evaluated(seller, window_days=15)["completed_orders"] == 3


def test_unknown_seller_ids_are_left_out(seller):
    window = window_for_period(
        period=Period(2026, 10), window_months=3, window_days=None, response_window_hours=24
    )

    assert set(seller_metrics(seller_ids=[seller.pk, seller.pk + 10_000], window=window)) == {
        seller.pk
    }
    assert seller_metrics(seller_ids=[], window=window) == {}
