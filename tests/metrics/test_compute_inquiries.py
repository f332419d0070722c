"""Inquiries, response rate and median first response (SPEC §4), hand-computed expectations."""

from datetime import timedelta
from fractions import Fraction

import pytest

from metrics.engine.compute import seller_metrics
from metrics.engine.periods import Period, window_for_period
from tests.factories import MessageFactory, SellerFactory, aware

pytestmark = pytest.mark.sqlite


@pytest.fixture
def seller(db):
    # No linked login: hashing a password per test would dominate the run time.
    return SellerFactory(user=None)


def when_evaluated(seller, period="2026-10", *, window_months=3, window_days=None, hours=24):
    window = window_for_period(
        period=Period.parse(period),
        window_months=window_months,
        window_days=window_days,
        response_window_hours=hours,
    )
    return seller_metrics(seller_ids=[seller.pk], window=window)[seller.pk]


def given_message(seller, conversation, sender, at):
    return MessageFactory(seller=seller, conversation=conversation, sender=sender, sent_at=at)


def given_inquiry(seller, at, *, reply_after=None, conversation=None):
    """A buyer message opening a conversation, optionally answered ``reply_after`` later."""
    conversation = conversation or f"c-{seller.pk}-{at.isoformat()}"
    inquiry = given_message(seller, conversation, "buyer", at)
    if reply_after is not None:
        given_message(seller, conversation, "seller", at + reply_after)
    return inquiry


def test_nine_of_ten_answered_in_time_is_exactly_ninety_percent(seller):
    for i in range(10):
        reply = timedelta(hours=1) if i < 9 else None
        given_inquiry(seller, aware("2026-10-10 09:00") + timedelta(hours=i), reply_after=reply)

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (10, 9)
    assert metrics["response_rate"] == Fraction(90)


def test_eight_of_ten_answered_in_time_is_eighty_percent(seller):
    for i in range(10):
        reply = timedelta(hours=1) if i < 8 else None
        given_inquiry(seller, aware("2026-10-10 09:00") + timedelta(hours=i), reply_after=reply)

    metrics = when_evaluated(seller)

    assert metrics["response_rate"] == Fraction(80)
    assert metrics["response_rate"] < 90


def test_reply_exactly_at_the_deadline_is_in_time(seller):
    given_inquiry(seller, aware("2026-10-10 09:00"), reply_after=timedelta(hours=24))

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (1, 1)


def test_reply_one_second_after_the_deadline_is_not_in_time(seller):
    given_inquiry(seller, aware("2026-10-10 09:00"), reply_after=timedelta(hours=24, seconds=1))

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (1, 0)
    assert metrics["response_rate"] == 0


def test_the_response_window_comes_from_the_policy(seller):
    given_inquiry(seller, aware("2026-10-10 09:00"), reply_after=timedelta(hours=2))

    assert when_evaluated(seller, hours=1)["answered_in_time"] == 0
    assert when_evaluated(seller, hours=2)["answered_in_time"] == 1


def test_inquiry_whose_deadline_is_the_cutoff_belongs_to_the_next_period(seller):
    # Deadline 2026-11-01 00:00 KST = the cutoff of 2026-10.
    given_inquiry(seller, aware("2026-10-31 00:00"), reply_after=timedelta(minutes=5))

    assert when_evaluated(seller, "2026-10", window_months=1)["inquiries"] == 0
    assert when_evaluated(seller, "2026-11", window_months=1)["inquiries"] == 1


def test_inquiry_whose_deadline_is_one_second_before_the_cutoff_belongs_to_the_period(seller):
    given_inquiry(seller, aware("2026-10-30 23:59:59"), reply_after=timedelta(minutes=5))

    assert when_evaluated(seller, "2026-10", window_months=1)["inquiries"] == 1
    assert when_evaluated(seller, "2026-11", window_months=1)["inquiries"] == 0


