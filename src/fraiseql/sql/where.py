"""``where`` inputs → a SQL condition over a read model's JSONB document.

Semantics (the same in the Python oracle of the tests):
- every operator is false on a missing or null value, except ``isNull``;
- the operators given in one filter object, and the fields of one where object, are AND-ed;
- ``and: []`` is true, ``or: []`` is false, ``not`` negates (null counts as false);
- lists of objects: ``some`` (at least one item matches), ``none``, ``all`` (true on ``[]``).
A null operand is rejected: write ``isNull`` to test for null.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from fraiseql.execution.errors import FraiseQLError
from fraiseql.schema.model import FieldModel, SchemaModel, TypeModel
from fraiseql.schema.refs import TypeRef
from fraiseql.sql.identifiers import Parameters, quote_identifier, quote_literal
from fraiseql.types.definitions import EnumDefinition, TypeDefinition
from fraiseql.types.scalars import ScalarDefinition

_LABEL = r"[A-Za-z0-9_-]{1,1000}[@*%]*"
_QUANTIFIER = r"(\{(\d{1,5}|\d{0,5},\d{0,5})\})?"
_LQUERY_ITEM = rf"(\*{_QUANTIFIER}|!?{_LABEL}(\|{_LABEL})*{_QUANTIFIER})"
_LQUERY = re.compile(rf"{_LQUERY_ITEM}(\.{_LQUERY_ITEM})*")
_LQUERY_BOUNDS = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _is_lquery(text: str) -> bool:
    """Whether ``text`` is an lquery PostgreSQL accepts (bounds at most 65535, low <= high)."""
    if len(text) > 10_000 or not _LQUERY.fullmatch(text):
        return False
    for low, comma, high in _LQUERY_BOUNDS.findall(text):
        start = int(low or 0)
        end = int(high) if high else (65535 if comma else start)
        if not start <= end <= 65535:
            return False
    return True


TRUE = "TRUE"
FALSE = "FALSE"

_COMPARISON = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_STRING_KINDS = ("string", "id")


class FilterError(FraiseQLError):
    """A ``where`` input that cannot be compiled (null operand, unsupported combination)."""


def _and(parts: list[str]) -> str:
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _or(parts: list[str]) -> str:
    if not parts:
        return FALSE
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _array_of(json_expr: str) -> str:
    """A JSONB expression that is ``json_expr`` when it is an array and ``[]`` otherwise."""
    return f"(CASE WHEN jsonb_typeof({json_expr}) = 'array' THEN {json_expr} ELSE '[]'::jsonb END)"


def _stored_enum_text(value: Any) -> str:
    """The text of an enum member as read models store it (its value)."""
    return str(value.value if isinstance(value, enum.Enum) else value)


def _text(to_text: Any, value: Any) -> str:
    """A parsed input value as SQL text; strings given by Python callers pass as they are."""
    return value if isinstance(value, str) else str(to_text(value))


class FieldAccess:
    """How to read one field of a document: as text, as JSONB, and typed."""

    __slots__ = ("casts", "json", "text", "typed_column")

    def __init__(
        self,
        base: str,
        key: str,
        typed_column: str | None = None,
        casts: Mapping[str, str] | None = None,
    ) -> None:
        literal = quote_literal(key)
        self.json = f"({base}->{literal})"
        self.text = f"({base}->>{literal})"
        self.typed_column = typed_column
        self.casts = casts or {}

    def typed(self, sql_type: str) -> str:
        """The value cast to ``sql_type`` (a real column when the read model has one).

        A type in ``casts`` is read through its function (``fraiseql_timestamptz(...)``),
        which an expression index can serve, where the plain cast could not be indexed.
        """
        if self.typed_column is not None:
            return self.typed_column
        if sql_type == "text":
            return self.text
        function = self.casts.get(sql_type)
        return f"{function}({self.text})" if function else f"{self.text}::{sql_type}"


class WhereCompiler:
    """Compiles where inputs of one schema; values go to ``params``."""

    def __init__(
        self, schema: SchemaModel, params: Parameters, *, alias_counter: list[int] | None = None
    ) -> None:
        self.schema = schema
        self.params = params
        self._aliases = alias_counter if alias_counter is not None else [0]

    def compile(
        self,
        model: TypeModel,
        where: Mapping[str, Any] | None,
        base: str,
        columns: Mapping[str, str] | None = None,
    ) -> str:
        """The condition of ``where`` on documents of ``model`` found at JSONB ``base``.

        ``columns`` maps Python field names to real typed columns (the read model's ``id`` and
        ``identifier``), used instead of the JSON path so that their indexes serve.
        """
        if where is None:
            return TRUE
        parts: list[str] = []
        for key, value in where.items():
            if value is None:
                raise FilterError(f"'{key}' in a where filter cannot be null; leave it out instead")
            if key == "and":
                parts.append(_and([self.compile(model, item, base, columns) for item in value]))
            elif key == "or":
                parts.append(_or([self.compile(model, item, base, columns) for item in value]))
            elif key == "not":
                parts.append(f"(({self.compile(model, value, base, columns)}) IS NOT TRUE)")
            else:
                field = model.fields[key]
                typed_column = (columns or {}).get(field.python_name)
                access = FieldAccess(base, field.python_name, typed_column, self.schema.casts)
                parts.append(self._field(field, field.type_ref, access, value))
        return _and(parts)

    def _field(
        self, field: FieldModel, ref: TypeRef, access: FieldAccess, ops: Mapping[str, Any]
    ) -> str:
        named = ref.innermost()
        if ref.is_list:
            if isinstance(named, TypeDefinition):
                return self._object_list(named, access, ops)
            return self._scalar_list(named, access, ops)  # type: ignore[arg-type]
        if isinstance(named, TypeDefinition):
            return self.compile(self.schema.types[named.name], ops, access.json)
        if isinstance(named, EnumDefinition):
            return self._leaf("enum", "text", _stored_enum_text, access, ops, field.graphql_name)
        assert isinstance(named, ScalarDefinition)
        return self._leaf(
            named.filter_kind, named.sql_type, named.to_sql_text, access, ops, field.graphql_name
        )

    def expression_condition(
        self,
        expression: str,
        named: ScalarDefinition | EnumDefinition,
        sql_type: str,
        ops: Mapping[str, Any],
        name: str,
    ) -> str:
        """The condition of a leaf filter (``{gt: 3}``) on a typed SQL ``expression``.

        The same operators and semantics as on a field; used by ``having`` on aggregates.
        """
        access = FieldAccess("NULL", name, typed_column=expression)
        if isinstance(named, EnumDefinition):
            return self._leaf("enum", sql_type, _stored_enum_text, access, ops, name)
        return self._leaf(named.filter_kind, sql_type, named.to_sql_text, access, ops, name)

    def _value(self, to_text: Any, value: Any, sql_type: str) -> str:
        return f"CAST({self.params.text(_text(to_text, value))} AS {sql_type})"

    def _values(self, to_text: Any, values: list[Any], sql_type: str) -> str:
        return (
            f"CAST({self.params.text_array([_text(to_text, v) for v in values])} AS {sql_type}[])"
        )

    def _leaf(
        self,
        kind: str,
        sql_type: str,
        to_text: Any,
        access: FieldAccess,
        ops: Mapping[str, Any],
        name: str,
    ) -> str:
        parts: list[str] = []
        if kind == "json":
            return self._json(access, ops, name)
        typed = access.typed(sql_type)
        for op, operand in ops.items():
            if operand is None:
                raise FilterError(
                    f"operator '{op}' on '{name}' cannot be null; use isNull to test for null"
                )
            if op == "isNull":
                parts.append(f"({typed} IS {'' if operand else 'NOT '}NULL)")
            elif op in _COMPARISON:
                parts.append(
                    f"({typed} {_COMPARISON[op]} {self._value(to_text, operand, sql_type)})"
                )
            elif op == "in":
                parts.append(f"({typed} = ANY({self._values(to_text, operand, sql_type)}))")
            elif op == "nin":  # ``NULL = ANY('{}')`` is false, not null: test null first
                parts.append(
                    f"({typed} IS NOT NULL AND NOT ({typed} = ANY("
                    f"{self._values(to_text, operand, sql_type)})))"
                )
            elif op == "contains" and kind in _STRING_KINDS:
                parts.append(f"(strpos({typed}, {self.params.text(operand)}) > 0)")
            elif op == "icontains":
                parts.append(f"(strpos(lower({typed}), lower({self.params.text(operand)})) > 0)")
            elif op == "startsWith":
                parts.append(f"starts_with({typed}, {self.params.text(operand)})")
            elif op == "endsWith":
                value = self.params.text(operand)
                parts.append(f"(right({typed}, length({value})) = {value})")
            elif op == "ancestorOf":
                parts.append(f"({typed} @> {self._value(to_text, operand, 'ltree')})")
            elif op == "descendantOf":
                parts.append(f"({typed} <@ {self._value(to_text, operand, 'ltree')})")
            elif op == "matches":
                if not _is_lquery(operand):
                    raise FilterError(
                        f"'{name}.matches' needs an lquery pattern such as 'tech.*' or "
                        f"'*.postgres|mysql.*', got {operand[:40]!r}"
                    )
                parts.append(f"({typed} ~ CAST({self.params.text(operand)} AS lquery))")
            elif op == "containedBy":
                parts.append(f"({access.text}::inet <<= CAST({self.params.text(operand)} AS cidr))")
            elif op == "contains" and kind == "inet":
                parts.append(f"({access.text}::inet >>= CAST({self.params.text(operand)} AS inet))")
            else:  # the schema only offers the operators above
                raise FilterError(f"unknown operator '{op}' on '{name}'")
        return _and(parts)

    def _json(self, access: FieldAccess, ops: Mapping[str, Any], name: str) -> str:
        parts: list[str] = []
        value_present = f"({access.json} IS NOT NULL AND jsonb_typeof({access.json}) <> 'null')"
        for op, operand in ops.items():
            if operand is None:
                raise FilterError(
                    f"operator '{op}' on '{name}' cannot be null; use isNull to test for null"
                )
            if op == "isNull":
                parts.append(f"({value_present} IS {'NOT ' if operand else ''}TRUE)")
                continue
            if op == "hasKey":
                parts.append(
                    f"(jsonb_typeof({access.json}) = 'object' "
                    f"AND {access.json} ? {self.params.text(operand)})"
                )
                continue
            try:  # json, not orjson: exact big integers, and no inf/nan written as null
                text = json.dumps(operand, allow_nan=False)
            except ValueError:
                raise FilterError(
                    f"operator '{op}' on '{name}' has a number JSON cannot represent"
                ) from None
            literal = f"CAST({self.params.text(text)} AS jsonb)"
            if op == "eq":
                parts.append(f"({value_present} AND {access.json} = {literal})")
            elif op == "contains":
                parts.append(f"({value_present} AND {access.json} @> {literal})")
            elif op == "containedBy":
                parts.append(f"({value_present} AND {access.json} <@ {literal})")
            else:
                raise FilterError(f"unknown operator '{op}' on '{name}'")
        return _and(parts)

    def _scalar_list(
        self, named: ScalarDefinition | EnumDefinition, access: FieldAccess, ops: Mapping[str, Any]
    ) -> str:
        to_text: Callable[[Any], str]
        if isinstance(named, EnumDefinition):
            sql_type, to_text, kind = "text", _stored_enum_text, "enum"
        else:
            sql_type, to_text, kind = named.sql_type, named.to_sql_text, named.filter_kind
        array = _array_of(access.json)
        is_array = f"(jsonb_typeof({access.json}) = 'array')"
        parts: list[str] = []
        for op, operand in ops.items():
            if operand is None:
                raise FilterError(f"operator '{op}' cannot be null; use isNull to test for null")
            if op == "isNull":
                parts.append(
                    f"({access.json} IS NULL OR jsonb_typeof({access.json}) = 'null')"
                    if operand
                    else f"({access.json} IS NOT NULL AND jsonb_typeof({access.json}) <> 'null')"
                )
                continue
            if op == "isEmpty":
                size = f"jsonb_array_length({array})"
                parts.append(f"({is_array} AND {size} {'=' if operand else '>'} 0)")
                continue
            element = self._alias("x")
            item = f"{element}.v" if sql_type == "text" else f"{element}.v::{sql_type}"
            if op == "contains" and kind in (*_STRING_KINDS, "enum"):
                wanted_json = orjson.dumps([_text(to_text, v) for v in operand]).decode()
                literal = f"CAST({self.params.text(wanted_json)} AS jsonb)"
                parts.append(f"({is_array} AND {access.json} @> {literal})")
            elif op == "contains":
                wanted = self._alias("w")
                parts.append(
                    f"({is_array} AND NOT EXISTS (SELECT 1 FROM "
                    f"unnest({self._values(to_text, operand, sql_type)}) "
                    f"AS {wanted}(v) WHERE NOT EXISTS (SELECT 1 FROM "
                    f"jsonb_array_elements_text({array}) "
                    f"AS {element}(v) WHERE {item} = {wanted}.v)))"
                )
            elif op == "overlaps":
                parts.append(
                    f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({array}) AS {element}(v) "
                    f"WHERE {item} = ANY({self._values(to_text, operand, sql_type)}))"
                )
            else:
                raise FilterError(f"unknown list operator '{op}'")
        return _and(parts)

    def _object_list(
        self, named: TypeDefinition, access: FieldAccess, ops: Mapping[str, Any]
    ) -> str:
        item_model = self.schema.types[named.name]
        array = _array_of(access.json)
        is_array = f"(jsonb_typeof({access.json}) = 'array')"
        parts: list[str] = []
        for op, operand in ops.items():
            if operand is None:
                raise FilterError(f"operator '{op}' cannot be null")
            if op == "isEmpty":
                parts.append(
                    f"({is_array} AND jsonb_array_length({array}) {'=' if operand else '>'} 0)"
                )
                continue
            element = self._alias("e")
            condition = self.compile(item_model, operand, f"{element}.v")
            source = f"jsonb_array_elements({array}) AS {element}(v)"
            if op == "some":
                parts.append(f"EXISTS (SELECT 1 FROM {source} WHERE {condition})")
            elif op == "none":  # like every operator, false on a missing or null list
                parts.append(
                    f"({is_array} AND NOT EXISTS (SELECT 1 FROM {source} WHERE {condition}))"
                )
            elif op == "all":
                parts.append(
                    f"({is_array} AND NOT EXISTS "
                    f"(SELECT 1 FROM {source} WHERE ({condition}) IS NOT TRUE))"
                )
            else:
                raise FilterError(f"unknown list operator '{op}'")
        return _and(parts)

    def _alias(self, prefix: str) -> str:
        self._aliases[0] += 1
        return quote_identifier(f"{prefix}{self._aliases[0]}")
