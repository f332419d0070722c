"""Program and customer-success metrics (SPEC §4), hand-computed expectations on the fine points.

Period 2026-10 with the default 3-month window: [2026-08-01, 2026-11-01) Seoul time; the previous
window of equal length (buyer retention) is [2026-05-01, 2026-08-01).
"""

from datetime import timedelta
from fractions import Fraction
from typing import cast

import pytest

from metrics.engine.compute import (
    FIGURE_COLUMNS,
    POLICY_WINDOW,
    resolution_figures,
    seller_figures,
    seller_metrics,
    store_run_figures,
    stored_run_figures,
)
from metrics.engine.periods import Period, Window, window_for_period
from metrics.engine.windows import days_window
from metrics.models import EvaluationRun, RunSellerFigures, RunStatus
from orders.models import Seller
from tests.factories import (
    CaseFactory,
    ConversationFactory,
    MessageFactory,
    OrderFactory,
    ReviewFactory,
    SellerFactory,
    SurveyFactory,
    aware,
)

pytestmark = pytest.mark.sqlite

CUTOFF = aware("2026-11-01 00:00")
START = aware("2026-08-01 00:00")
US = timedelta(microseconds=1)


@pytest.fixture
def seller(db) -> Seller:
    return cast(Seller, SellerFactory(user=None))


def window(period="2026-10", *, months=3, days=None) -> Window:
    return window_for_period(
        period=Period.parse(period),
        window_months=months,
        window_days=days,
        response_window_hours=24,
    )


def when_evaluated(seller, **kwargs):
    return seller_metrics(seller_ids=[seller.pk], window=window(**kwargs))[seller.pk]


def order(seller, created="2026-10-02 10:00", **fields):
    return OrderFactory(seller=seller, created_at=aware(created), **fields)


def completed(seller, at, *, buyer, **fields):
    moment = aware(at)
    return OrderFactory(
        seller=seller,
        buyer=buyer,
        created_at=moment - timedelta(days=2),
        due_at=None,
        delivered_at=moment - timedelta(days=1),
        completed_at=moment,
        **fields,
    )


# --- defects and cases ------------------------------------------------------------------------


def test_order_defect_rate_counts_each_window_order_once_over_window_orders(seller):
    low = completed(seller, "2026-09-10 10:00", buyer="a")
    ReviewFactory(order=low, rating=2, created_at=aware("2026-09-11 10:00"))  # defect: review
    both = completed(seller, "2026-09-10 10:00", buyer="b")
    ReviewFactory(order=both, rating=1, created_at=aware("2026-09-11 10:00"))
    CaseFactory(order=both, kind="chargeback")  # a second reason: still one order
    CaseFactory(order=order(seller), kind="claim")  # open claim: a defect
    CaseFactory(order=order(seller), kind="dispute")  # a dispute is no defect
    dismissed = order(seller)
    CaseFactory(
        order=dismissed,
        kind="claim",
        closed_at=aware("2026-10-20 10:00"),
        outcome="seller_favour",
    )
    late_dismissal = order(seller)  # dismissed only at the cutoff: still open, a defect
    CaseFactory(order=late_dismissal, kind="claim", closed_at=CUTOFF, outcome="withdrawn")
    order(seller, created="2026-07-31 23:59")  # before the window: not a window order
    CaseFactory(order=order(seller, created="2026-07-31 23:59"), kind="claim")
    excluded = order(seller, excluded_from_metrics=True)
    CaseFactory(order=excluded, kind="claim")
    high = completed(seller, "2026-09-10 10:00", buyer="c")
    ReviewFactory(order=high, rating=3, created_at=aware("2026-09-11 10:00"))
    at_cutoff = completed(seller, "2026-10-30 10:00", buyer="d")
    ReviewFactory(order=at_cutoff, rating=1, created_at=CUTOFF)  # at the cutoff: nothing

    metrics = when_evaluated(seller)

    # window orders: low both claim dispute dismissed late_dismissal high at_cutoff = 8
    assert metrics["window_orders"] == 8
    # defective: low both claim late_dismissal = 4
    assert metrics["order_defect_rate"] == Fraction(400, 8)


