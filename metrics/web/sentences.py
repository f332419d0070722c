"""The dashboard's words: criteria as sentences with the gap in the seller's units (SPEC §8).

"80 more completed orders, or ₩18,000,000 more revenue (either one)", never
``completed_orders >= 100``. Everything here is display: pass/fail and what is missing come from
``metrics.engine.grading`` (through the stored results); this module only says them, in the
active language (Django i18n), with numbers, money and dates formatted for that language.

Gaps are computed on the exact values (the stored fractions), rounded *up* to the unit shown,
so a failing criterion never reads "0 more": 89.995 % against 90 % is "0.01 percentage points".
The API never goes through here: metric and level names are translated in the pages only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from metrics.engine.grading import GTE, LTE, TOP_PERCENT, NextLevel, top_percent_allowed_rank
from metrics.engine.periods import Period
from metrics.engine.registry import METRICS, ExactValue, Kind
from metrics.web import next_steps

# Exact metric values by key (stored fractions, Decimal money, int counts), read only here.
Metrics = Mapping[str, ExactValue]

# The level names of the seeded policy (SPEC §5), marked for translation. A policy's own level
# names are data: a name with no translation is shown as it is.
SEEDED_LEVEL_NAMES = (
    gettext_noop("Level 1"),
    gettext_noop("Level 2"),
    gettext_noop("Level 3"),
    gettext_noop("Master"),
)

# Symbol and minor-unit digits of the currencies a marketplace is likely to use; any other ISO
# code is shown after the amount with two decimals ("12.50 SGD").
CURRENCIES: dict[str, tuple[str, int]] = {
    "KRW": ("₩", 0),
    "JPY": ("¥", 0),
    "USD": ("$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
}
DEFAULT_CURRENCY = "KRW"

Number = int | float | Decimal | Fraction


# --- names ---------------------------------------------------------------------------------


def metric_label(key: str) -> str:
    """The metric's name in the active language (its registry label, translated)."""
    return _(METRICS[key].label) if key in METRICS else key


def level_name(name: str | None) -> str:
    """A level's name in the active language; a policy's own names stay as they are."""
    return _(name) if name else ""


# --- numbers, money, dates -----------------------------------------------------------------


def _decimal(value: Number) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def number(value: Number, *, places: int = 2, fixed: bool = False) -> str:
    """A number in the active language's format (the one number formatter of pages, admin and
    emails): at most ``places`` decimals without trailing 0s, or exactly ``places`` when
    ``fixed`` (ratings: "5.00" beside "4.88")."""
    exact = _decimal(value).quantize(Decimal(1).scaleb(-places))
    if fixed:
        decimals = places
    else:
        text = format(exact.normalize(), "f") if exact != exact.to_integral_value() else None
        decimals = len(text.split(".")[1]) if text and "." in text else 0
    return formats.number_format(exact, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def money(value: Number, currency: str) -> str:
    """``₩18,000,000`` for KRW (no decimals), ``$12.50`` for USD, ``12.50 SGD`` otherwise."""
    symbol, digits = CURRENCIES.get(currency, ("", 2))
    amount = formats.number_format(
        _decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_CEILING),
        decimal_pos=digits,
        use_l10n=True,
        force_grouping=True,
    )
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def percent(value: Number) -> str:
    return _("%(value)s %%") % {"value": number(value)}


def points(value: Number) -> str:
    return ngettext("%(value)s percentage point", "%(value)s percentage points", _plural(value)) % {
        "value": number(value)
    }


def minutes(value: Number) -> str:
    return ngettext("%(value)s minute", "%(value)s minutes", _plural(value)) % {
        "value": number(value, places=0)
    }


def _plural(value: Number) -> int:
    # ngettext wants an int: 1 is singular, anything else (0.5, 2, 6.25) plural in English.
    return 1 if value == 1 else 2


def date(moment: datetime) -> str:
    """A day in the active language (``Dec. 1, 2026`` / ``2026년 12월 1일``), local time."""
    from django.utils import timezone

    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def moment(when: datetime) -> str:
    """A day and time in the active language, local time, with its zone
    (``Nov. 15, 2026 12:00 KST`` / ``2026년 11월 15일 12:00 KST``): the one format of times."""
    from django.utils import timezone

    local = timezone.localtime(when)
    return f"{formats.date_format(local, 'DATE_FORMAT')} {local:%H:%M} {local.tzname()}"


