"""Grade policy services and selectors (SPEC §5): read the active policy, validate, replace it.

The validation rules live here once; the admin and ``PUT /api/v1/policy`` both call
``validate_policy_data`` on the same plain shape::

    {"name", "window_months", "window_days", "response_window_hours", "demotion_grace_months",
     "levels": [{"name", "rank", "criteria": [{"metric", "op", "value", "any_of",
                                               "window_days"}]}],
     "score": [{"metric", "weight", "zero", "full"}]}

Bounds are driven by the metric's kind in ``metrics.engine.registry.METRICS``, never by its name.
A fractional threshold on an integral metric (``completed_orders >= 14.5``) is allowed: the
comparison is exact, so it simply means ``>= 15``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from common.errors import Conflict, InvalidInput, Unavailable
from metrics.engine.grading import (
    OPS,
    SUCCESS_SCORE,
    CriterionSpec,
    LevelSpec,
    PolicySnapshot,
    ScorePart,
)
from metrics.engine.registry import METRICS, Kind
from metrics.models import (
    Criterion,
    EvaluationRun,
    GradeLevel,
    GradePolicy,
)
from metrics.policy.limits import (
    MAX_ANY_OF,
    MAX_CRITERIA,
    MAX_CRITERIA_PER_LEVEL,
    MAX_CRITERION_WINDOW_DAYS,
    MAX_LEVEL_NAME,
    MAX_LEVELS,
    MAX_NAME,
    MAX_SCORE_PARTS,
    MAX_WINDOW_DAYS,
    MAX_WINDOW_MONTHS,
    SMALLINT_MAX,
)

# PostgreSQL text cannot store NUL: refuse it with a message instead of failing the INSERT.
NUL = "\x00"
NUL_MESSAGE = "Must not contain a NUL (\\x00) character."
VALUE_PLACES = Decimal("0.0001")  # Criterion.value: decimal_places=4
# Criterion.value: max_digits=20, decimal_places=4 would allow 10**16, but SQLite stores a decimal
# as a REAL (about 15.9 significant digits): 9999999999999996 read back rounds to 10**16, 21
# digits, and the read fails. One order of magnitude less stays exact enough on both databases.
VALUE_LIMIT = Decimal(10) ** 15


def _text_problem(text: str, limit: int) -> str | None:
    """What is wrong with a name or label of the policy (too long, a NUL), or None."""
    if len(text) > limit:
        return f"At most {limit} characters."
    if NUL in text:
        return NUL_MESSAGE
    return None


# (low, high, low inclusive, message) per metric kind; None = unbounded.
_BOUNDS: dict[Kind, tuple[Decimal, Decimal | None, bool, str]] = {
    Kind.RATE: (Decimal(0), Decimal(100), True, "is a rate: the threshold must be 0–100"),
    Kind.RATING: (Decimal(1), Decimal(5), True, "is a rating: the threshold must be 1–5"),
    Kind.PERCENT: (
        Decimal(0),
        Decimal(100),
        False,
        "is a top percentage: the threshold must be above 0 and at most 100",
    ),
    Kind.COUNT: (Decimal(0), None, True, "is a count: the threshold cannot be negative"),
    Kind.MONEY: (Decimal(0), None, True, "is an amount: the threshold cannot be negative"),
    Kind.DAYS: (Decimal(0), None, True, "is a number of days: the threshold cannot be negative"),
    Kind.MINUTES: (
        Decimal(0),
        None,
        True,
        "is a number of minutes: the threshold cannot be negative",
    ),
    Kind.RANK: (Decimal(1), None, True, "is a rank: the threshold must be at least 1"),
    Kind.HOURS: (Decimal(0), None, True, "is a number of hours: the threshold cannot be negative"),
    Kind.NPS: (
        Decimal(-100),
        Decimal(100),
        True,
        "is a net promoter score: the threshold must be -100 to 100",
    ),
}
# The lowest threshold any metric takes (the API's schema states it): -100, a net promoter score.
THRESHOLD_MINIMUM = min(low for low, _, _, _ in _BOUNDS.values())

Errors = dict[str, list[str]]


class NoActivePolicy(Unavailable, LookupError):
    """No grade policy is active: nothing can be graded until staff activate one (503)."""


class PolicyInvalid(InvalidInput, ValueError):
    """The policy data breaks a rule of SPEC §5; ``errors`` maps each place to its messages."""

    errors: Errors

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)


class PolicyConflict(Conflict, RuntimeError):
    """Another policy was activated at the same moment (the one-active-policy constraint)."""


@dataclass(frozen=True)
class CleanPolicy:
    name: str
    snapshot: PolicySnapshot


# --- selectors ---------------------------------------------------------------------------


def active_policy() -> GradePolicy:
    """The one active policy; ``NoActivePolicy`` with a clear message when there is none."""
    try:
        return GradePolicy.objects.get(is_active=True)
    except GradePolicy.DoesNotExist:
        raise NoActivePolicy(
            "No active grade policy. Activate one in admin (Grade policies) or PUT /api/v1/policy."
        ) from None


def _levels_of(policy: GradePolicy) -> list[GradeLevel]:
    """Levels by rank with their criteria in stored order: exactly 2 queries."""
    criteria = Prefetch("criteria", queryset=Criterion.objects.order_by("id"))
    return list(
        GradeLevel.objects.filter(policy=policy).order_by("rank").prefetch_related(criteria)
    )


def snapshot_of(policy: GradePolicy) -> PolicySnapshot:
    """The policy as the pure grading function takes it (2 queries)."""
    return PolicySnapshot(
        levels=tuple(
            LevelSpec(
                name=level.name,
                rank=level.rank,
                criteria=tuple(
                    CriterionSpec(
                        metric=c.metric,
                        op=c.op,
                        value=c.value,
                        any_of=c.any_of,
                        window_days=c.window_days,
                    )
                    for c in level.criteria.all()
                ),
            )
            for level in _levels_of(policy)
        ),
        window_months=policy.window_months,
        window_days=policy.window_days,
        response_window_hours=policy.response_window_hours,
        demotion_grace_months=policy.demotion_grace_months,
        score=_stored_score(policy.score),
    )


def _stored_score(raw: Any) -> tuple[ScorePart, ...]:
    """A policy's stored ``score`` (validated when written) as the grading takes it."""
    return PolicySnapshot.from_json({"score": raw if isinstance(raw, list) else []}).score