def test_case_rates_count_orders_with_cases_and_cases_opened_counts_cases(seller):
    two = order(seller)
    CaseFactory(order=two, kind="dispute", opened_at=aware("2026-10-03 10:00"))
    CaseFactory(
        order=two,
        kind="claim",
        opened_at=aware("2026-10-04 10:00"),
        closed_at=aware("2026-10-05 10:00"),
        outcome="buyer_favour",
    )
    closed_late = order(seller)  # decided for the buyer at the cutoff: open at the cutoff
    CaseFactory(order=closed_late, opened_at=aware("2026-10-05 10:00"), closed_at=CUTOFF,
                outcome="buyer_favour")  # fmt: skip
    opened_at_cutoff = order(seller)
    CaseFactory(order=opened_at_cutoff, opened_at=CUTOFF)  # counts in nothing
    order(seller)
    old = order(seller, created="2026-06-01 10:00")  # not a window order, case opened in it
    CaseFactory(
        order=old,
        opened_at=aware("2026-08-01 00:00"),
        closed_at=aware("2026-08-02 00:00"),
        outcome="buyer_favour",
    )
    CaseFactory(order=order(seller, excluded_from_metrics=True))

    metrics = when_evaluated(seller)

    assert metrics["window_orders"] == 4  # two closed_late opened_at_cutoff plain
    assert metrics["cases_opened"] == 4  # two's two, closed_late's, old's (at the start)
    assert metrics["case_rate"] == Fraction(200, 4)  # two, closed_late
    assert metrics["unresolved_case_rate"] == Fraction(100, 4)  # two only


# --- dispatch and tracking --------------------------------------------------------------------


def test_late_shipment_rate_over_dispatch_orders(seller):
    ship_by = aware("2026-10-10 18:00")
    order(seller, ship_by=ship_by, shipped_at=ship_by, tracking="valid")  # at ship_by: on time
    order(seller, ship_by=ship_by, shipped_at=ship_by + US, tracking="valid")  # late
    order(seller, ship_by=ship_by)  # never shipped: late
    order(seller, ship_by=ship_by, cancelled_at=ship_by - US, cancelled_by="buyer")  # left out
    order(seller, ship_by=ship_by, cancelled_at=ship_by, cancelled_by="seller")  # late
    order(seller, created="2026-10-30 10:00", ship_by=CUTOFF)  # ship_by at the cutoff: out
    order(seller, ship_by=ship_by, excluded_from_metrics=True)

    metrics = when_evaluated(seller)

    assert metrics["dispatch_orders"] == 4
    assert metrics["late_shipment_rate"] == Fraction(300, 4)


def test_valid_tracking_rate_over_orders_shipped_in_the_window(seller):
    order(seller, shipped_at=aware("2026-10-03 10:00"), tracking="valid")
    order(seller, shipped_at=aware("2026-10-03 10:00"), tracking="invalid")
    order(seller, shipped_at=aware("2026-10-03 10:00"))  # "" (null): not valid
    order(seller, created="2026-10-30 10:00", shipped_at=CUTOFF, tracking="valid")  # out
    order(
        seller, shipped_at=aware("2026-10-03 10:00"), tracking="valid", excluded_from_metrics=True
    )

    metrics = when_evaluated(seller)

    assert metrics["shipped_orders"] == 3
    assert metrics["valid_tracking_rate"] == Fraction(100, 3)


# --- surveys ----------------------------------------------------------------------------------


def test_csat_and_nps_from_surveys_answered_in_the_window(seller):
    answered = aware("2026-10-05 10:00")
    for csat, nps in [(5, 10), (4, 9), (3, 8), (2, 7), (None, 6), (1, 0), (5, None)]:
        SurveyFactory(order=order(seller), csat=csat, nps=nps, answered_at=answered)
    SurveyFactory(order=order(seller), csat=1, nps=0, answered_at=CUTOFF)  # out
    SurveyFactory(order=order(seller, excluded_from_metrics=True), csat=1, nps=0,
                  answered_at=answered)  # fmt: skip

    metrics = when_evaluated(seller)

    assert metrics["csat_responses"] == 6
    assert metrics["csat_percent"] == Fraction(300, 6)  # 5, 4, 5
    assert metrics["nps_responses"] == 6
    # promoters 10, 9 = 2; detractors 6, 0 = 2 (7 and 8 are passives)
    assert metrics["nps"] == 0


def test_nps_exactly_at_a_threshold_is_exact_and_may_be_negative(seller):
    answered = aware("2026-10-05 10:00")
    # 10 answers: 5 promoters, 2 detractors → 100 × 3 / 10 = 30 exactly
    for score in [10, 10, 9, 9, 9, 8, 7, 7, 6, 0]:
        SurveyFactory(order=order(seller), csat=None, nps=score, answered_at=answered)
    other = cast(Seller, SellerFactory(user=None))
    for score in [0, 0, 10]:
        SurveyFactory(order=order(other), csat=None, nps=score, answered_at=answered)

    assert when_evaluated(seller)["nps"] == Fraction(30)
    assert when_evaluated(other)["nps"] == Fraction(-100, 3)


# --- resolutions ------------------------------------------------------------------------------


