"""Periods and windows (SPEC §3): month edges in TIME_ZONE (Asia/Seoul), rolling windows."""

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from metrics.engine.periods import Period, Window, window_for_period, window_to_now
from tests.factories import aware

pytestmark = pytest.mark.sqlite


def test_parse_reads_year_and_month():
    assert Period.parse("2026-10") == Period(2026, 10)
    assert str(Period.parse("2026-01")) == "2026-01"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-10", "2026/10", "", "x"])
def test_parse_rejects_malformed_text_with_a_clear_message(text):
    with pytest.raises(ValueError, match="period|Period|month"):
        Period.parse(text)


def test_period_start_and_cutoff_are_local_midnights_in_seoul():
    period = Period(2026, 10)
    assert period.start == datetime(2026, 9, 30, 15, 0, tzinfo=UTC)
    assert period.cutoff == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)


def test_december_rolls_over_to_january_of_the_next_year():
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert Period(2026, 12).cutoff == aware("2027-01-01 00:00")


def test_containing_takes_the_month_in_seoul_not_utc():
    # 2026-10-31 15:00Z is 2026-11-01 00:00 in Seoul.
    assert Period.containing(datetime(2026, 10, 31, 14, 59, 59, tzinfo=UTC)) == Period(2026, 10)
    assert Period.containing(datetime(2026, 10, 31, 15, 0, tzinfo=UTC)) == Period(2026, 11)


def test_containing_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        Period.containing(datetime(2026, 10, 1))  # noqa: DTZ001


@override_settings(TIME_ZONE="UTC")
def test_month_edges_follow_the_time_zone_setting():
    assert Period(2026, 10).cutoff == datetime(2026, 11, 1, tzinfo=UTC)


def test_periods_order_chronologically():
    assert sorted([Period(2027, 1), Period(2026, 12), Period(2026, 2)]) == [
        Period(2026, 2),
        Period(2026, 12),
        Period(2027, 1),
    ]


def test_three_month_window_starts_two_months_before_the_period():
    window = window_for_period(
        period=Period(2026, 10), window_months=3, window_days=None, response_window_hours=24
    )
    assert window == Window(
        start=aware("2026-08-01 00:00"),
        cutoff=aware("2026-11-01 00:00"),
        response_window_hours=24,
        months=3,
    )


def test_three_month_window_crosses_the_year_boundary():
    window = window_for_period(
        period=Period(2027, 1), window_months=3, window_days=None, response_window_hours=24
    )
    assert window.start == aware("2026-11-01 00:00")


def test_zero_months_means_all_time_before_the_cutoff():
    window = window_for_period(
        period=Period(2026, 10), window_months=0, window_days=None, response_window_hours=12
    )
    assert (window.start, window.cutoff, window.response_window_hours) == (
        None,
        aware("2026-11-01 00:00"),
        12,
    )


def test_window_days_wins_over_window_months():
    window = window_for_period(
        period=Period(2026, 10), window_months=3, window_days=30, response_window_hours=24
    )
    assert window.start == aware("2026-10-02 00:00")
    assert window.cutoff == aware("2026-11-01 00:00")


def test_window_days_zero_is_unset_and_months_apply():
    window = window_for_period(
        period=Period(2026, 10), window_months=1, window_days=0, response_window_hours=24
    )
    assert window.start == aware("2026-10-01 00:00")


def test_a_window_needs_months_or_days():
    with pytest.raises(ValueError, match="window"):
        window_for_period(
            period=Period(2026, 10), window_months=None, window_days=None, response_window_hours=24
        )


def test_live_window_ends_now_and_starts_like_the_current_period():
    now = aware("2026-10-15 13:30")
    window = window_to_now(now=now, window_months=3, window_days=None, response_window_hours=24)
    assert (window.start, window.cutoff) == (aware("2026-08-01 00:00"), now)


def test_live_window_with_days_counts_back_from_now():
    now = aware("2026-10-15 13:30")
    window = window_to_now(now=now, window_months=None, window_days=7, response_window_hours=24)
    assert (window.start, window.cutoff) == (aware("2026-10-08 13:30"), now)