def policy_data(policy: GradePolicy) -> dict[str, Any]:
    """A stored policy in the plain shape that ``validate_policy_data`` and the API use."""
    return {"id": policy.pk, "name": policy.name, **snapshot_data(snapshot_of(policy))}


def snapshot_data(snapshot: PolicySnapshot) -> dict[str, Any]:
    """A snapshot in the plain shape, thresholds as ``Decimal`` (``PolicySnapshot.to_data``)."""
    return snapshot.to_data()


def policy_is_used(policy: GradePolicy) -> bool:
    """A policy an evaluation run used is frozen: its results must stay explainable."""
    return policy.pk is not None and EvaluationRun.objects.filter(policy=policy).exists()


# --- validation ----------------------------------------------------------------------------


def validate_policy_data(data: Mapping[str, Any]) -> Errors:
    """Every rule of SPEC §5 a policy must satisfy; errors keyed by place, e.g.
    ``"window_days"``, ``"levels[1].name"``, ``"levels[1].criteria[0].value"``.
    Empty when the policy is coherent. Never raises on malformed input."""
    return clean_policy_data(data)[1]


def clean_policy_data(data: Any) -> tuple[CleanPolicy | None, Errors]:
    """Parse and validate the plain policy shape; ``(policy, {})`` or ``(None, errors)``."""
    errors: Errors = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not isinstance(data, Mapping):
        return None, {"non_field_errors": ["Send a JSON object describing the policy."]}

    name = data.get("name", "Grade policy")
    if not isinstance(name, str) or not name.strip():
        add("name", "Give the policy a name.")
        name = ""
    elif problem := _text_problem(name.strip(), MAX_NAME):
        add("name", problem)
    name = name.strip()

    window_months = _int_field(data, "window_months", 3, add, 0, MAX_WINDOW_MONTHS, True)
    window_days = _int_field(data, "window_days", None, add, 1, MAX_WINDOW_DAYS, True)
    hours = _int_field(data, "response_window_hours", 24, add, 1, SMALLINT_MAX, False)
    grace = _int_field(data, "demotion_grace_months", 0, add, 0, SMALLINT_MAX, False)
    if (
        "window_months" not in errors
        and "window_days" not in errors
        and window_months is None
        and window_days is None
    ):
        add(
            "window_months",
            "Set window_months (0 = all time) or window_days: both are empty.",
        )

    levels = _levels_field(data.get("levels"), add)
    score = _score_field(data.get("score"), add)
    if errors:
        return None, errors
    snapshot = PolicySnapshot(
        levels=tuple(levels),
        window_months=window_months,
        window_days=window_days,
        response_window_hours=hours if hours is not None else 24,
        demotion_grace_months=grace if grace is not None else 0,
        score=tuple(score),
    )
    return CleanPolicy(name=name, snapshot=snapshot), {}