def given_conversation(seller, first_sent, resolved_at, *, extra=()):
    conversation = ConversationFactory(seller=seller, resolved_at=resolved_at)
    for sent in (first_sent, *extra):
        if sent is not None:
            MessageFactory(seller=seller, conversation=conversation.external_id, sent_at=sent)
    return conversation


def test_median_resolution_hours_counts_resolutions_with_an_earlier_message(seller):
    resolved = aware("2026-10-20 12:00")
    # resolution times: 1 h, 2 h 30 min, 10 h 0.000001 s, 30 h, and 732 h below
    for hours in (1, 2.5, 10, 30):
        first = resolved - timedelta(hours=hours)
        if hours == 10:
            first -= US
        given_conversation(seller, first, resolved, extra=(first + timedelta(minutes=5),))
    given_conversation(seller, resolved, resolved)  # first message at resolved_at: no
    given_conversation(seller, None, resolved)  # no message at all: no
    given_conversation(seller, resolved - timedelta(hours=5), None)  # open: no
    given_conversation(seller, resolved - timedelta(hours=5), CUTOFF)  # at the cutoff: no
    # first message long before the window: resolved in it, counted from the first message
    given_conversation(seller, aware("2026-07-01 12:00"), aware("2026-08-01 00:00"))

    metrics = when_evaluated(seller)

    assert metrics["resolved_conversations"] == 5
    # sorted: 1, 2.5, 10 h + 1 µs, 30, 744 (31 days) → the middle one
    assert metrics["median_resolution_hours"] == Fraction(10) + Fraction(1, 3_600_000_000)


def test_median_resolution_hours_of_an_even_count(seller):
    resolved = aware("2026-10-20 12:00")
    for hours in (1, 2, 4, 8):
        given_conversation(seller, resolved - timedelta(hours=hours), resolved)

    assert when_evaluated(seller)["median_resolution_hours"] == Fraction(3)


def test_resolution_ignores_another_sellers_messages_of_the_same_thread_id(seller):
    other = cast(Seller, SellerFactory(user=None))
    resolved = aware("2026-10-20 12:00")
    conversation = given_conversation(seller, resolved - timedelta(hours=2), resolved)
    MessageFactory(seller=other, conversation=conversation.external_id,
                   sent_at=resolved - timedelta(days=9))  # fmt: skip

    assert when_evaluated(seller)["median_resolution_hours"] == Fraction(2)


# --- retention --------------------------------------------------------------------------------


def test_buyer_retention_over_buyers_of_the_previous_window(seller):
    completed(seller, "2026-05-01 00:00", buyer="back")  # at the previous window's start
    order(seller, buyer="back")
    completed(seller, "2026-07-31 23:59", buyer="gone")
    completed(seller, "2026-04-30 23:59", buyer="older")  # before the previous window
    order(seller, buyer="older")
    OrderFactory(seller=seller, buyer="cancelled-only", created_at=aware("2026-06-01 10:00"),
                 cancelled_at=aware("2026-06-02 10:00"), cancelled_by="buyer")  # fmt: skip
    order(seller, buyer="cancelled-only")
    completed(seller, "2026-06-10 10:00", buyer="excluded-return")
    order(seller, buyer="excluded-return", excluded_from_metrics=True)  # does not count
    completed(seller, "2026-06-10 10:00", buyer="late-return")
    order(seller, buyer="late-return", created="2026-11-01 00:00")  # at the cutoff: no
    completed(seller, "2026-06-10 10:00", buyer="excluded", excluded_from_metrics=True)
    order(seller, buyer="excluded")

    metrics = when_evaluated(seller)

    # previous buyers: back gone excluded-return late-return = 4; came back: back
    assert metrics["buyer_retention_rate"] == Fraction(100, 4)
    assert metrics["buyer_churn_rate"] == Fraction(300, 4)


def test_buyer_retention_previous_window_in_days(seller):
    # 30 days: window [2026-10-02, 2026-11-01), previous [2026-09-02, 2026-10-02)
    completed(seller, "2026-09-02 00:00", buyer="in")
    order(seller, buyer="in", created="2026-10-02 00:00")
    completed(seller, "2026-09-01 23:59", buyer="before")
    order(seller, buyer="before", created="2026-10-05 00:00")
    completed(seller, "2026-10-01 23:59", buyer="gone")

    metrics = when_evaluated(seller, days=30)

    assert metrics["buyer_retention_rate"] == Fraction(100, 2)


def test_buyer_retention_previous_window_in_calendar_months(seller):
    # 1 month: window October, previous window September (30 days, not 31)
    completed(seller, "2026-09-01 00:00", buyer="a")
    order(seller, buyer="a")
    completed(seller, "2026-08-31 12:00", buyer="b")  # in the 31 days before October only

    assert when_evaluated(seller, months=1)["buyer_retention_rate"] == Fraction(100)