def month(period: str | Period) -> str:
    """A period as a month in the active language (``October 2026`` / ``2026년 10월``)."""
    p = period if isinstance(period, Period) else Period.parse(period)
    return formats.date_format(p.start.date(), "YEAR_MONTH_FORMAT")


def value(key: str, actual: Number | None, *, currency: str) -> str:
    """A metric's value for display; a null metric is "not enough data yet", never 0."""
    if actual is None:
        return _("not enough data yet")
    kind = METRICS[key].kind
    if kind is Kind.MONEY:
        return money(actual, currency)
    if kind in (Kind.RATE, Kind.PERCENT):
        return percent(actual)
    if kind is Kind.MINUTES:
        return minutes(actual)
    if kind is Kind.DAYS:
        return ngettext("%(value)s day", "%(value)s days", _plural(actual)) % {
            "value": number(actual, places=0)
        }
    if kind is Kind.RANK:
        return _("#%(rank)s") % {"rank": number(actual, places=0)}
    if kind is Kind.RATING:
        return number(actual, fixed=True)
    return number(actual)


# --- raw counts behind a rate ---------------------------------------------------------------


def _part(rate: ExactValue, total: ExactValue) -> int | None:
    """The count behind a percentage of ``total`` (exact: the rate is a stored fraction)."""
    if rate is None or not total:
        return None
    return round(Fraction(rate) * Fraction(total) / 100)


def _counts_response(m: Metrics, hours: int) -> str | None:
    total, done = m.get("inquiries"), m.get("answered_in_time")
    if not total or done is None:
        return None
    return ngettext(
        "answered %(done)s of %(total)s inquiry within %(hours)s h",
        "answered %(done)s of %(total)s inquiries within %(hours)s h",
        int(total),
    ) % {"done": number(done), "total": number(total), "hours": hours}


def _counts_of(
    rate_key: str, total_key: str, template: Callable[[int], str]
) -> Callable[[Metrics, int], str | None]:
    """The counts behind ``rate_key`` (a percentage of ``total_key``), said by ``template``
    (an ``ngettext`` on the total, so the catalogue holds both plural forms)."""

    def say(m: Metrics, hours: int) -> str | None:
        total = m.get(total_key)
        done = _part(m.get(rate_key), total)
        if done is None or not total:
            return None
        return template(int(total)) % {"done": number(done), "total": number(total)}

    return say


def _counts_rating(m: Metrics, hours: int) -> str | None:
    total = m.get("window_review_count")
    if not total:
        return None
    return ngettext("from %(total)s review", "from %(total)s reviews", int(total)) % {
        "total": number(total)
    }


# The counts each rate is made of, said as the seller would count them.
RATE_COUNTS: dict[str, Callable[[Metrics, int], str | None]] = {
    "response_rate": _counts_response,
    "success_rate": _counts_of(
        "success_rate",
        "finished_orders",
        lambda n: ngettext(
            "completed %(done)s of %(total)s finished order",
            "completed %(done)s of %(total)s finished orders",
            n,
        ),
    ),
    "on_time_rate": _counts_of(
        "on_time_rate",
        "delivered_orders",
        lambda n: ngettext(
            "delivered %(done)s of %(total)s order on time",
            "delivered %(done)s of %(total)s orders on time",
            n,
        ),
    ),
    "cancellation_rate": _counts_of(
        "cancellation_rate",
        "finished_orders",
        lambda n: ngettext(
            "%(done)s of %(total)s finished order cancelled",
            "%(done)s of %(total)s finished orders cancelled",
            n,
        ),
    ),
    "seller_cancellation_rate": _counts_of(
        "seller_cancellation_rate",
        "finished_orders",
        lambda n: ngettext(
            "%(done)s of %(total)s finished order cancelled by you",
            "%(done)s of %(total)s finished orders cancelled by you",
            n,
        ),
    ),
    "negative_review_rate": _counts_of(
        "negative_review_rate",
        "window_review_count",
        lambda n: ngettext(
            "%(done)s of %(total)s review rated 1 or 2",
            "%(done)s of %(total)s reviews rated 1 or 2",
            n,
        ),
    ),
    "average_rating": _counts_rating,
}