def _int_field(
    data: Mapping[str, Any],
    key: str,
    default: int | None,
    add: Any,
    low: int,
    high: int,
    nullable: bool,
) -> int | None:
    value = data.get(key, default)
    if value is None or value == "":
        if not nullable:
            add(key, "This field is required.")
        return None
    number = _as_int(value)
    if number is None:
        add(key, f"Must be a whole number (got {value!r}).")
        return None
    if number < low:
        hint = " (leave it empty to use window_months)" if key == "window_days" else ""
        add(key, f"Must be at least {low}{hint}.")
    elif number > high:
        add(key, f"Must be at most {high}.")
    return number


def _levels_field(raw: Any, add: Any) -> list[LevelSpec]:
    if raw is None or (isinstance(raw, list | tuple) and not raw):
        add("levels", "A policy needs at least one level.")
        return []
    if not isinstance(raw, list | tuple):
        add("levels", "Must be a list of levels.")
        return []
    if len(raw) > MAX_LEVELS:
        add("levels", f"At most {MAX_LEVELS} levels (got {len(raw)}).")
        return []
    total = sum(
        len(item["criteria"])
        for item in raw
        if isinstance(item, Mapping) and isinstance(item.get("criteria"), list | tuple)
    )
    if total > MAX_CRITERIA:
        add("levels", f"At most {MAX_CRITERIA} criteria in all (got {total}).")
        return []
    levels: list[LevelSpec] = []
    names: dict[str, int] = {}
    ranks: dict[int, int] = {}
    for i, item in enumerate(raw):
        place = f"levels[{i}]"
        if not isinstance(item, Mapping):
            add(place, "Must be an object with name, rank and criteria.")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            add(f"{place}.name", "Give the level a name.")
            name = ""
        name = name.strip()
        if problem := _text_problem(name, MAX_LEVEL_NAME):
            add(f"{place}.name", problem)
        elif name and name.casefold() in names:
            first = names[name.casefold()]
            add(f"{place}.name", f"Duplicate level name {name!r} (also level #{first + 1}).")
        elif name:
            names[name.casefold()] = i
        rank = _as_int(item.get("rank"))
        if rank is None:
            add(f"{place}.rank", "Give the level a whole-number rank (higher is better).")
        elif not 0 <= rank <= SMALLINT_MAX:
            add(f"{place}.rank", f"Must be between 0 and {SMALLINT_MAX}.")
        elif rank in ranks:
            add(f"{place}.rank", f"Duplicate rank {rank} (also level #{ranks[rank] + 1}).")
        else:
            ranks[rank] = i
        criteria = _criteria_field(item.get("criteria"), place, add)
        levels.append(LevelSpec(name=name, rank=rank or 0, criteria=tuple(criteria)))
    return levels


