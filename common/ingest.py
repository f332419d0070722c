"""The machinery every ingestion endpoint shares: reading one JSON item, checking a batch, writing.

Validation runs in plain Python, field by field, collecting every message instead of stopping
at the first: a DRF serializer costs 5-9x more per order (figures in ``orders/services.py``),
and the bulk endpoints must take 1,000 orders in a fraction of a second. PUT is a batch of one
through the very same code, so the rules live in exactly one place per entity (``parse_*`` for
one item, ``upsert_*`` for the checks that need the database).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar, cast

from django.db import (
    DataError,
    IntegrityError,
    OperationalError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from common.errors import Conflict, InvalidInput

MAX_BATCH = 1000
# Accepted timestamps. Wider than any marketplace event, narrow enough that every stored moment
# renders in TIME_ZONE and has a period before and after it: 9999-12-31T23:00Z was storable but
# overflowed when rendered in Asia/Seoul, failing the response (after the write) and every list.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(3000, 1, 1, tzinfo=UTC)
NON_FIELD = "non_field_errors"

# An external id must be addressable by its item URL ``/api/v1/<entity>/<external_id>``: the
# ``str`` path converter takes one segment (no "/"), clients resolve the segments "." and ".."
# away before sending, and ``<entity>/bulk`` is the bulk endpoint. Any other character is
# reachable percent-encoded. ``EXTERNAL_ID_PATTERN`` documents the same rule in the OpenAPI
# schema (an ECMA 262 regex).
RESERVED_EXTERNAL_IDS = frozenset({"bulk", ".", ".."})
EXTERNAL_ID_PATTERN = r"^(?!(?:bulk|\.|\.\.)$)[^/\x00]+$"
EXTERNAL_ID_MESSAGE = (
    "Not addressable by its item URL /api/v1/<entity>/<external_id>: "
    "use no '/', and not 'bulk', '.' or '..'."
)
# A number sent as a string: plain ASCII digits, an optional '-' (so a negative amount gets its
# own message) and an optional fraction. No '+', exponent, spaces, '_' separators or non-ASCII
# digits, all of which Python's Decimal() and int() accept. A JSON number is taken as is.
DECIMAL_STRING_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

Errors = dict[str, list[str]]
T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


class WriteConflict(Conflict):
    """The database refused a write that passed validation (a concurrent writer won a race)."""

    default_message = (
        "The write conflicts with a concurrent change or a database rule; nothing was written. "
        "Retry the request."
    )


class BulkValidationError(Exception):
    """One entry per invalid item: ``{"index", "external_id", <field>: [messages]}``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid item(s)")
        self.errors = errors

    @classmethod
    def of_body(cls, message: str) -> BulkValidationError:
        """The whole body is refused (not a list, too many items): one entry, index null."""
        return cls([{"index": None, "external_id": None, NON_FIELD: [message]}])

    def single_item_errors(self) -> Errors:
        """The field messages of a batch of one, for PUT (no index, no echo of the id)."""
        entry = dict(self.errors[0])
        entry.pop("index", None)
        if not isinstance(entry.get("external_id"), list):
            entry.pop("external_id", None)
        return entry


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int


_MISSING = object()


def known(value: T | None) -> T:
    """A field value of an item that passed validation (required fields are never None)."""
    if value is None:
        raise RuntimeError("a validated item lacks a required value")
    return value


def unknown_field_errors(
    data: Mapping[str, Any], known: Iterable[str], *, read_only: Iterable[str] = ()
) -> Errors:
    """A message for each key of ``data`` that is not one of the ``known`` fields (SPEC §2: a
    write body with a field the resource does not have is a 400 naming the field, so a typo such
    as ``deliverd_at`` is never accepted silently). The one check behind every write body: the
    ingestion items (``ItemReader``) and the DRF-validated bodies (``common.api.StrictSerializer``,
    the policy)."""
    fields = sorted(set(known))
    shown_only = set(read_only)
    errors: Errors = {}
    for name in data:
        if name in fields:
            continue
        shown = str(name)
        if shown in shown_only:
            errors[shown] = [f"Read-only field {shown!r}: leave it out of a write body."]
            continue
        close = difflib.get_close_matches(shown, fields, n=1, cutoff=0.75)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        errors[shown[:100]] = [
            f"Unknown field {shown[:100]!r}: nothing was written.{hint} "
            f"Accepted fields: {', '.join(fields)}."
        ]
    return errors


