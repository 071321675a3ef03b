"""What ``fraiseql generate model NAME field:type ...`` asks for, checked before writing.

A model is a PascalCase type name and its fields, each ``name:type`` (``?`` after the type makes
it optional: ``paid:bool?``). A type is one of :data:`FIELD_TYPES` or the name of a declared
type with a ``tv_*`` read model (a reference: ``customer:Customer``, stored as
``fk_customer``). :func:`parse_model` raises :class:`ModelSpecError` with the reason.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from fraiseql.codegen.model import SCALAR_TYPES

__all__ = ["FIELD_TYPES", "FieldSpec", "FieldType", "ModelSpec", "ModelSpecError", "parse_model"]

MAX_NAME_LENGTH = 40
"""Longer type names would make PostgreSQL names (``fn_sync_tv_<entity>``...) unwieldy."""

_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_FIELD_NAME = re.compile(r"[a-z](?:[a-z0-9]|_(?=[a-z0-9]))*\Z")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# PostgreSQL's reserved key words (they need quotes as column names).
_SQL_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast
    check collate collation column concurrently constraint create cross current_catalog
    current_date current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full grant
    group having ilike in initially inner intersect into is isnull join lateral leading left like
    limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric table
    tablesample then to trailing true union unique user using variadic verbose when where window
    with""".split()  # noqa: SIM905 - the list PostgreSQL prints, kept readable
)

# Names a type cannot take: GraphQL's roots and scalars, and what FraiseQL declares itself.
_TAKEN_TYPE_NAMES = frozenset(
    {"Query", "Mutation", "Subscription", "Node", "PageInfo", "Connection", "Edge", "OrderBy"}
    | {"Where", "MutationStatus", "FieldError", "Info", "Schema", "Any", "Boolean", "Int"}
    | {"Float", "String", *SCALAR_TYPES}
)
_GENERATED_SUFFIXES = ("Input", "Payload", "Where", "OrderBy", "Connection", "Edge", "Filter")

_TRINITY = {
    "id": "the Trinity id (a UUID) every model has",
    "identifier": "the Trinity identifier (text) every model has",
}


@dataclass(frozen=True, slots=True)
class FieldType:
    """A field type of the command line: its annotation and two sample values for the tests.

    ``samples`` are sent as GraphQL variables (on create, then on update), and the API answers
    them as they are: each is in the canonical form the scalar writes.
    """

    name: str
    annotation: str
    scalar_import: str | None
    samples: tuple[object, object]


def _same(
    name: str, annotation: str, first: object, second: object, scalar: str | None = None
) -> FieldType:
    return FieldType(name, annotation, scalar, (first, second))


FIELD_TYPES: dict[str, FieldType] = {
    item.name: item
    for item in (
        _same("str", "str", "first", "second"),
        _same("int", "int", 1, 2),
        _same("float", "float", 1.5, 2.25),
        _same("bool", "bool", True, False),
        _same("decimal", "Decimal", "12.5", "99.95", "Decimal"),
        _same("date", "Date", "2024-03-01", "2024-04-02", "Date"),
        _same(
            "datetime",
            "DateTime",
            "2024-03-01T10:00:00+00:00",
            "2024-04-02T11:30:00+00:00",
            "DateTime",
        ),
        _same("time", "Time", "10:30:00", "11:45:00", "Time"),
        _same(
            "uuid",
            "UUID",
            "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
            "6fa459ea-ee8a-4ca4-894e-db77e160355e",
            "UUID",
        ),
        _same("json", "JSON", {"a": 1}, {"b": [1, 2]}, "JSON"),
        _same("email", "EmailAddress", "one@example.com", "two@example.com", "EmailAddress"),
    )
}
"""The scalar field types ``name:type`` may name, by their command-line spelling."""