def rate_counts(key: str, exact: Metrics, *, response_hours: int) -> str | None:
    """ "answered 46 of 50 inquiries within 24 h": the counts behind a rate, None without data."""
    say = RATE_COUNTS.get(key)
    return say(exact, response_hours) if say else None


# --- what is missing, as sentences ------------------------------------------------------------


def _gap(threshold: Decimal, actual: ExactValue, op: str) -> Fraction:
    exact = Fraction(actual) if actual is not None else Fraction(0)
    limit = Fraction(threshold)
    return limit - exact if op == GTE else exact - limit


def _ceil(value: Fraction, places: int) -> Fraction:
    """Rounded up to ``places`` decimals, at least one unit of that place when positive."""
    scale = 10**places
    up = Fraction(math.ceil(value * scale), scale)
    return max(up, Fraction(1, scale)) if value > 0 else up


# "N more <things>" for the count metrics a level usually asks for; others use the generic form.
_MORE: dict[str, Callable[[int], str]] = {
    "completed_orders": lambda n: ngettext(
        "%(count)s more completed order",
        "%(count)s more completed orders",
        n,
    ),
    "review_count": lambda n: ngettext(
        "%(count)s more review",
        "%(count)s more reviews",
        n,
    ),
    "unique_buyers": lambda n: ngettext(
        "%(count)s more buyer",
        "%(count)s more buyers",
        n,
    ),
    "window_completed_orders": lambda n: ngettext(
        "%(count)s more completed order in the window",
        "%(count)s more completed orders in the window",
        n,
    ),
    "window_review_count": lambda n: ngettext(
        "%(count)s more review in the window",
        "%(count)s more reviews in the window",
        n,
    ),
    "tenure_days": lambda n: ngettext(
        "%(count)s more day on the marketplace",
        "%(count)s more days on the marketplace",
        n,
    ),
}
_MORE_MONEY: dict[str, str] = {
    "revenue": gettext_noop("%(amount)s more revenue"),
    "window_revenue": gettext_noop("%(amount)s more revenue in the window"),
}


def criterion_sentence(
    *, metric: str, op: str, threshold: Decimal, actual: ExactValue, currency: str, exact: Metrics
) -> str:
    """One failing criterion as what it takes, with the gap in the seller's units."""
    kind = METRICS[metric].kind if metric in METRICS else Kind.COUNT
    label = metric_label(metric)
    needed = value(metric, threshold, currency=currency)
    if metric == TOP_PERCENT and op == LTE:
        return _top_percent_sentence(threshold=threshold, exact=exact)
    if actual is None:
        return _("%(label)s: not enough data yet (%(needed)s needed)") % {
            "label": label,
            "needed": (_("at least %(value)s") if op == GTE else _("at most %(value)s"))
            % {"value": needed},
        }
    gap = _gap(threshold, actual, op)
    have = value(metric, actual, currency=currency)
    if op == GTE and kind in (Kind.COUNT, Kind.DAYS) and metric in _MORE:
        count = math.ceil(gap)
        return _MORE[metric](count) % {"count": number(count)}
    if op == GTE and kind is Kind.MONEY and metric in _MORE_MONEY:
        return _(_MORE_MONEY[metric]) % {"amount": money(gap, currency)}
    if kind in (Kind.RATE, Kind.RATING):
        # A rate's gap is in percentage points, a rating's in stars.
        template = (
            _("%(label)s %(gap)s higher (%(needed)s or more; you have %(have)s)")
            if op == GTE
            else _("%(label)s %(gap)s lower (%(needed)s or less; you have %(have)s)")
        )
        shown_gap = points if kind is Kind.RATE else number
        return template % {
            "label": label,
            "gap": shown_gap(_ceil(gap, 2)),
            "needed": needed,
            "have": have,
        }
    if kind is Kind.MINUTES and op == LTE:
        return _("%(label)s %(gap)s faster (%(needed)s or less; yours is %(have)s)") % {
            "label": label,
            "gap": minutes(math.ceil(gap)),
            "needed": needed,
            "have": have,
        }
    return (
        _("%(label)s: at least %(needed)s (you have %(have)s)")
        if op == GTE
        else _("%(label)s: at most %(needed)s (you have %(have)s)")
    ) % {"label": label, "needed": needed, "have": have}