class ItemReader:
    """Reads the fields of one raw JSON object; each method records its own error messages.

    The fields a parser reads are its contract's declared fields: ``refuse_unknown`` then names
    every other key of the object (a typo, a field of another resource) as an error, so every
    entity parsed through a reader refuses unknown fields with no code of its own.
    """

    __slots__ = ("errors", "raw", "seen")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.errors: Errors = {}
        self.seen: set[str] = set()

    def _get(self, name: str) -> Any:
        self.seen.add(name)
        return self.raw.get(name, _MISSING)

    def refuse_unknown(self) -> None:
        """An error for every key of the object no reader method has read."""
        for name, messages in unknown_field_errors(self.raw, self.seen).items():
            self.errors.setdefault(name, []).extend(messages)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def ok(self, *names: str) -> bool:
        """True when none of ``names`` has an error (so a cross-field rule can use them)."""
        return not any(name in self.errors for name in names)

    def string(
        self,
        name: str,
        *,
        max_length: int,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        pattern_message: str = "",
    ) -> str:
        value = self._get(name)
        if value is _MISSING or value is None or value == "":
            if required:
                self.error(name, "This field is required.")
            elif value == "" and pattern is not None:
                self.error(name, f"{pattern_message} Send null or leave it out for the default.")
            return ""
        if not isinstance(value, str):
            self.error(name, "Expected a string.")
            return ""
        message = string_problem(value, max_length=max_length)
        if message:
            self.error(name, message)
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            self.error(name, pattern_message)
            return ""
        return value

    def choice(self, name: str, *, choices: Sequence[str], required: bool = True) -> str:
        value = self._get(name)
        if value is _MISSING or value is None or value == "":
            if required:
                self.error(name, "This field is required.")
            elif value == "":
                self.error(name, f"Must be one of: {', '.join(choices)}; null for none.")
            return ""
        if not isinstance(value, str) or value not in choices:
            self.error(name, f"Must be one of: {', '.join(choices)}.")
            return ""
        return value

    def moment(self, name: str, *, required: bool = True) -> datetime | None:
        value = self._get(name)
        if value is _MISSING or value is None or value == "":
            if required:
                self.error(name, "This field is required.")
            elif value == "":
                self.error(name, "Expected an ISO 8601 date-time, or null for none.")
            return None
        if not isinstance(value, str) or len(value) > 64:
            self.error(name, "Expected an ISO 8601 date-time string with a timezone offset.")
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(
                name,
                f"{value!r} is not an ISO 8601 date-time; use e.g. 2026-10-01T10:00:00+09:00.",
            )
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.error(
                name,
                f"Timezone required: {value!r} has no UTC offset; "
                "send e.g. 2026-10-01T10:00:00+09:00 or ...Z.",
            )
            return None
        try:
            in_utc = moment.astimezone(UTC)  # year 1 at +09:00 is not representable in UTC
        except OverflowError:
            in_utc = None
        if in_utc is None or not EARLIEST_MOMENT <= in_utc < LATEST_MOMENT:
            self.error(name, "Date-time out of range: use a year from 1900 to 2999.")
            return None
        return moment

    def amount(self, name: str, *, whole_digits: int, decimal_places: int) -> Decimal | None:
        value = self._get(name)
        if value is _MISSING or value is None or value == "":
            self.error(name, "This field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.error(name, "Expected a decimal number (a JSON number or a string).")
            return None
        if isinstance(value, str) and not DECIMAL_STRING_RE.fullmatch(value):
            self.error(
                name,
                "A decimal number in plain ASCII digits is required, e.g. 15000 or 15000.50 "
                "(no spaces, '+', '_', exponent or other digits).",
            )
            return None
        try:
            number = Decimal(value if not isinstance(value, float) else repr(value))
        except (InvalidOperation, ValueError):
            self.error(name, "A valid decimal number is required.")
            return None
        if not number.is_finite():
            self.error(name, "A valid decimal number is required.")
            return None
        if number < 0:
            self.error(name, "Must not be negative.")
            return None
        if number and number.adjusted() >= whole_digits:
            self.error(name, f"Too many digits: at most {whole_digits} before the decimal point.")
            return None
        quantum = Decimal(1).scaleb(-decimal_places)
        if number.quantize(quantum) != number:
            self.error(name, f"Too many digits: at most {decimal_places} decimal places.")
            return None
        return number.quantize(quantum)

    def integer(
        self, name: str, *, minimum: int, maximum: int, required: bool = True
    ) -> int | None:
        value = self._get(name)
        if value is _MISSING or value is None:
            if required:
                self.error(name, "This field is required.")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(name, "A valid integer is required.")
            return None
        if not minimum <= value <= maximum:
            self.error(name, f"Must be an integer from {minimum} to {maximum}.")
            return None
        return value

    def flag(self, name: str) -> bool | None:
        """A JSON boolean, or None when the field is absent (the caller keeps the stored value)."""
        value = self._get(name)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, bool):
            self.error(name, "Expected true or false.")
            return None
        return value

    def not_before(self, name: str, later: datetime | None, earlier: datetime | None, ref: str):
        if later is not None and earlier is not None and later < earlier:
            self.error(name, f"Must not be before {ref}.")


