"""The one grading function (SPEC §5): (metrics, policy) → level, criteria results, what is missing.

Pure: no database, no clock. The monthly run, the live preview, the admin "preview impact" and
the dashboard's "what is missing" all call ``grade``; nothing else decides a level.

Exactness (SPEC §4): every comparison is made on exact rationals. A metric arrives as ``int``,
``Decimal`` or ``Fraction`` (see metrics/engine/registry.py) and a threshold as ``Decimal``;
they are compared exactly (as ``Fraction``, or Decimal with Decimal for money), so 89.996 %
never passes ``>= 90`` and 4.7 exactly passes ``>= 4.7``. Floats never enter a decision.

Per-criterion windows (SPEC §5): a criterion may carry its own ``window_days``; its window metric
is then read from ``windows[window_days]`` (the same metrics computed over the N days before the
cutoff, by ``metrics.engine.windows``), never from the policy-window ``metrics``. Cumulative
metrics ignore it. The caller computes each distinct window once (``PolicySnapshot.extra_windows``).

The success score (SPEC §5 ``score``): ``success_score`` is derived from the policy-window values
and the policy's ``score`` parts (``success_score`` / ``score_parts``), exactly, as a Fraction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any, cast

from metrics.engine.registry import METRICS, ExactValue, Metrics, display_value

GTE = ">="
LTE = "<="
OPS = (GTE, LTE)
TOP_PERCENT = "revenue_top_percent"
SUCCESS_SCORE = "success_score"


@dataclass(frozen=True)
class CriterionSpec:
    metric: str  # a key of metrics.engine.registry.METRICS
    op: str  # ">=" or "<="
    value: Decimal
    any_of: str = ""  # "" = no group
    window_days: int | None = None  # its own window (SPEC §5); None = the policy window

    @cached_property
    def own_window(self) -> int | None:
        """The window this criterion's metric is read over, when not the policy's: its
        ``window_days`` on a window metric (cumulative metrics ignore it)."""
        if self.window_days is None:
            return None
        info = METRICS.get(self.metric)
        return self.window_days if info is not None and info.window and not info.derived else None

    @cached_property
    def limit(self) -> Fraction:
        """The threshold as a Fraction, what counts and rates are compared with (exactly)."""
        return Fraction(self.value)


@dataclass(frozen=True)
class ScorePart:
    """One part of the policy's score (SPEC §5): ``metric`` maps linearly to 0 at ``zero`` and
    1 at ``full`` (clamped to 0–1), weighted by ``weight``."""

    metric: str
    weight: Decimal
    zero: Decimal
    full: Decimal


@dataclass(frozen=True)
class LevelSpec:
    name: str
    rank: int  # higher = better
    criteria: tuple[CriterionSpec, ...] = ()


# A move's rank of no level, and of a level the policy no longer has (it confers nothing under
# this policy): below every level (ranks are positive).
NO_RANK = -1

UP, DOWN, SAME = "up", "down", "same"


@dataclass(frozen=True)
class PolicySnapshot:
    """The rules a grade is computed under, detached from the database (stored with each run)."""

    levels: tuple[LevelSpec, ...]
    window_months: int | None = 3
    window_days: int | None = None
    response_window_hours: int = 24
    demotion_grace_months: int = 0
    score: tuple[ScorePart, ...] = ()

    @cached_property
    def extra_windows(self) -> tuple[int, ...]:
        """The distinct per-criterion windows (days) a grade needs besides the policy window,
        ascending: each is computed once per run or preview, however many criteria use it.
        A criterion window equal to the policy's own ``window_days`` is the policy window."""
        own = {c.own_window for level in self.levels for c in level.criteria if c.own_window}
        own.discard(self.window_days)
        return tuple(sorted(w for w in own if w is not None))

    def own_window_metrics(self, days: int) -> frozenset[str]:
        """The metrics of the criteria read over ``days`` of their own (an extra window)."""
        return frozenset(
            c.metric for level in self.levels for c in level.criteria if c.own_window == days
        )

    @cached_property
    def ranks(self) -> dict[str, int]:
        """{level name: rank}: the one map from a level to its rank."""
        return {level.name: level.rank for level in self.levels}

    @cached_property
    def criterion_json_heads(self) -> tuple[tuple[str, str], ...]:
        """For each criterion in the order ``grade`` returns them: its metric and the JSON text
        of the graded criterion (``criterion_to_json``) up to its actual, which
        ``criteria_json_text`` completes per seller."""
        heads = []
        for level in sorted(self.levels, key=lambda lvl: lvl.rank):
            for c in level.criteria:
                shape = criterion_to_json(
                    CriterionResult(
                        level.name, c.metric, c.op, c.value, c.any_of, None, False, c.own_window
                    )  # fmt: skip
                )
                del shape["actual"], shape["passed"]
                heads.append((c.metric, json.dumps(shape)[:-1] + ', "actual": '))
        return tuple(heads)

    def rank_of(self, level: str | None) -> int | None:
        return None if level is None else self.ranks.get(level)

    def move_rank(self, level: str | None) -> int:
        """A level's rank for a move: its rank, or ``NO_RANK`` for no level and for a level
        this policy no longer has."""
        rank = self.rank_of(level)
        return NO_RANK if rank is None else rank

    def move(self, before: str | None, after: str | None) -> str:
        """The direction of a move from ``before`` to ``after`` under this policy: ``"up"``,
        ``"down"`` or ``"same"``: the one rule (run logs, emails, the policy preview, the staff
        overview). No level, and a held level that has left the policy, rank below every level:
        so reaching any level from one is up, and losing one for no level is no move."""
        old, new = self.move_rank(before), self.move_rank(after)
        return UP if new > old else DOWN if new < old else SAME

    def to_data(self, *, value: Callable[[Decimal], Any] = lambda v: v) -> dict[str, Any]:
        """The policy's one serialised shape (SPEC §7 ``GET /api/v1/policy`` without id and
        name), used by the run snapshot, the API, admin and validation; ``value`` renders each
        threshold (kept as ``Decimal`` by default)."""
        return {
            "window_months": self.window_months,
            "window_days": self.window_days,
            "response_window_hours": self.response_window_hours,
            "demotion_grace_months": self.demotion_grace_months,
            "levels": [
                {
                    "name": level.name,
                    "rank": level.rank,
                    "criteria": [criterion_data(c, value=value) for c in level.criteria],
                }
                for level in self.levels
            ],
            "score": [
                {
                    "metric": part.metric,
                    "weight": value(part.weight),
                    "zero": value(part.zero),
                    "full": value(part.full),
                }
                for part in self.score
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (a run's stored snapshot); thresholds as exact decimal strings."""
        return self.to_data(value=_decimal_to_str)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicySnapshot:
        """Inverse of ``to_json``; also accepts thresholds given as JSON numbers."""
        levels = tuple(
            LevelSpec(
                name=str(level["name"]),
                rank=int(level["rank"]),
                criteria=tuple(
                    CriterionSpec(
                        metric=str(c["metric"]),
                        op=str(c["op"]),
                        value=_to_decimal(c["value"]),
                        any_of=str(c.get("any_of") or ""),
                        window_days=_optional_int(c.get("window_days")),
                    )
                    for c in level.get("criteria") or ()
                ),
            )
            for level in data.get("levels") or ()
        )
        return cls(
            levels=levels,
            window_months=_optional_int(data.get("window_months", 3)),
            window_days=_optional_int(data.get("window_days")),
            response_window_hours=int(data.get("response_window_hours", 24)),
            demotion_grace_months=int(data.get("demotion_grace_months", 0) or 0),
            score=tuple(
                ScorePart(
                    metric=str(part["metric"]),
                    weight=_to_decimal(part["weight"]),
                    zero=_to_decimal(part["zero"]),
                    full=_to_decimal(part["full"]),
                )
                for part in data.get("score") or ()
            ),
        )


@dataclass(frozen=True)
class CriterionResult:
    level: str
    metric: str
    op: str
    value: Decimal
    any_of: str
    actual: ExactValue  # over the criterion's own window when it has one
    passed: bool
    window_days: int | None = None  # the window used, when not the policy's (SPEC §5)


@dataclass(frozen=True)
class Missing:
    """A criterion of the next level that holds the seller back, with its any_of label: the
    members of one failing any_of group are consecutive and share the label ("" = alone)."""

    metric: str
    op: str
    value: Decimal
    actual: ExactValue
    any_of: str = ""


@dataclass(frozen=True)
class NextLevel:
    level: str
    missing: tuple[Missing, ...]

    def requirements(self) -> list[tuple[str, tuple[Missing, ...]]]:
        """What must change, as grading groups it: each ungrouped criterion alone, each
        failing any_of group as one entry (any one of its members passing would do)."""
        groups: list[tuple[str, list[Missing]]] = []
        by_label: dict[str, list[Missing]] = {}
        for item in self.missing:
            if item.any_of and item.any_of in by_label:
                by_label[item.any_of].append(item)
                continue
            members = [item]
            if item.any_of:
                by_label[item.any_of] = members
            groups.append((item.any_of, members))
        return [(label, tuple(members)) for label, members in groups]

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> NextLevel | None:
        """Inverse of ``result_to_json``'s ``next_level`` (a stored evaluation's)."""
        if not data:
            return None
        return cls(
            level=str(data["level"]),
            missing=tuple(
                Missing(
                    metric=str(m["metric"]),
                    op=str(m["op"]),
                    value=_to_decimal(m["value"]),
                    actual=exact_from_json(m.get("actual")),
                    any_of=str(m.get("any_of") or ""),
                )
                for m in data.get("missing") or ()
            ),
        )


@dataclass(frozen=True)
class GradeResult:
    level: str | None  # final level, after grace
    computed_level: str | None  # from the criteria alone (ladder)
    at_risk: bool  # True when the held level is kept by grace
    grace_used: int  # consecutive failing evaluations spent keeping the held level
    criteria: tuple[CriterionResult, ...]  # every criterion of every level, levels by rank asc
    next_level: NextLevel | None  # the level above `level` (lowest if level is None); None at top


def grade(
    metrics: Metrics,
    policy: PolicySnapshot,
    *,
    held_level: str | None = None,
    grace_used: int = 0,
    windows: Mapping[int, Metrics] | None = None,
) -> GradeResult:
    """Grade one seller's exact metrics under ``policy`` (SPEC §5: ladder, any_of, grace).

    ``metrics`` are the policy-window values; ``windows`` maps each of
    ``policy.extra_windows`` to the seller's metrics over that many days before the cutoff
    (a criterion with its own ``window_days`` reads its actual there; a window left out gives a
    null actual, which fails). ``success_score`` is derived here from ``metrics`` and
    ``policy.score`` (whatever ``metrics`` holds under that key). ``held_level`` /
    ``grace_used`` are the final level and grace count of the seller's evaluation for the
    latest earlier period (``None`` / 0 when there is none).
    """
    metrics = with_score(metrics, policy)
    levels = sorted(policy.levels, key=lambda lvl: lvl.rank)
    results: list[CriterionResult] = []
    level_results: dict[str, tuple[CriterionResult, ...]] = {}
    for level in levels:
        own = tuple(
            _evaluate(level.name, c, _metrics_for(c, metrics, policy, windows))
            for c in level.criteria
        )
        level_results[level.name] = own
        results.extend(own)

    # Ladder: climb while every level so far passes; the first failure stops the climb.
    computed: LevelSpec | None = None
    for level in levels:
        if not _level_passes(level_results[level.name]):
            break
        computed = level

    rank_of = policy.ranks
    final: str | None = computed.name if computed else None
    at_risk = False
    used = 0
    grace_months = policy.demotion_grace_months or 0
    if grace_months > 0 and held_level is not None and held_level in rank_of:
        computed_rank = computed.rank if computed else None
        below_held = computed_rank is None or computed_rank < rank_of[held_level]
        if below_held and grace_used < grace_months:
            final, at_risk, used = held_level, True, grace_used + 1

    return GradeResult(
        level=final,
        computed_level=computed.name if computed else None,
        at_risk=at_risk,
        grace_used=used,
        criteria=tuple(results),
        next_level=_next_level(levels, final, level_results),
    )


def _metrics_for(
    spec: CriterionSpec,
    metrics: Metrics,
    policy: PolicySnapshot,
    windows: Mapping[int, Metrics] | None,
) -> Metrics:
    """The metrics a criterion is decided on: its own window's, or the policy window's."""
    own = spec.own_window
    if own is None or own == policy.window_days:
        return metrics
    return (windows or {}).get(own) or {}


def _evaluate(level: str, spec: CriterionSpec, metrics: Metrics) -> CriterionResult:
    actual = metrics.get(spec.metric)
    if spec.metric == TOP_PERCENT:
        passed = _top_percent_passes(spec, metrics)
        if actual is None:
            actual = _top_percent(metrics)
    else:
        passed = _passes(actual, spec)
    return CriterionResult(
        level=level,
        metric=spec.metric,
        op=spec.op,
        value=spec.value,
        any_of=spec.any_of,
        actual=actual,
        passed=passed,
        window_days=spec.own_window,
    )


# --- the success score (SPEC §5 ``score``) -------------------------------------------------


@dataclass(frozen=True)
class ScoreContribution:
    """What one part of the score gives (for the dashboard's "response rate adds 27 of 30
    points"): ``points`` = its share of the 100 points (weight / Σ weight of the parts that
    count × 100), ``earned`` = points × its clamped part; both exact. A part whose metric is
    null counts in neither (``counted`` False, points and earned 0)."""

    metric: str
    weight: Decimal
    actual: ExactValue
    part: Fraction | None  # clamp((actual − zero) / (full − zero), 0, 1); None when null
    points: Fraction
    earned: Fraction

    @property
    def counted(self) -> bool:
        return self.part is not None


def _part(actual: ExactValue, spec: ScorePart) -> Fraction | None:
    if actual is None or isinstance(actual, bool):
        return None
    zero, full = Fraction(spec.zero), Fraction(spec.full)
    raw = (Fraction(actual) - zero) / (full - zero)
    return min(max(raw, Fraction(0)), Fraction(1))


def score_parts(
    metrics: Mapping[str, ExactValue], policy: PolicySnapshot
) -> tuple[ScoreContribution, ...]:
    """Each part of the policy's score with its exact contribution, in the policy's order
    (pure; the one place the score is computed: ``success_score`` sums these)."""
    parts = [
        (spec, metrics.get(spec.metric), _part(metrics.get(spec.metric), spec))
        for spec in policy.score
    ]
    total = sum((Fraction(spec.weight) for spec, _, part in parts if part is not None), Fraction(0))
    contributions = []
    for spec, actual, part in parts:
        points = Fraction(0) if part is None or not total else 100 * Fraction(spec.weight) / total
        earned = Fraction(0) if part is None else points * part
        contributions.append(
            ScoreContribution(
                metric=spec.metric,
                weight=spec.weight,
                actual=actual,
                part=part,
                points=points,
                earned=earned,
            )
        )
    return tuple(contributions)


def success_score(metrics: Mapping[str, ExactValue], policy: PolicySnapshot) -> Fraction | None:
    """SPEC §5: 100 × Σ weight × part / Σ weight over the parts whose metric is not null,
    exactly; None when the policy has no score or every part is null."""
    contributions = score_parts(metrics, policy)
    if not any(c.counted for c in contributions):
        return None
    return sum((c.earned for c in contributions), Fraction(0))


def with_score(metrics: Mapping[str, ExactValue], policy: PolicySnapshot) -> Metrics:
    """``metrics`` with ``success_score`` set from the policy's score (the policy-window values);
    the metrics a run stores and grades."""
    return {**metrics, SUCCESS_SCORE: success_score(metrics, policy)}


def _passes(actual: ExactValue, spec: CriterionSpec) -> bool:
    """Exact comparison of ``actual`` with the criterion's threshold; a null metric fails every
    criterion.

    Money (Decimal) is compared with the Decimal threshold; counts (int) and rates (Fraction)
    with the threshold as a Fraction, kept on the criterion (``CriterionSpec.limit``: a run
    decides ~11 criteria a seller): exact either way, without converting every value.
    """
    if actual is None or isinstance(actual, bool):
        return False
    exact: Decimal | Fraction | int = actual
    limit: Decimal | Fraction = spec.value if isinstance(actual, Decimal) else spec.limit
    if spec.op == GTE:
        return exact >= limit
    if spec.op == LTE:
        return exact <= limit
    return False


def _top_percent(metrics: Metrics) -> Fraction | None:
    rank, ranked = metrics.get("revenue_rank"), metrics.get("ranked_sellers")
    if rank is None or not ranked:
        return None
    return Fraction(100 * Fraction(rank), Fraction(ranked))


def _top_percent_passes(spec: CriterionSpec, metrics: Metrics) -> bool:
    """``<= p`` passes when revenue_rank ≤ ceil(p/100 × ranked_sellers) (SPEC §5).

    So "top 1 %" of 50 sellers is the best one, and sellers sharing a rank share the result.
    ``>=`` compares 100 × rank / ranked_sellers exactly. Without rank data (the keys absent),
    the ``revenue_top_percent`` value itself is compared exactly.
    """
    if "revenue_rank" not in metrics and "ranked_sellers" not in metrics:
        return _passes(metrics.get(TOP_PERCENT), spec)
    rank, ranked = metrics.get("revenue_rank"), metrics.get("ranked_sellers")
    if rank is None or not ranked:
        return False
    if spec.op == LTE:
        return Fraction(rank) <= top_percent_allowed_rank(spec.value, int(ranked))
    return _passes(_top_percent(metrics), spec)


@lru_cache(maxsize=256)  # one (threshold, ranked sellers) pair a run: every seller asks it
def top_percent_allowed_rank(top_percent: Decimal, ranked_sellers: int) -> int:
    """The worst revenue rank that is still in the top ``top_percent`` % (SPEC §5): the one
    rule both grading and the dashboard's sentence use."""
    return math.ceil(Fraction(top_percent) / 100 * Fraction(ranked_sellers))


def _groups(results: tuple[CriterionResult, ...]) -> list[tuple[str, list[CriterionResult]]]:
    """Criteria as they must hold: each ungrouped one alone, each any_of label as one group."""
    groups: list[tuple[str, list[CriterionResult]]] = []
    by_label: dict[str, list[CriterionResult]] = {}
    for result in results:
        if result.any_of:
            if result.any_of not in by_label:
                by_label[result.any_of] = []
                groups.append((result.any_of, by_label[result.any_of]))
            by_label[result.any_of].append(result)
        else:
            groups.append(("", [result]))
    return groups


def _level_passes(results: tuple[CriterionResult, ...]) -> bool:
    """All groups hold; a level with no criteria always passes."""
    return all(any(r.passed for r in members) for _, members in _groups(results))


def _next_level(
    levels: list[LevelSpec],
    final: str | None,
    level_results: Mapping[str, tuple[CriterionResult, ...]],
) -> NextLevel | None:
    if not levels:
        return None
    if final is None:
        target = levels[0]
    else:
        index = next(i for i, level in enumerate(levels) if level.name == final)
        if index + 1 >= len(levels):
            return None
        target = levels[index + 1]
    missing = tuple(
        Missing(metric=r.metric, op=r.op, value=r.value, actual=r.actual, any_of=r.any_of)
        for _, members in _groups(level_results[target.name])
        if not any(r.passed for r in members)
        for r in members
    )
    return NextLevel(level=target.name, missing=missing)


# --- JSON-safe exact values (stored in SellerEvaluation and EvaluationRun.policy_snapshot) ---


def exact_to_json(value: ExactValue) -> int | str | None:
    """int → int, Decimal → "123.45", Fraction → "num/den" (always with a slash), None → None."""
    kind = type(value)  # the exact types first: a run converts ~40 values a seller
    if kind is int:
        return cast(int, value)
    if kind is Fraction:
        fraction = cast(Fraction, value)
        return f"{fraction.numerator}/{fraction.denominator}"
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a metric value cannot be a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return _decimal_to_str(value)
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    raise TypeError(f"not an exact metric value: {value!r}")


class JsonText(str):
    """JSON already encoded (``metrics_json_text``, ``criteria_json_text``): written as is."""


def exact_json_text(value: ExactValue) -> str:
    """``json.dumps(exact_to_json(value))``, the exact types first (a run writes ~55 a seller)."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is Fraction:
        fraction = cast(Fraction, value)
        return f'"{fraction.numerator}/{fraction.denominator}"'
    if value is None:
        return "null"
    return json.dumps(exact_to_json(value))


@lru_cache(maxsize=512)
def _json_key(key: str) -> str:
    return json.dumps(key)


def metrics_json_text(metrics: Mapping[str, ExactValue]) -> JsonText:
    """``json.dumps({key: exact_to_json(value)})`` of a seller's metrics, written directly."""
    return JsonText(
        "{" + ", ".join(f"{_json_key(k)}: {exact_json_text(v)}" for k, v in metrics.items()) + "}"
    )


def criteria_json_text(result: GradeResult, policy: PolicySnapshot) -> JsonText:
    """``json.dumps`` of ``result_to_json(result)["criteria"]`` for a result ``grade`` gave under
    ``policy``: each criterion's fixed part is encoded once per policy
    (``PolicySnapshot.criterion_json_heads``), only its actual and verdict per seller."""
    heads = policy.criterion_json_heads
    criteria = result.criteria
    if len(heads) != len(criteria) or any(
        c.metric != metric for (metric, _), c in zip(heads, criteria, strict=True)
    ):  # not graded under this policy: the slow way, same JSON
        return JsonText(json.dumps([criterion_to_json(c) for c in criteria]))
    return JsonText(
        "["
        + ", ".join(
            f'{head}{exact_json_text(c.actual)}, "passed": {"true" if c.passed else "false"}}}'
            for (_, head), c in zip(heads, criteria, strict=True)
        )
        + "]"
    )


def next_level_to_json(next_level: NextLevel | None) -> dict[str, Any] | None:
    """A NextLevel as stored (``result_to_json``'s ``next_level``)."""
    if next_level is None:
        return None
    return {
        "level": next_level.level,
        "missing": [
            {
                "metric": m.metric,
                "op": m.op,
                "value": _decimal_to_str(m.value),
                "actual": exact_to_json(m.actual),
                "any_of": m.any_of,
            }
            for m in next_level.missing
        ],
    }


def exact_from_json(value: Any) -> ExactValue:
    """Inverse of ``exact_to_json``: "n/d" → Fraction, "12.5" → Decimal, int → int."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a metric value cannot be a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if "/" in value:
            return Fraction(value)
        return _to_decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"not a stored exact metric value: {value!r}")


def stored_windows(criteria: Any) -> dict[int, Metrics]:
    """The per-criterion window actuals of stored criteria results (``result_to_json``):
    {window_days: {metric: actual}}, what ``grade`` takes as ``windows`` to grade them again."""
    windows: dict[int, Metrics] = {}
    for item in criteria if isinstance(criteria, list) else ():
        days = item.get("window_days") if isinstance(item, Mapping) else None
        if days:
            windows.setdefault(int(days), {})[str(item["metric"])] = exact_from_json(
                item.get("actual")
            )
    return windows


def result_to_json(result: GradeResult) -> dict[str, Any]:
    """A GradeResult as JSON-safe dicts: thresholds as decimal strings, actuals exact."""
    return {
        "level": result.level,
        "computed_level": result.computed_level,
        "at_risk": result.at_risk,
        "grace_used": result.grace_used,
        "criteria": [criterion_to_json(c) for c in result.criteria],
        "next_level": next_level_to_json(result.next_level),
    }


# --- the criterion's one shape ------------------------------------------------------------
# A policy's criterion is {metric, op, value, any_of}; a graded one adds its level in front and
# its actual value and verdict after. The builders below are the only places that write it:
# the policy (snapshot, API, admin), the stored result, and what the API and webhooks show.


def criterion_data(criterion: Any, *, value: Callable[[Decimal], Any] = lambda v: v) -> dict:
    """A policy's criterion (a ``CriterionSpec``, a ``Criterion`` row, anything with its
    attributes) in the policy's shape; ``value`` renders the threshold. ``window_days`` is its
    own window (SPEC §5; None = the policy window): for a graded criterion, the window used."""
    return {
        "metric": criterion.metric,
        "op": criterion.op,
        "value": value(criterion.value),
        "any_of": criterion.any_of,
        "window_days": getattr(criterion, "window_days", None),
    }


def criterion_to_json(criterion: CriterionResult) -> dict[str, Any]:
    """A graded criterion as stored (``SellerEvaluation.criteria``): the threshold as a decimal
    string, the actual exact."""
    return {
        "level": criterion.level,
        **criterion_data(criterion, value=_decimal_to_str),
        "actual": exact_to_json(criterion.actual),
        "passed": criterion.passed,
    }


def json_number(value: Any) -> int | float:
    """A threshold as a JSON number: 15 stays 15, 4.7000 becomes 4.7."""
    exact = Decimal(str(value))
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def criterion_shown(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored graded criterion as the API and the webhooks show it: the threshold as a JSON
    number, the actual rounded like the grade API (null for a metric no longer known)."""
    metric = stored["metric"]
    return {
        "level": stored["level"],
        "metric": metric,
        "op": stored["op"],
        "value": json_number(stored["value"]),
        "any_of": stored.get("any_of", ""),
        "window_days": stored.get("window_days"),
        "actual": display_value(metric, exact_from_json(stored.get("actual")))
        if metric in METRICS
        else None,
        "passed": bool(stored["passed"]),
    }


def _decimal_to_str(value: Decimal) -> str:
    return format(value, "f")


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a threshold cannot be a bool")
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
