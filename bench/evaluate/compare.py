"""Check the engine's stored metrics against the floor's, exactly, metric by metric.

The engine stores ``metrics_sellerevaluation.metrics`` as JSON (SPEC §4 keys): ints for counts,
money as a decimal string ("123.45"), every derived value as a fraction string ("num/den",
always with a slash, "95/1" too), null. A value that is numerically right in the wrong form
(a float, a rate without a slash, a count as a string) is reported as a format mismatch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from .floor import FRACTION_KEYS, INT_KEYS, METRIC_KEYS, MONEY_KEYS, ExactValue, Metrics


@dataclass
class Comparison:
    sellers: int = 0
    missing: list[int] = field(default_factory=list)  # sellers the engine did not store
    extra: list[int] = field(default_factory=list)  # stored for sellers the floor has not
    mismatches: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatches or self.formats)

    def problems(self) -> int:
        return (
            len(self.missing)
            + len(self.extra)
            + sum(self.mismatches.values())
            + sum(self.formats.values())
        )


def parse(key: str, raw: Any) -> tuple[ExactValue | Fraction, bool]:
    """(exact value, well-formed?) of one stored metric."""
    if raw is None:
        return None, True
    if isinstance(raw, bool):
        return Fraction(int(raw)), False
    if isinstance(raw, int):
        return raw, key in INT_KEYS
    if isinstance(raw, float):
        return Fraction(raw), False
    if isinstance(raw, str):
        if "/" in raw:
            try:
                return Fraction(raw), key in FRACTION_KEYS
            except ValueError:
                return None, False
        try:
            return Decimal(raw), key in MONEY_KEYS
        except InvalidOperation:
            return None, False
    return None, False


def same(a: ExactValue | Fraction, b: ExactValue | Fraction) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Fraction(a) == Fraction(b)


def show(value: Any) -> str:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator} (≈{float(value):.4f})"
    return repr(value) if isinstance(value, str) else str(value)


def compare(
    *,
    floor: dict[int, Metrics],
    stored: dict[int, dict[str, Any]],
    names: dict[int, str],
    examples: int = 3,
) -> Comparison:
    result = Comparison(sellers=len(floor))
    result.missing = sorted(set(floor) - set(stored))
    result.extra = sorted(set(stored) - set(floor))
    for seller_id in sorted(set(floor) & set(stored)):
        expected, metrics = floor[seller_id], stored[seller_id] or {}
        for key in METRIC_KEYS:
            if key not in metrics:
                actual: Any = "<missing key>"
                value: ExactValue | Fraction = None
                well_formed = False
            else:
                actual = metrics[key]
                value, well_formed = parse(key, actual)
            if not same(expected[key], value) or actual == "<missing key>":
                result.mismatches[key] += 1
                kind = "value"
            elif not well_formed:
                result.formats[key] += 1
                kind = "format"
            else:
                continue
            bucket = result.examples.setdefault(f"{kind}:{key}", [])
            if len(bucket) < examples:
                bucket.append(
                    f"{names.get(seller_id, seller_id)}: floor {show(expected[key])}, "
                    f"engine {show(actual)}"
                )
    return result


def report(result: Comparison, *, label: str) -> list[str]:
    lines = [
        f"check {label}: {result.sellers:,} sellers x {len(METRIC_KEYS)} metrics: "
        + ("all equal" if result.ok else f"{result.problems():,} problems")
    ]
    if result.missing:
        lines.append(f"  {len(result.missing):,} sellers without a stored evaluation")
    if result.extra:
        lines.append(f"  {len(result.extra):,} stored evaluations of unknown sellers")
    for key in METRIC_KEYS:
        for kind, counter in (("value", result.mismatches), ("format", result.formats)):
            if counter[key]:
                lines.append(f"  {key:<31} {counter[key]:>7,} {kind} mismatches, e.g.")
                lines += [f"      {e}" for e in result.examples.get(f"{kind}:{key}", [])]
    return lines


def stored_own(cursor: Any, period: str) -> dict[int, dict[str, Any]]:
    """{seller id: {"metric@days": stored actual}} of the criteria graded over their own window
    (``metrics_sellerevaluation.criteria``: one item per criterion, with window_days)."""
    cursor.execute(
        "SELECT seller_id, criteria FROM metrics_sellerevaluation WHERE period = %s", [period]
    )
    return {
        int(seller_id): {
            f"{item['metric']}@{item['window_days']}": item.get("actual")
            for item in criteria or []
            if item.get("window_days") is not None
        }
        for seller_id, criteria in cursor.fetchall()
    }


def compare_own(
    *, floor: dict[int, dict[str, Any]], stored: dict[int, dict[str, Any]]
) -> list[str]:
    """The criterion-window values that differ (or are missing), as report lines."""
    problems = []
    for seller_id, expected in sorted(floor.items()):
        for key, value in expected.items():
            got = stored.get(seller_id, {})
            if key not in got:
                problems.append(f"  seller {seller_id}: {key} not stored")
                continue
            actual, _ = parse(key.split("@")[0], got[key])
            if not same(value, actual):
                problems.append(
                    f"  seller {seller_id}: {key} floor {show(value)}, engine {got[key]}"
                )
    return problems


def stored_metrics(cursor: Any, period: str) -> dict[int, dict[str, Any]]:
    cursor.execute(
        "SELECT seller_id, metrics FROM metrics_sellerevaluation WHERE period = %s", [period]
    )
    return {int(seller_id): metrics for seller_id, metrics in cursor.fetchall()}