def test_inquiry_sent_before_the_window_with_deadline_at_its_start_is_in_the_window(seller):
    # 3-month window of 2026-10 starts 2026-08-01 00:00; deadlines decide membership.
    given_inquiry(seller, aware("2026-07-31 00:00"))
    given_inquiry(seller, aware("2026-07-30 23:59:59"))

    assert when_evaluated(seller)["inquiries"] == 1


def test_reply_at_the_cutoff_leaves_the_inquiry_unanswered_and_out_of_the_median(seller):
    # Late but before the cutoff: 48 h = 2880 min, in the median, not in time.
    given_inquiry(seller, aware("2026-10-29 10:00"), reply_after=timedelta(hours=48))
    # Answered exactly at the cutoff (2026-11-01 00:00): as if never answered.
    given_inquiry(seller, aware("2026-10-30 10:00"), reply_after=timedelta(hours=38))

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (2, 0)
    assert metrics["median_first_response_minutes"] == Fraction(2880)


def test_only_a_buyer_message_after_a_seller_message_or_opening_the_thread_is_an_inquiry(seller):
    given_message(seller, "c1", "buyer", aware("2026-10-10 09:00"))  # inquiry (opens)
    given_message(seller, "c1", "buyer", aware("2026-10-10 09:30"))  # follow-up, not an inquiry
    given_message(seller, "c1", "seller", aware("2026-10-10 10:00"))  # answers the first
    given_message(seller, "c1", "buyer", aware("2026-10-11 09:00"))  # inquiry, never answered

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (2, 1)
    assert metrics["median_first_response_minutes"] == Fraction(60)


def test_equal_timestamps_are_ordered_by_insertion(seller):
    # Inserted buyer then seller at the same instant: answered after 0 minutes.
    given_message(seller, "c1", "buyer", aware("2026-10-10 09:00"))
    given_message(seller, "c1", "seller", aware("2026-10-10 09:00"))
    # Inserted seller then buyer at the same instant: the buyer message follows the seller's,
    # so it is an inquiry, and nothing answers it.
    given_message(seller, "c2", "seller", aware("2026-10-12 09:00"))
    given_message(seller, "c2", "buyer", aware("2026-10-12 09:00"))

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (2, 1)
    assert metrics["median_first_response_minutes"] == 0


def test_same_conversation_id_of_two_sellers_are_separate_threads(seller):
    other = SellerFactory(user=None)
    given_message(seller, "shared", "buyer", aware("2026-10-10 09:00"))
    given_message(other, "shared", "seller", aware("2026-10-10 09:10"))

    assert (when_evaluated(seller)["inquiries"], when_evaluated(seller)["answered_in_time"]) == (
        1,
        0,
    )
    assert when_evaluated(other)["inquiries"] == 0


def test_median_of_an_odd_count_is_the_middle_value(seller):
    for i, minutes in enumerate([40, 10, 20]):
        given_inquiry(
            seller,
            aware("2026-10-10 09:00") + timedelta(days=i),
            reply_after=timedelta(minutes=minutes),
        )

    assert when_evaluated(seller)["median_first_response_minutes"] == Fraction(20)


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values(seller):
    for i, minutes in enumerate([40, 10, 70, 25]):
        given_inquiry(
            seller,
            aware("2026-10-10 09:00") + timedelta(days=i),
            reply_after=timedelta(minutes=minutes),
        )

    # sorted: 10, 25, 40, 70 → (25 + 40) / 2
    assert when_evaluated(seller)["median_first_response_minutes"] == Fraction(65, 2)


def test_median_minutes_are_seconds_over_sixty(seller):
    given_inquiry(seller, aware("2026-10-10 09:00"), reply_after=timedelta(seconds=90))

    assert when_evaluated(seller)["median_first_response_minutes"] == Fraction(3, 2)


def test_median_includes_late_answers_before_the_cutoff(seller):
    given_inquiry(seller, aware("2026-10-10 09:00"), reply_after=timedelta(minutes=30))
    given_inquiry(seller, aware("2026-10-12 09:00"), reply_after=timedelta(hours=30))
    given_inquiry(seller, aware("2026-10-14 09:00"))  # never answered: not in the median

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (3, 1)
    assert metrics["median_first_response_minutes"] == Fraction(30 + 1800, 2)