def string_problem(value: str, *, max_length: int) -> str:
    """Why ``value`` cannot be stored as text ('' when it can)."""
    if len(value) > max_length:
        return f"Ensure this field has no more than {max_length} characters."
    if "\x00" in value:
        return "Null characters are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Invalid unicode (unpaired surrogate)."
    return ""


def addressable(external_id: str) -> bool:
    """Whether the item URL ``/api/v1/<entity>/<external_id>`` can reach this id."""
    return "/" not in external_id and external_id not in RESERVED_EXTERNAL_IDS


def usable_lookup(value: str | None) -> bool:
    """Whether an id from a URL or query string can be sent to the database as is."""
    return value is not None and not string_problem(value, max_length=1000)


@dataclass
class Entry(Generic[T]):
    index: int
    raw_id: Any
    value: T | None
    errors: Errors = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


class Batch(Generic[T]):
    """A parsed batch: one entry per item, with duplicates of an external id flagged."""

    def __init__(self, items: Any, parse: Callable[[ItemReader, str], T]) -> None:
        # SPEC §7: "a JSON list of up to 1,000 items": an empty list is a valid no-op. A body
        # that is no list, or a list that is too long, is refused in the same ``errors`` shape
        # as an invalid item, with ``index`` null since no single item is at fault.
        if not isinstance(items, list):
            raise BulkValidationError.of_body(f"Expected a JSON list of up to {MAX_BATCH} objects.")
        if len(items) > MAX_BATCH:
            raise BulkValidationError.of_body(
                f"Send at most {MAX_BATCH} items per request; got {len(items)}."
            )
        self.entries: list[Entry[T]] = []
        first_index: dict[str, int] = {}
        for index, raw in enumerate(items):
            if not isinstance(raw, dict):
                entry: Entry[T] = Entry(index, None, None, {NON_FIELD: ["Expected an object."]})
                self.entries.append(entry)
                continue
            reader = ItemReader(raw)
            external_id = reader.string("external_id", max_length=100)
            if external_id and not addressable(external_id):
                reader.error("external_id", EXTERNAL_ID_MESSAGE)
                external_id = ""
            value = parse(reader, external_id)
            reader.refuse_unknown()
            entry = Entry(index, raw.get("external_id"), value, reader.errors)
            if external_id:
                if external_id in first_index:
                    entry.error(
                        "external_id",
                        f"{external_id!r} appears more than once in this batch "
                        f"(first at index {first_index[external_id]}).",
                    )
                else:
                    first_index[external_id] = index
            self.entries.append(entry)

    def parsed(self) -> Iterator[tuple[Entry[T], T]]:
        """Every object item, valid or not, so reference checks can report on all of them."""
        for entry in self.entries:
            if entry.value is not None:
                yield entry, entry.value

    def values(self) -> list[T]:
        """The parsed items; call after ``raise_if_invalid``."""
        return [value for _, value in self.parsed()]

    def raise_if_invalid(self) -> None:
        bad = [entry for entry in self.entries if entry.errors]
        if not bad:
            return
        errors = []
        for entry in bad:
            shown_id = entry.raw_id if isinstance(entry.raw_id, str | int | None) else None
            report: dict[str, Any] = {"index": entry.index, "external_id": shown_id}
            report.update(entry.errors)  # an error on external_id itself replaces the echo
            errors.append(report)
        raise BulkValidationError(errors)


