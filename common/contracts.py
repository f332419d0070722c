"""One declaration per input contract: the fields of an ingestion item, written once.

A ``Contract`` lists an item's fields (``Field``: name, kind, bounds, help) and its cross-field
rules (``check``, in the words of the API's errors, and ``rules``, the same in prose). From
that one declaration come:

* the parser: ``Contract.parse`` reads each field through ``common.ingest.ItemReader`` (plain
  Python, the ingestion's fast path: PUT and bulk) and builds the item;
* the OpenAPI request component: ``Contract.write_serializer`` generates the DRF serializer
  that documents the body (documentation only: drf-spectacular renders it, nothing validates
  with it), so the schema's types, bounds, optionality and help are the parser's;
* the admin's validation: ``ContractAdminForm`` runs the same ``parse`` over the form's values,
  so a staff edit meets exactly the API's rules, with its messages on the form's fields.

References to other rows (an order's, a seller's ``external_id``) are read as strings here; the
entity's service resolves them against the database (the admin's raw-id fields do it there).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from django import forms
from rest_framework import serializers

from common.ingest import NON_FIELD, ItemReader
from common.ingest_schema import TIMESTAMP_HELP, AmountField

T = TypeVar("T")
Kind = Literal["string", "choice", "moment", "integer", "amount", "flag"]


@dataclass(frozen=True)
class Field:
    """One field of an item: what the parser accepts and the schema documents."""

    name: str
    kind: Kind
    help: str = ""
    required: bool = True
    max_length: int = 100  # string
    choices: Sequence[tuple[str, str]] = ()  # choice: (value, label)
    minimum: int | None = None  # integer
    maximum: int | None = None  # integer
    pattern: re.Pattern[str] | None = None  # string: the whole value must match
    pattern_message: str = ""  # string: the error when it does not
    default: str = ""  # string: the value of an optional field left out
    whole_digits: int = 14  # amount
    decimal_places: int = 2  # amount

    def read(self, r: ItemReader) -> Any:
        """The field's value from a raw item, its errors recorded on ``r``."""
        if self.kind == "string":
            value = r.string(
                self.name,
                max_length=self.max_length,
                required=self.required,
                pattern=self.pattern,
                pattern_message=self.pattern_message,
            )
            return value or self.default
        if self.kind == "amount":
            return r.amount(
                self.name, whole_digits=self.whole_digits, decimal_places=self.decimal_places
            )
        if self.kind == "flag":  # always optional; None: absent (the stored value is kept)
            return r.flag(self.name)
        if self.kind == "choice":
            values = [value for value, _ in self.choices]
            return r.choice(self.name, choices=values, required=self.required)
        if self.kind == "moment":
            return r.moment(self.name, required=self.required)
        if self.minimum is None or self.maximum is None:
            raise ValueError(f"integer field {self.name!r} needs a minimum and a maximum")
        return r.integer(
            self.name, minimum=self.minimum, maximum=self.maximum, required=self.required
        )

    def serializer_field(self) -> serializers.Field:
        """The documented form of the field (OpenAPI)."""
        optional: dict[str, Any] = {} if self.required else {"required": False, "allow_null": True}
        if self.kind == "string":
            if self.pattern is not None:
                return serializers.RegexField(
                    f"^{self.pattern.pattern}$",
                    max_length=self.max_length,
                    help_text=self.help,
                    **optional,
                )
            if not self.required:
                optional["allow_blank"] = True  # the parser takes "" as "none" too
            return serializers.CharField(
                max_length=self.max_length, help_text=self.help, **optional
            )
        if self.kind == "amount":
            return AmountField(
                max_digits=self.whole_digits + self.decimal_places,
                decimal_places=self.decimal_places,
                min_value=0,
                help_text=self.help,
            )
        if self.kind == "flag":
            return serializers.BooleanField(required=False, allow_null=True, help_text=self.help)
        if self.kind == "choice":
            return serializers.ChoiceField(
                choices=list(self.choices), help_text=self.help, **optional
            )
        if self.kind == "moment":
            help_text = f"{self.help} {TIMESTAMP_HELP}".strip() if self.help else TIMESTAMP_HELP
            return serializers.DateTimeField(help_text=help_text, **optional)
        return serializers.IntegerField(
            min_value=self.minimum, max_value=self.maximum, help_text=self.help, **optional
        )

    def json_value(self, value: Any) -> Any:
        """A form's cleaned value as the API would carry it (what ``read`` parses)."""
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Decimal):  # an amount: the API's string form
            return str(value)
        external_id = getattr(value, "external_id", None)  # a referenced row
        return external_id if external_id is not None else value


@dataclass(frozen=True)
class Contract(Generic[T]):
    """An ingestion item's contract: its fields, how the parsed item is built, and the rules
    across fields (``check`` records errors on the reader; ``rules`` says them in prose)."""

    name: str
    fields: tuple[Field, ...]
    build: Callable[..., T]  # build(external_id=..., **{field name: value})
    check: Callable[[ItemReader, T], None] | None = None
    rules: str = ""

    @property
    def documented_rules(self) -> str:
        """The rules as the API documents them, beside the body's schema."""
        return f"Beyond the body's schema (400 with field messages): {self.rules}"

    def parse(self, r: ItemReader, external_id: str) -> T:
        """One item, every field read and every rule checked; the errors are on ``r``."""
        item = self.build(external_id=external_id, **{f.name: f.read(r) for f in self.fields})
        if self.check is not None:
            self.check(r, item)
        return item

    def write_serializer(self, class_name: str) -> type[serializers.Serializer]:
        """The serializer that documents a write body of this contract (OpenAPI only)."""
        attributes: dict[str, Any] = {f.name: f.serializer_field() for f in self.fields}
        article = "An" if self.name[0] in "aeiou" else "A"
        attributes["__doc__"] = (
            f"{article} {self.name} as PUT and bulk send it. Also checked: {self.rules}"
        )
        attributes["__module__"] = __name__
        return type(class_name, (serializers.Serializer,), attributes)

    def errors_of(self, values: Mapping[str, Any]) -> dict[str, list[str]]:
        """The API's errors for an item given as Python values (a form's cleaned data)."""
        raw = {f.name: f.json_value(values.get(f.name)) for f in self.fields}
        reader = ItemReader(raw)
        self.parse(reader, "")
        return reader.errors


class ContractAdminForm(forms.ModelForm):
    """An admin form validated by its model's ingestion contract (``contract``), so a staff
    edit meets the API's rules: each error on its field, a cross-field one on the form."""

    contract: Contract[Any]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:  # a field the form could not read: the form's own message stands
            return cleaned
        # A form of some fields only (read-only fields left out) keeps the others as stored.
        values = {
            f.name: cleaned[f.name] if f.name in cleaned else getattr(self.instance, f.name, None)
            for f in self.contract.fields
        }
        for name, messages in self.contract.errors_of(values).items():
            target = name if name in self.fields and name != NON_FIELD else None
            for message in messages:
                self.add_error(target, message)
        return cleaned


def contract_form(model: type[Any], contract: Contract[Any]) -> type[ContractAdminForm]:
    """A ModelForm of ``model`` (every field) validated by ``contract``."""
    meta = type("Meta", (), {"model": model, "fields": "__all__"})
    return type(
        f"{model.__name__}ContractForm",
        (ContractAdminForm,),
        {"Meta": meta, "contract": contract, "__module__": __name__},
    )