def _top_percent_sentence(*, threshold: Decimal, exact: Metrics) -> str:
    ranked, rank = exact.get("ranked_sellers"), exact.get("revenue_rank")
    top = number(threshold)
    if not ranked:
        return _("A place in the top %(top)s %% of sellers by revenue (no ranking yet)") % {
            "top": top
        }
    allowed = top_percent_allowed_rank(threshold, int(ranked))
    if rank is None:
        return _(
            "A place in the top %(top)s %% of sellers by revenue: rank %(allowed)s or better "
            "of %(ranked)s (you are not ranked yet)"
        ) % {"top": top, "allowed": number(allowed), "ranked": number(ranked)}
    return _(
        "A place in the top %(top)s %% of sellers by revenue: rank %(allowed)s or better "
        "of %(ranked)s (you are #%(rank)s)"
    ) % {"top": top, "allowed": number(allowed), "ranked": number(ranked), "rank": number(rank)}


# Each rate's action said in the seller's units, for the criterion's natural direction
# (``next_steps.RATE_TOTALS``): the next ``count`` items of its total must all go this way.
_ITEMS: dict[tuple[str, str], Callable[[int], str]] = {
    ("response_rate", GTE): lambda n: ngettext(
        "Answer your next %(count)s inquiry within %(hours)s hours",
        "Answer your next %(count)s inquiries within %(hours)s hours",
        n,
    ),
    ("success_rate", GTE): lambda n: ngettext(
        "Complete your next %(count)s order without a cancellation",
        "Complete your next %(count)s orders without a cancellation",
        n,
    ),
    ("cancellation_rate", LTE): lambda n: ngettext(
        "Complete your next %(count)s order without a cancellation",
        "Complete your next %(count)s orders without a cancellation",
        n,
    ),
    ("seller_cancellation_rate", LTE): lambda n: ngettext(
        "Finish your next %(count)s order without cancelling it yourself",
        "Finish your next %(count)s orders without cancelling any yourself",
        n,
    ),
    ("on_time_rate", GTE): lambda n: ngettext(
        "%(count)s more order delivered on time",
        "%(count)s more orders delivered on time",
        n,
    ),
    ("negative_review_rate", LTE): lambda n: ngettext(
        "%(count)s more review rated 3 stars or better",
        "%(count)s more reviews rated 3 stars or better",
        n,
    ),
    ("order_defect_rate", LTE): lambda n: ngettext(
        "%(count)s more order without a defect",
        "%(count)s more orders without a defect",
        n,
    ),
    ("case_rate", LTE): lambda n: ngettext(
        "%(count)s more order without a case",
        "%(count)s more orders without a case",
        n,
    ),
    ("unresolved_case_rate", LTE): lambda n: ngettext(
        "%(count)s more order without a case decided against you",
        "%(count)s more orders without a case decided against you",
        n,
    ),
    ("late_shipment_rate", LTE): lambda n: ngettext(
        "Ship your next %(count)s order by its ship-by date",
        "Ship your next %(count)s orders by their ship-by date",
        n,
    ),
    ("valid_tracking_rate", GTE): lambda n: ngettext(
        "Give valid tracking for your next %(count)s shipment",
        "Give valid tracking for your next %(count)s shipments",
        n,
    ),
    ("csat_percent", GTE): lambda n: ngettext(
        "%(count)s more satisfied customer (4 or 5 stars)",
        "%(count)s more satisfied customers (4 or 5 stars)",
        n,
    ),
}


def action_sentence(
    *,
    metric: str,
    op: str,
    threshold: Decimal,
    exact: Metrics,
    currency: str,
    response_hours: int,
) -> str | None:
    """The failing criterion as the smallest action in the seller's units (``next_steps``),
    or None when there is no action for it (the gap sentence then says it)."""
    step = next_steps.action(metric=metric, op=op, threshold=threshold, exact=exact)
    if step is None:
        return None
    label = metric_label(metric)
    needed = value(metric, threshold, currency=currency)
    have = value(metric, exact.get(metric), currency=currency)
    if step.kind == "impossible":
        return _(
            "%(label)s cannot reach %(needed)s with new items alone (you have %(have)s): "
            "earlier misses must leave the window first"
        ) % {"label": label, "needed": needed, "have": have}
    if step.kind == "items":
        say = _ITEMS.get((metric, op))
        if say is None:
            return None
        done = say(step.count) % {"count": number(step.count), "hours": response_hours}
    elif step.kind == "five_stars":
        done = ngettext(
            "%(count)s more 5-star review", "%(count)s more 5-star reviews", step.count
        ) % {"count": number(step.count)}
    else:
        return None  # counts and money: the gap sentence is already the action
    template = (
        _("%(action)s (%(label)s: not enough data yet, %(needed)s needed)")
        if exact.get(metric) is None
        else _("%(action)s (%(label)s: %(have)s now, %(needed)s needed)")
    )
    return template % {
        "action": done,
        "label": label,
        "have": have,
        "needed": (_("at least %(value)s") if op == GTE else _("at most %(value)s"))
        % {"value": needed},
    }