def write_rows(
    *, model: type[M], rows: list[M], update_fields: list[str], before: Callable[[], None] | None
) -> int:
    """Insert or replace ``rows`` by external_id in one statement, all or nothing.

    Returns how many rows the statement inserted (the others replaced a stored row), as the
    database counts them: a read before the write cannot tell, since concurrent PUTs of one new
    id all read "absent" and only one of them inserts.

    The check constraints are the last line of defence: a row that slipped past validation,
    or a concurrent writer that won a race, ends as a 409 with nothing written, never a 500.
    """
    try:
        with transaction.atomic():
            if before is not None:
                before()
            return _insert_or_replace(model=model, rows=rows, update_fields=update_fields)
    except (IntegrityError, DataError) as exc:
        raise WriteConflict() from exc
    except OperationalError as exc:
        # Two batches locking the same orders in opposite order: PostgreSQL aborts one
        # (deadlock_detected, 40P01); the client retries, as for any conflict.
        if getattr(exc.__cause__, "pgcode", None) == "40P01":
            raise WriteConflict() from exc
        raise


def _insert_or_replace(*, model: type[M], rows: list[M], update_fields: list[str]) -> int:
    """``INSERT ... ON CONFLICT (external_id) DO UPDATE``; the number of rows inserted."""
    if not rows:
        return 0
    queryset = model._default_manager.all()
    db = router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        # SQLite (development, fast tests) has one writer at a time: count inside the
        # transaction, then write with the ORM.
        ids = [row.serializable_value("external_id") for row in rows]
        existing = queryset.filter(external_id__in=ids)
        before = existing.count()
        queryset.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=update_fields,
        )
        return len(rows) - before
    # What bulk_create(update_conflicts=True) sends, plus RETURNING (xmax = 0): true for a row
    # the statement inserted, false for one it replaced (the new version of an updated row
    # carries the updater's transaction id in xmax).
    opts = model._meta
    # Defaults and related ids, as bulk_create does (a private helper, untyped in the stubs).
    cast(Any, queryset)._prepare_for_bulk_create(rows)
    query = InsertQuery(
        model,
        on_conflict=OnConflict.UPDATE,
        update_fields=[opts.get_field(name) for name in update_fields],
        unique_fields=[opts.get_field("external_id")],
    )
    fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
    query.insert_values(fields, cast("list[models.Model]", rows))
    [(statement, params)] = query.get_compiler(using=db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING (xmax = 0)", params)
        return sum(1 for (inserted,) in cursor.fetchall() if inserted)


def put_item(*, external_id: str, data: Any) -> dict[str, Any]:
    """The body of a PUT as a batch item, its external id taken from the URL."""
    if not isinstance(data, dict):
        raise InvalidInput(errors={NON_FIELD: ["Expected a JSON object."]})
    body_id = data.get("external_id")
    if body_id not in (None, external_id):
        raise InvalidInput(
            errors={
                "external_id": [
                    f"Must match the URL's external id {external_id!r} (or be left out)."
                ]
            }
        )
    return {**data, "external_id": external_id}


def upsert_one(*, upsert: Callable[..., UpsertResult], item: dict[str, Any]) -> bool:
    """Run a batch upsert on one PUT item; True when the row was created.

    Field messages come back as a plain 400 body (``{field: [messages]}``), as for any form.
    """
    try:
        result = upsert(items=[item])
    except BulkValidationError as exc:
        raise InvalidInput(errors=exc.single_item_errors()) from exc
    return result.created == 1
