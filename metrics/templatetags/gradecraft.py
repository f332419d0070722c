"""Template filters for the pages' one date, time and number format (``web.sentences``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template

from metrics.web import sentences

register = template.Library()


@register.filter
def moment(value: datetime | None) -> str:
    """A time in the active language with its zone; "—" for none."""
    return sentences.moment(value) if value else "—"


@register.filter
def day(value: datetime | None) -> str:
    return sentences.date(value) if value else "—"


@register.filter
def num(value: int | Decimal | float | None) -> str:
    return "—" if value is None else sentences.number(value)
