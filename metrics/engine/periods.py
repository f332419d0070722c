"""Evaluation periods and metric windows (SPEC §3).

A period is a calendar month in ``settings.TIME_ZONE`` (Asia/Seoul by default): period
``2026-10`` covers [2026-10-01 00:00, 2026-11-01 00:00) local time, and its **cutoff**
(2026-11-01 00:00, the grade's ``effective_from``) is the instant at and after which nothing
counts. A :class:`Window` is what the engine needs to compute metrics: the cutoff, the start of
the rolling window for the rate metrics (``None`` = all time) and the policy's response window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}.")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month in ``settings.TIME_ZONE``; ``str(period)`` is ``"YYYY-MM"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"Month must be between 1 and 12, got {self.month}.")
        if not 1 <= self.year <= 9998:
            raise ValueError(f"Year must be between 1 and 9998, got {self.year}.")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"2026-10"`` → ``Period(2026, 10)``; a ValueError with a clear message otherwise."""
        match = _PERIOD_RE.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"Invalid period {text!r}: expected YYYY-MM, e.g. 2026-10.")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"Invalid period {text!r}: month must be 01 to 12.")
        if year < 1:
            raise ValueError(f"Invalid period {text!r}: year must be 0001 or later.")
        return cls(year, month)

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        """The period an aware moment falls in, month edges taken in ``settings.TIME_ZONE``."""
        _require_aware(moment, "moment")
        local = moment.astimezone(_zone())
        return cls(local.year, local.month)

    @property
    def start(self) -> datetime:
        """The 1st of the month, 00:00 local time (aware)."""
        return datetime(self.year, self.month, 1, tzinfo=_zone())

    @property
    def cutoff(self) -> datetime:
        """The 1st of the next month, 00:00 local time: nothing at or after it counts."""
        return self.next().start

    def shifted(self, months: int) -> Period:
        """The period ``months`` months later (earlier when negative)."""
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def previous(self) -> Period:
        return self.shifted(-1)

    def next(self) -> Period:
        return self.shifted(1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Window:
    """What the metrics are computed over (SPEC §3–§4).

    Cumulative metrics use everything before ``cutoff``; window metrics use [start, cutoff)
    (all time before the cutoff when ``start`` is None). Nothing at or after ``cutoff`` counts.
    """

    cutoff: datetime
    start: datetime | None
    response_window_hours: int
    # How the window was sized, for the window just before it (``previous_start``): calendar
    # months (``window_months``) or days. 0 and 0: days, as many as from start to cutoff.
    months: int = 0

    @property
    def previous_start(self) -> datetime | None:
        """The start of the previous window of equal length, [previous_start, start) (SPEC §4
        ``buyer_retention_rate``): as many calendar months, or days, as this window, just before
        its start. None with an all-time window."""
        if self.start is None:
            return None
        if self.months:
            return Period.containing(self.start).shifted(-self.months).start
        # Local wall-clock days, like window_days (the same instants in a zone without DST).
        local_start = self.start.astimezone(_zone())
        local_cutoff = self.cutoff.astimezone(_zone())
        length = local_cutoff.replace(tzinfo=None) - local_start.replace(tzinfo=None)
        return local_start - length

    def __post_init__(self) -> None:
        _require_aware(self.cutoff, "cutoff")
        if self.start is not None:
            _require_aware(self.start, "start")
            if self.start > self.cutoff:
                raise ValueError("A window cannot start after its cutoff.")
        if self.response_window_hours < 0:
            raise ValueError("response_window_hours must not be negative.")
        if self.months < 0:
            raise ValueError("months must not be negative.")


def _window_start(
    *, cutoff: datetime, period: Period, window_months: int | None, window_days: int | None
) -> datetime | None:
    # SPEC §5: window_days "when set it wins". 0 / None means "not set" (admin requires one of
    # the two fields; a 0-day window would hold nothing, which no operator means).
    if window_days:
        if window_days < 0:
            raise ValueError("window_days must not be negative.")
        # "The N days before the cutoff": N calendar days in TIME_ZONE, so the window starts at
        # local midnight like the cutoff (wall-clock arithmetic in the local zone; identical to
        # N × 24 h in a zone without DST such as Asia/Seoul).
        local_cutoff = cutoff.astimezone(_zone())
        return local_cutoff - timedelta(days=window_days)
    if window_months is None:
        raise ValueError("A policy needs window_months or window_days.")
    if window_months < 0:
        raise ValueError("window_months must not be negative.")
    if window_months == 0:
        return None  # SPEC §3: 0 means all time before the cutoff
    return period.shifted(-(window_months - 1)).start


def _months_of(*, window_months: int | None, window_days: int | None) -> int:
    """The window's length in calendar months, 0 when it is sized in days (or all time)."""
    return 0 if window_days else max(window_months or 0, 0)


def window_for_period(
    *,
    period: Period,
    window_months: int | None,
    window_days: int | None,
    response_window_hours: int,
) -> Window:
    """The window of a monthly evaluation: [start, period.cutoff).

    ``window_days`` N (when set and > 0) → [cutoff − N days, cutoff); else ``window_months``
    N > 0 → [start of the month N−1 months before ``period``, cutoff); 0 → all time.
    """
    cutoff = period.cutoff
    start = _window_start(
        cutoff=cutoff, period=period, window_months=window_months, window_days=window_days
    )
    return Window(
        cutoff=cutoff,
        start=start,
        response_window_hours=response_window_hours,
        months=_months_of(window_months=window_months, window_days=window_days),
    )


def window_to_now(
    *,
    now: datetime,
    window_months: int | None,
    window_days: int | None,
    response_window_hours: int,
) -> Window:
    """The live preview's window (SPEC §7 grade/preview): the current month so far.

    Same rules as :func:`window_for_period` for the period containing ``now``, but the cutoff
    is ``now`` itself ("if evaluated today").
    """
    _require_aware(now, "now")
    period = Period.containing(now)
    start = _window_start(
        cutoff=now, period=period, window_months=window_months, window_days=window_days
    )
    return Window(
        cutoff=now,
        start=start,
        response_window_hours=response_window_hours,
        months=_months_of(window_months=window_months, window_days=window_days),
    )
