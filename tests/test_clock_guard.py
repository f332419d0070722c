"""The suite's clock guard (tests/conftest.py) really moves the clock it promises to move."""

import time
from datetime import UTC, datetime, timedelta

import time_machine
from django.utils import timezone

from tests.conftest import clock_shift_days


def test_the_session_clock_is_the_wall_clock_moved_by_the_configured_shift():
    travelling = time_machine.escape_hatch.is_travelling()
    wall_seconds = time_machine.escape_hatch.time.time() if travelling else time.time()
    wall = datetime.fromtimestamp(wall_seconds, tz=UTC)
    shifted = timezone.now()

    assert abs(shifted - (wall + timedelta(days=clock_shift_days()))) < timedelta(minutes=1)


def test_a_test_can_still_travel_to_a_fixed_instant_inside_the_shift():
    instant = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    with time_machine.travel(instant, tick=False):
        assert timezone.now() == instant