def _criteria_field(raw: Any, place: str, add: Any) -> list[CriterionSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        add(f"{place}.criteria", "Must be a list of criteria.")
        return []
    if len(raw) > MAX_CRITERIA_PER_LEVEL:
        add(f"{place}.criteria", f"At most {MAX_CRITERIA_PER_LEVEL} criteria a level.")
        return []
    criteria: list[CriterionSpec] = []
    for j, item in enumerate(raw):
        at = f"{place}.criteria[{j}]"
        if not isinstance(item, Mapping):
            add(at, "Must be an object with metric, op, value and any_of.")
            continue
        metric = item.get("metric")
        info = METRICS.get(metric) if isinstance(metric, str) else None
        if info is None:
            add(f"{at}.metric", f"Unknown metric {metric!r}. Known metrics: {', '.join(METRICS)}.")
        op = item.get("op")
        if op not in OPS:
            add(f"{at}.op", f"The operator must be '>=' or '<=' (got {op!r}).")
        value = _as_decimal(item.get("value"))
        if value is None:
            add(f"{at}.value", f"The threshold must be a number (got {item.get('value')!r}).")
        elif abs(value) >= VALUE_LIMIT:
            add(f"{at}.value", "The threshold is too large.")
        elif value != value.quantize(VALUE_PLACES):
            add(f"{at}.value", "The threshold can have at most 4 decimal places.")
        elif info is not None:
            low, high, low_inclusive, message = _BOUNDS[info.kind]
            too_low = value < low if low_inclusive else value <= low
            if too_low or (high is not None and value > high):
                add(f"{at}.value", f"{info.key} {message} (got {value}).")
        any_of = item.get("any_of") or ""
        if not isinstance(any_of, str):
            add(f"{at}.any_of", "The any_of label must be text (empty for none).")
            any_of = ""
        any_of = any_of.strip()
        if problem := _text_problem(any_of, MAX_ANY_OF):
            add(f"{at}.any_of", problem)
        window_days = _criterion_window(item, at, info, add)
        if info is not None and op in OPS and value is not None:
            criteria.append(
                CriterionSpec(
                    metric=info.key,
                    op=str(op),
                    value=value,
                    any_of=any_of,
                    window_days=window_days,
                )
            )
    return criteria


def _criterion_window(item: Mapping[str, Any], at: str, info: Any, add: Any) -> int | None:
    """A criterion's own ``window_days`` (SPEC §5): empty, or 1–3650 days; refused on
    ``success_score`` (the score is made of policy-window values)."""
    raw = item.get("window_days")
    if raw is None or raw == "":
        return None
    number = _as_int(raw)
    if number is None:
        add(f"{at}.window_days", f"Must be a whole number of days (got {raw!r}).")
        return None
    if not 1 <= number <= MAX_CRITERION_WINDOW_DAYS:
        add(
            f"{at}.window_days",
            f"Must be between 1 and {MAX_CRITERION_WINDOW_DAYS} days, or empty for the policy "
            f"window (got {number}).",
        )
        return None
    if info is not None and info.key == SUCCESS_SCORE:
        add(
            f"{at}.window_days",
            "success_score is made of the policy-window values: it cannot have its own window.",
        )
        return None
    return number


def score_errors(raw: Any) -> Errors:
    """The problems of a policy's ``score`` alone (admin checks the field on its own), keyed
    ``score`` / ``score[i].field`` like ``validate_policy_data``."""
    errors: Errors = {}
    _score_field(raw, lambda key, message: errors.setdefault(key, []).append(message))
    return errors


def _score_field(raw: Any, add: Any) -> list[ScorePart]:
    """The policy's optional ``score`` (SPEC §5): a list of {"metric", "weight" > 0, "zero",
    "full"}, zero ≠ full, any metric key but ``success_score``; errors at ``score[i].field``."""
    if raw is None or raw == "" or (isinstance(raw, list | tuple) and not raw):
        return []
    if not isinstance(raw, list | tuple):
        add("score", 'Must be a list of {"metric", "weight", "zero", "full"} (or empty).')
        return []
    if len(raw) > MAX_SCORE_PARTS:
        add("score", f"At most {MAX_SCORE_PARTS} parts (got {len(raw)}).")
        return []
    parts: list[ScorePart] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at = f"score[{i}]"
        if not isinstance(item, Mapping):
            add(at, 'Must be an object with "metric", "weight", "zero" and "full".')
            continue
        unknown = sorted(set(item) - {"metric", "weight", "zero", "full"})
        if unknown:
            add(at, f"Unknown field(s): {', '.join(map(str, unknown))}.")
        metric = item.get("metric")
        info = METRICS.get(metric) if isinstance(metric, str) else None
        if info is None:
            add(f"{at}.metric", f"Unknown metric {metric!r}. Known metrics: {', '.join(METRICS)}.")
        elif info.key == SUCCESS_SCORE:
            add(f"{at}.metric", "The score cannot be made of itself (success_score).")
            info = None
        elif info.key in seen:
            add(f"{at}.metric", f"{info.key} is already a part of the score.")
        else:
            seen.add(info.key)
        numbers: dict[str, Decimal | None] = {}
        for key in ("weight", "zero", "full"):
            number = _as_decimal(item.get(key))
            if number is None:
                add(f"{at}.{key}", f"Must be a number (got {item.get(key)!r}).")
            elif abs(number) >= VALUE_LIMIT:
                add(f"{at}.{key}", "The number is too large.")
                number = None
            elif number != number.quantize(VALUE_PLACES):
                add(f"{at}.{key}", "At most 4 decimal places.")
                number = None
            numbers[key] = number
        weight, zero, full = numbers["weight"], numbers["zero"], numbers["full"]
        if weight is not None and weight <= 0:
            add(f"{at}.weight", f"The weight must be above 0 (got {weight}).")
            weight = None
        if zero is not None and full is not None and zero == full:
            add(
                f"{at}.full",
                f"zero and full must differ (both {zero}): the part maps zero to 0 and full to 1 "
                "(zero > full for a lower-is-better metric).",
            )
            full = None
        if info is not None and weight is not None and zero is not None and full is not None:
            parts.append(ScorePart(metric=info.key, weight=weight, zero=zero, full=full))
    return parts


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = _as_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    if number.adjusted() > 18:  # "1e999999999": out of every range, never build that int
        return 10**19 if number > 0 else -(10**19)
    return int(number)


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        value = value.strip()
    if not isinstance(value, int | str | Decimal):
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    # Keep absurd exponents ("1e999999999") out of decimal arithmetic, which would overflow;
    # a stand-in of the same sign still fails the range and decimal-places checks.
    if number and number.adjusted() > 30:
        return Decimal("1e31").copy_sign(number)
    if number and number.adjusted() < -30:
        return Decimal("1e-31").copy_sign(number)
    return number


def describe_errors(errors: Errors, data: Mapping[str, Any] | None = None) -> list[str]:
    """Errors as sentences a person can act on: "Level 2 › criterion 1 › value: …"."""
    levels = data.get("levels") if isinstance(data, Mapping) else None
    lines = []
    for key, messages in errors.items():
        place = key
        if key.startswith("levels["):
            index = int(key[len("levels[") : key.index("]")])
            level_name = None
            if isinstance(levels, list | tuple) and index < len(levels):
                level = levels[index]
                if isinstance(level, Mapping):
                    level_name = level.get("name")
            label = f"Level {level_name!r}" if level_name else f"Level #{index + 1}"
            rest = key[key.index("]") + 1 :].lstrip(".")
            if rest.startswith("criteria["):
                c_index = int(rest[len("criteria[") : rest.index("]")])
                field = rest[rest.index("]") + 1 :].lstrip(".")
                rest = f"criterion #{c_index + 1}" + (f" › {field}" if field else "")
            place = f"{label} › {rest}" if rest else label
        elif key == "score":
            place = "Score"
        elif key.startswith("score["):
            index = int(key[len("score[") : key.index("]")])
            rest = key[key.index("]") + 1 :].lstrip(".")
            place = f"Score › part #{index + 1}" + (f" › {rest}" if rest else "")
        elif key == "non_field_errors":
            place = ""
        for message in messages:
            lines.append(f"{place}: {message}" if place else message)
    return lines


# --- services ------------------------------------------------------------------------------


def create_active_policy(
    *, data: Mapping[str, Any], actor: AbstractBaseUser | AnonymousUser | None
) -> GradePolicy:
    """Validate ``data`` and make it the new active policy, in one transaction.

    The previous active policy is kept (inactive, read-only once a run used it) so stored
    results stay explainable. Raises ``PolicyInvalid`` (nothing written) or ``PolicyConflict``.
    """
    clean, errors = clean_policy_data(data)
    if clean is None:
        raise PolicyInvalid(errors)
    try:
        with transaction.atomic():
            GradePolicy.objects.filter(is_active=True).update(is_active=False)
            policy = _create_policy(clean=clean, actor=actor, is_active=True)
    except IntegrityError as exc:
        raise PolicyConflict(
            "Another policy was activated at the same moment; reload and try again."
        ) from exc
    return policy


def create_draft_policy(
    *, data: Mapping[str, Any], actor: AbstractBaseUser | AnonymousUser | None
) -> GradePolicy:
    """Validate ``data`` and store it as an inactive policy (a draft to edit, preview and
    activate later). Raises ``PolicyInvalid`` (nothing written)."""
    clean, errors = clean_policy_data(data)
    if clean is None:
        raise PolicyInvalid(errors)
    with transaction.atomic():
        return _create_policy(clean=clean, actor=actor, is_active=False)


def activate_policy(*, policy: GradePolicy) -> GradePolicy:
    """Make a stored policy the active one (the previous one is deactivated), if coherent."""
    errors = validate_policy_data(policy_data(policy))
    if errors:
        raise PolicyInvalid(errors)
    try:
        with transaction.atomic():
            GradePolicy.objects.filter(is_active=True).exclude(pk=policy.pk).update(is_active=False)
            GradePolicy.objects.filter(pk=policy.pk).update(is_active=True)
    except IntegrityError as exc:
        raise PolicyConflict(
            "Another policy was activated at the same moment; reload and try again."
        ) from exc
    policy.is_active = True
    return policy


def duplicate_policy(
    *, policy: GradePolicy, actor: AbstractBaseUser | AnonymousUser | None
) -> GradePolicy:
    """An inactive editable copy ("draft") of ``policy``: the way to change a used policy."""
    clean = CleanPolicy(name=f"Copy of {policy.name}"[:MAX_NAME], snapshot=snapshot_of(policy))
    with transaction.atomic():
        return _create_policy(clean=clean, actor=actor, is_active=False)


def _create_policy(
    *, clean: CleanPolicy, actor: AbstractBaseUser | AnonymousUser | None, is_active: bool
) -> GradePolicy:
    snapshot = clean.snapshot
    policy = GradePolicy.objects.create(
        name=clean.name,
        is_active=is_active,
        window_months=snapshot.window_months,
        window_days=snapshot.window_days,
        response_window_hours=snapshot.response_window_hours,
        demotion_grace_months=snapshot.demotion_grace_months,
        score=_score_json(snapshot),
        created_by=actor if actor is not None and actor.is_authenticated else None,  # type: ignore[misc]
    )
    criteria: list[Criterion] = []
    for spec in snapshot.levels:
        level = GradeLevel.objects.create(policy=policy, name=spec.name, rank=spec.rank)
        criteria.extend(_criterion_row(level, c) for c in spec.criteria)
    Criterion.objects.bulk_create(criteria)
    return policy


def _criterion_row(level: GradeLevel, spec: CriterionSpec) -> Criterion:
    return Criterion(
        level=level,
        metric=spec.metric,
        op=spec.op,
        value=spec.value,
        any_of=spec.any_of,
        window_days=spec.window_days,
    )


def _score_json(snapshot: PolicySnapshot) -> list[dict[str, str]]:
    """The score as stored in ``GradePolicy.score``: exact decimal strings."""
    return snapshot.to_json()["score"]


def replace_policy_levels(*, policy: GradePolicy, levels: Any) -> GradePolicy:
    """Replace a draft policy's levels and criteria with ``levels`` (the ``levels`` of the
    policy shape), validated with the policy's own window fields, in one transaction.

    The admin's one-page threshold tuning saves through here. Raises ``PolicyInvalid``
    (nothing written) for an incoherent result, ``PolicyConflict`` for a policy a run used
    (frozen: duplicate it as a draft first).
    """
    data = {**policy_data(policy), "levels": levels}
    clean, errors = clean_policy_data(data)
    if clean is None:
        raise PolicyInvalid(errors)
    with transaction.atomic():
        locked = GradePolicy.objects.select_for_update().get(pk=policy.pk)
        if policy_is_used(locked):
            raise PolicyConflict(
                "A run used this policy, so it is read-only: duplicate it as a draft first."
            )
        GradeLevel.objects.filter(policy=locked).delete()
        for spec in clean.snapshot.levels:
            level = GradeLevel.objects.create(policy=locked, name=spec.name, rank=spec.rank)
            Criterion.objects.bulk_create(_criterion_row(level, c) for c in spec.criteria)
    return locked