class ModelSpecError(ValueError):
    """A model that cannot be generated; the message says why and what would do."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: its Python name, and a scalar type or the name of a referenced type."""

    name: str
    optional: bool
    scalar: FieldType | None = None
    reference: str | None = None

    @property
    def annotation(self) -> str:
        """The field's annotation in the type (``Decimal``, ``Customer | None``)."""
        base = self.reference if self.scalar is None else self.scalar.annotation
        assert base is not None
        return f"{base} | None" if self.optional else base


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model: its GraphQL type name, its entity (``tb_<entity>``...) and its fields."""

    name: str
    entity: str
    fields: tuple[FieldSpec, ...]

    @property
    def plural(self) -> str:
        """The name of the list query (``invoices``)."""
        return plural(self.entity)


def entity_name(type_name: str) -> str:
    """The snake_case entity of a type name: ``InvoiceLine`` → ``invoice_line``."""
    return _CAMEL_BOUNDARY.sub("_", type_name).lower()


def plural(word: str) -> str:
    """An English plural good enough for query names: ``category`` → ``categories``."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def check_type_name(name: str) -> str:
    """``name`` as a model's type name, or :class:`ModelSpecError`; returns its entity."""
    if not _TYPE_NAME.match(name):
        raise ModelSpecError(
            f"invalid model name {name!r}: use PascalCase, a capital letter then letters and "
            "digits (such as Invoice or InvoiceLine)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ModelSpecError(f"invalid model name {name!r}: at most {MAX_NAME_LENGTH} characters")
    if keyword.iskeyword(name) or name in _TAKEN_TYPE_NAMES:
        raise ModelSpecError(
            f"invalid model name {name!r}: a reserved word (Python, GraphQL or FraiseQL); "
            "choose another name"
        )
    if name.endswith(_GENERATED_SUFFIXES):
        raise ModelSpecError(
            f"invalid model name {name!r}: names ending in {', '.join(_GENERATED_SUFFIXES)} are "
            "taken by the types FraiseQL derives from each model"
        )
    return entity_name(name)


def _field(text: str, name: str, references: Collection[str]) -> FieldSpec:
    field_name, colon, type_text = text.partition(":")
    if not colon or not field_name or not type_text:
        raise ModelSpecError(f"{text!r}: write each field as name:type (such as amount:decimal)")
    if not _FIELD_NAME.match(field_name):
        raise ModelSpecError(
            f"invalid field name {field_name!r}: use snake_case, a lower-case letter then "
            "lower-case letters, digits and single underscores"
        )
    if field_name in _TRINITY:
        raise ModelSpecError(f"{field_name!r} is {_TRINITY[field_name]}: leave it out")
    if keyword.iskeyword(field_name) or field_name in _SQL_RESERVED:
        raise ModelSpecError(
            f"invalid field name {field_name!r}: a reserved word in Python or PostgreSQL; "
            "choose another name"
        )
    if field_name.startswith(("pk_", "fk_", "v_")) or field_name == "input":
        raise ModelSpecError(
            f"invalid field name {field_name!r}: pk_*, fk_*, v_* and input are the names of "
            "key columns and of the generated functions' variables"
        )
    optional = type_text.endswith("?")
    type_name = type_text.removesuffix("?")
    if type_name in FIELD_TYPES:
        return FieldSpec(field_name, optional, scalar=FIELD_TYPES[type_name])
    if type_name == name:
        raise ModelSpecError(
            f"{field_name}:{type_text}: a model cannot reference itself from the command line; "
            "add such a field by hand"
        )
    if type_name in references:
        return FieldSpec(field_name, optional, reference=type_name)
    known = ", ".join(FIELD_TYPES)
    entities = ", ".join(sorted(references)) or "none yet"
    raise ModelSpecError(
        f"unknown type {type_name!r} for field {field_name!r}: the known types are {known}, "
        f"or a type with a read model for a reference ({entities}); add ? for an optional field"
    )


def parse_model(name: str, fields: Sequence[str], references: Collection[str]) -> ModelSpec:
    """The model ``name`` with ``fields`` (``name:type`` texts), or :class:`ModelSpecError`.

    ``references`` are the type names a field may reference (declared types with a read model).
    """
    entity = check_type_name(name)
    if not fields:
        raise ModelSpecError(f"{name} needs at least one field, such as title:str")
    specs: list[FieldSpec] = []
    for text in fields:
        spec = _field(text, name, references)
        if any(other.name == spec.name for other in specs):
            raise ModelSpecError(f"the field {spec.name!r} is given twice")
        twin = next((o for o in specs if spec.reference and o.reference == spec.reference), None)
        if twin is not None:
            raise ModelSpecError(
                f"{twin.name} and {spec.name} both reference {spec.reference}: the generated "
                "table has one foreign key per referenced type"
            )
        specs.append(spec)
    return ModelSpec(name, entity, tuple(specs))