@dataclass(frozen=True)
class Requirement:
    """One thing the next level needs: a criterion alone, or an either-or group said as one."""

    sentence: str
    metrics: tuple[str, ...]
    any_of: str = ""
    parts: tuple[str, ...] = field(default=())


def missing_requirements(
    *,
    next_level: NextLevel | None,
    exact: Metrics,
    currency: str,
    response_hours: int = 24,
) -> list[Requirement]:
    """The next level's missing criteria, grouped as grading grouped them
    (``NextLevel.requirements``), each said as an action when there is one, else as the gap
    in the seller's units; an any_of group as one "…, or … (either one)" sentence."""
    if next_level is None:
        return []
    requirements = []
    for label, members in next_level.requirements():
        parts = tuple(
            action_sentence(
                metric=m.metric,
                op=m.op,
                threshold=m.value,
                exact=exact,
                currency=currency,
                response_hours=response_hours,
            )
            or criterion_sentence(
                metric=m.metric,
                op=m.op,
                threshold=m.value,
                actual=exact.get(m.metric) if m.metric in exact else m.actual,
                currency=currency,
                exact=exact,
            )
            for m in members
        )
        if len(parts) == 1:
            sentence = parts[0]
        else:
            joined = _(", or ").join(parts)
            sentence = ngettext(
                "%(choices)s (either one)", "%(choices)s (any one of them)", len(parts) - 1
            ) % {"choices": joined}
        requirements.append(
            Requirement(
                sentence=sentence,
                metrics=tuple(m.metric for m in members),
                any_of=label,
                parts=parts,
            )
        )
    return requirements


def window_phrase(*, window_months: int | None, window_days: int | None) -> str:
    """The rolling window the rates cover, as said to the seller."""
    if window_days:
        return ngettext("the last %(n)s day", "the last %(n)s days", window_days) % {
            "n": window_days
        }
    if not window_months:
        return _("all time")
    return ngettext("the last %(n)s month", "the last %(n)s months", window_months) % {
        "n": window_months
    }


def grace_explained(
    *, level: str, computed_level: str | None, period: str, grace_used: int, grace_months: int
) -> tuple[str, str]:
    """At risk: why the level is kept, and the date a demotion would take effect.

    With N grace evaluations and ``grace_used`` spent, the level is kept through the next
    N - used failing evaluations; the one after demotes, effective from its period's cutoff.
    """
    remaining = max(0, grace_months - grace_used)
    demotion_period = Period.parse(period).shifted(remaining + 1)
    kept = ngettext(
        "Your metrics are below %(level)s's criteria, but you keep %(level)s thanks to the grace "
        "period (%(used)s of %(months)s failing evaluation used).",
        "Your metrics are below %(level)s's criteria, but you keep %(level)s thanks to the grace "
        "period (%(used)s of %(months)s failing evaluations used).",
        grace_months,
    ) % {"level": level_name(level), "used": grace_used, "months": grace_months}
    target = level_name(computed_level) if computed_level else _("no level")
    when = _(
        "If they are still below at the evaluation of %(month)s, you move to %(target)s from "
        "%(date)s."
    ) % {"month": month(demotion_period), "target": target, "date": date(demotion_period.cutoff)}
    return kept, when


def progress(op: str, threshold: Number, actual: Number | None) -> int:
    """How far ``actual`` is towards passing ``op threshold``, 0–100 (a progress bar only)."""
    if actual is None:
        return 0
    t, a = Fraction(_decimal(threshold)), Fraction(_decimal(actual))
    if op == GTE:
        if a >= t:
            return 100
        return 100 if t <= 0 else int(max(Fraction(0), a) * 100 / t)
    if a <= t:
        return 100
    return int(t * 100 / a) if a else 100