def test_no_inquiries_gives_null_rate_and_median(seller):
    given_message(seller, "c1", "seller", aware("2026-10-10 09:00"))

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (0, 0)
    assert metrics["response_rate"] is None
    assert metrics["median_first_response_minutes"] is None


def test_all_time_window_counts_every_inquiry_before_the_cutoff(seller):
    given_inquiry(seller, aware("2024-01-10 09:00"), reply_after=timedelta(minutes=1))
    given_inquiry(seller, aware("2026-10-10 09:00"))

    assert when_evaluated(seller, window_months=0)["inquiries"] == 2
    assert when_evaluated(seller, window_months=3)["inquiries"] == 1


def test_window_days_counts_inquiries_with_deadline_in_the_last_days(seller):
    # 7 days before 2026-11-01 → deadlines in [2026-10-25 00:00, 2026-11-01 00:00).
    given_inquiry(seller, aware("2026-10-24 00:00"))  # deadline 10-25 00:00: in
    given_inquiry(seller, aware("2026-10-23 23:59"))  # deadline 10-24 23:59: out

    assert when_evaluated(seller, window_days=7)["inquiries"] == 1


# --- the window's slice of messages (only [start − response window, cutoff) is read) ----------
# Window of 2026-10 with 3 months: deadlines in [2026-08-01, 2026-11-01), so the slice starts at
# 2026-07-31 00:00 (KST) for a 24 h response window.


def test_a_buyer_message_right_after_an_older_buyer_message_is_not_an_inquiry(seller):
    # The first message of the conversation lies long before the slice; the second one, in the
    # slice, follows a buyer message, so it is no inquiry (SPEC §4).
    given_message(seller, "old", "buyer", aware("2026-03-01 10:00"))
    given_message(seller, "old", "buyer", aware("2026-08-10 10:00"))

    metrics = when_evaluated(seller)

    assert metrics["inquiries"] == 0


def test_a_buyer_message_after_an_old_seller_message_is_an_inquiry(seller):
    given_message(seller, "old", "buyer", aware("2026-03-01 10:00"))
    given_message(seller, "old", "seller", aware("2026-03-01 11:00"))
    given_message(seller, "old", "buyer", aware("2026-08-10 10:00"))
    given_message(seller, "old", "seller", aware("2026-08-10 12:00"))

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (1, 1)
    assert metrics["median_first_response_minutes"] == 120


def test_an_inquiry_just_inside_the_slice_after_one_just_outside_it(seller):
    # 2026-07-30 23:59 KST: its deadline 2026-07-31 23:59 is before the window; the next buyer
    # message (2026-07-31 00:00, deadline 2026-08-01 00:00 = the window start) follows it and so
    # is no inquiry, although it is the first message inside the slice.
    given_message(seller, "edge", "buyer", aware("2026-07-30 23:59"))
    given_message(seller, "edge", "buyer", aware("2026-07-31 00:00"))
    given_message(seller, "edge2", "seller", aware("2026-07-30 23:59"))
    given_message(seller, "edge2", "buyer", aware("2026-07-31 00:00"))  # an inquiry, in window

    metrics = when_evaluated(seller)

    assert (metrics["inquiries"], metrics["answered_in_time"]) == (1, 0)


def test_equal_timestamps_before_the_slice_are_ordered_by_insertion(seller):
    # Two messages at the same instant before the slice: the later-inserted one (seller) is the
    # predecessor of the buyer message in the slice, which is therefore an inquiry.
    at = aware("2026-06-01 09:00")
    given_message(seller, "tie", "buyer", at)
    given_message(seller, "tie", "seller", at)
    given_message(seller, "tie", "buyer", aware("2026-09-01 09:00"))

    metrics = when_evaluated(seller)

    assert metrics["inquiries"] == 1