def test_all_time_window_has_null_retention_and_counts_everything_else(seller):
    completed(seller, "2025-06-10 10:00", buyer="a")
    order(seller, buyer="a")
    SurveyFactory(order=order(seller, created="2024-01-01 10:00"), csat=5, nps=None,
                  answered_at=aware("2024-01-02 10:00"))  # fmt: skip

    metrics = when_evaluated(seller, months=0)

    assert metrics["buyer_retention_rate"] is None
    assert metrics["buyer_churn_rate"] is None
    assert metrics["window_orders"] == 3
    assert metrics["csat_percent"] == 100


# --- both statement forms agree ---------------------------------------------------------------


def test_run_figures_store_the_same_program_figures_as_the_filtered_statement(seller):
    other = cast(Seller, SellerFactory(user=None))
    low = completed(seller, "2026-09-10 10:00", buyer="a")
    ReviewFactory(order=low, rating=1, created_at=aware("2026-09-11 10:00"))
    CaseFactory(order=order(other), kind="chargeback")
    SurveyFactory(order=order(other), csat=2, nps=9, answered_at=aware("2026-10-05 10:00"))
    given_conversation(other, aware("2026-10-01 10:00"), aware("2026-10-01 12:30"))
    completed(other, "2026-06-10 10:00", buyer="x")
    order(other, buyer="x", shipped_at=aware("2026-10-03 10:00"), tracking="valid",
          ship_by=aware("2026-10-03 09:00"))  # fmt: skip
    run = EvaluationRun.objects.create(period="2026-10")

    thirty = days_window(cutoff=window().cutoff, days=30, response_window_hours=24)
    store_run_figures(run_id=run.pk, windows={POLICY_WINDOW: window(), 30: thirty})
    stored, own = stored_run_figures(run_id=run.pk, first=0, last=10**12)
    filtered = seller_figures(window=window(), seller_ids=[seller.pk, other.pk])
    alone = seller_figures(window=thirty, seller_ids=[seller.pk, other.pk])

    assert stored[seller.pk] == filtered[seller.pk]
    assert stored[other.pk] == filtered[other.pk]
    # The criterion window's row is the statement's over those 30 days alone.
    assert own[seller.pk][30] == alone[seller.pk]
    assert own[other.pk][30] == alone[other.pk]
    assert alone[seller.pk].defective_orders == 0  # ordered in September: not in 30 days
    assert filtered[other.pk].late_shipments == 1
    assert filtered[seller.pk].defective_orders == 1


def test_resolution_figures_computed_beside_the_statement_are_stored_the_same(seller):
    """``store_run_figures(resolutions=…)`` (a run executed in process computes them on another
    connection while the figures statement runs without them) stores exactly what the one
    statement stores; and if that computation failed, it computes them itself."""
    other = cast(Seller, SellerFactory(user=None))
    resolved = aware("2026-10-20 12:00")
    for hours in (1, 2, 4, 8):  # an even count in the 30 days
        given_conversation(seller, resolved - timedelta(hours=hours), resolved)
    given_conversation(seller, aware("2026-07-01 12:00"), aware("2026-08-20 00:00"))
    given_conversation(other, aware("2026-09-01 10:00"), aware("2026-09-03 12:30"))
    completed(other, "2026-09-10 10:00", buyer="x")
    thirty = days_window(cutoff=window().cutoff, days=30, response_window_hours=24)
    windows = {POLICY_WINDOW: window(), 30: thirty}

    def stored_rows(**kwargs: object) -> list[tuple[object, ...]]:
        run = EvaluationRun.objects.create(period="2026-10", status=RunStatus.SUCCEEDED)
        store_run_figures(run_id=run.pk, windows=windows, **kwargs)  # type: ignore[arg-type]
        return sorted(
            RunSellerFigures.objects.filter(run=run).values_list(
                "seller_id", "window_days", *FIGURE_COLUMNS[1:]
            )
        )

    def failing() -> tuple[list[str], list[tuple[object, ...]]]:
        raise RuntimeError("the other connection went away")

    one_statement = stored_rows()
    beside = stored_rows(resolutions=lambda: resolution_figures(windows=windows))
    recovered = stored_rows(resolutions=failing)

    assert beside == one_statement
    assert recovered == one_statement
    resolved_counts = {(row[0], row[1]): row for row in one_statement}
    names = ("seller_id", "window_days", *FIGURE_COLUMNS[1:])
    count = names.index("resolved_conversations")
    assert resolved_counts[(seller.pk, POLICY_WINDOW)][count] == 5
    assert resolved_counts[(seller.pk, 30)][count] == 4
    assert resolved_counts[(other.pk, POLICY_WINDOW)][count] == 1
    assert resolved_counts[(other.pk, 30)][count] == 0