def leaving_sentences(leaving: Any) -> list[str]:
    """ "3 late replies from August 2026 drop out on December 1, 2026": the misses that leave
    the window at the next evaluation (``selectors.Leaving``), one sentence each kind."""
    if leaving is None or not leaving.any:
        return []
    first = Period.containing(leaving.start)
    if first.start == leaving.start and first.cutoff == leaving.until:
        when = _("from %(month)s") % {"month": month(first)}
    else:
        when = _("from before %(date)s") % {"date": date(leaving.until)}
    on = date(leaving.drops_on)
    said = []
    kinds: list[tuple[int, Callable[[int], str]]] = [
        (
            leaving.late_replies,
            lambda n: ngettext(
                "%(count)s late or missed reply %(when)s drops out on %(date)s",
                "%(count)s late or missed replies %(when)s drop out on %(date)s",
                n,
            ),
        ),
        (
            leaving.late_deliveries,
            lambda n: ngettext(
                "%(count)s late delivery %(when)s drops out on %(date)s",
                "%(count)s late deliveries %(when)s drop out on %(date)s",
                n,
            ),
        ),
        (
            leaving.cancelled_orders,
            lambda n: ngettext(
                "%(count)s cancelled order %(when)s drops out on %(date)s",
                "%(count)s cancelled orders %(when)s drop out on %(date)s",
                n,
            ),
        ),
        (
            leaving.negative_reviews,
            lambda n: ngettext(
                "%(count)s review rated 1 or 2 %(when)s drops out on %(date)s",
                "%(count)s reviews rated 1 or 2 %(when)s drop out on %(date)s",
                n,
            ),
        ),
    ]
    for count, say in kinds:
        if count:
            said.append(say(count) % {"count": number(count), "when": when, "date": on})
    return said


def rule_sentence(*, metric: str, op: str, threshold: Decimal, currency: str) -> str:
    """A criterion as a rule ("Average rating at least 4.7"), never ``average_rating >= 4.7``."""
    if metric == TOP_PERCENT and op == LTE:
        return _("In the top %(top)s %% of sellers by revenue") % {"top": number(threshold)}
    needed = value(metric, threshold, currency=currency)
    template = _("%(label)s at least %(value)s") if op == GTE else _("%(label)s at most %(value)s")
    return template % {"label": metric_label(metric), "value": needed}


def level_rules(level: Any, *, currency: str) -> list[str]:
    """Every requirement of a ``LevelSpec`` as a sentence; an any_of group as one "…, or …"."""
    groups: list[tuple[str, list[str]]] = []
    by_label: dict[str, list[str]] = {}
    for c in level.criteria:
        said = rule_sentence(metric=c.metric, op=c.op, threshold=c.value, currency=currency)
        if getattr(c, "own_window", None):  # a criterion's own window (SPEC §5)
            said = _("%(rule)s, over the last %(days)s days") % {"rule": said, "days": c.own_window}
        if c.any_of and c.any_of in by_label:
            by_label[c.any_of].append(said)
            continue
        members = [said]
        if c.any_of:
            by_label[c.any_of] = members
        groups.append((c.any_of, members))
    out = []
    for _label, members in groups:
        if len(members) == 1:
            out.append(members[0])
        else:
            out.append(
                ngettext(
                    "%(choices)s (either one)", "%(choices)s (any one of them)", len(members) - 1
                )
                % {"choices": _(", or ").join(members)}
            )
    return out


# The unit a threshold of each kind is written in, for the admin's metric choices.
UNITS: dict[Kind, str] = {
    Kind.COUNT: gettext_noop("count"),
    Kind.MONEY: gettext_noop("amount"),
    Kind.RANK: gettext_noop("rank, 1 = best"),
    Kind.DAYS: gettext_noop("days"),
    Kind.RATE: gettext_noop("%"),
    Kind.RATING: gettext_noop("stars, 1–5"),
    Kind.PERCENT: gettext_noop("top %"),
    Kind.MINUTES: gettext_noop("minutes"),
    Kind.NPS: gettext_noop("NPS, −100–100"),
    Kind.HOURS: gettext_noop("hours"),
}


def metric_choice_label(key: str) -> str:
    """ "Response rate (%)": a metric's name and its threshold's unit in the active language."""
    info = METRICS[key]
    unit = UNITS.get(info.kind)
    return f"{metric_label(key)} ({_(unit)})" if unit else metric_label(key)
