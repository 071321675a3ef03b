"""A Python evaluation of ``where`` filters: the oracle that SQL filters are checked against.

It implements the semantics stated in :mod:`fraiseql.sql.where` directly on the JSON documents of
a read model, without looking at the SQL compiler:

- every operator is false on a missing or null value, except ``isNull``;
- the operators of one filter object, and the fields of one where object, are AND-ed;
- ``and: []`` is true, ``or: []`` is false, ``not`` negates;
- lists of objects: ``some``, ``none``, ``all`` (vacuously true on an empty list), and like every
  other operator they are false on a missing or null list;
- the operands are the values a client sends in GraphQL variables (enum names, ISO strings, …).

Documents are decoded with ``json.loads(text, parse_float=Decimal)`` so that numbers keep the exact
decimal value PostgreSQL stores in ``jsonb``. Comparisons follow what the SQL types do in a database
created with ``LC_COLLATE``/``LC_CTYPE`` ``C``: text compares by code point and ``lower`` folds ASCII
letters only; ``Float`` compares as IEEE doubles, ``Int`` and ``Decimal`` as exact decimals.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

# -- the shape of the filtered types, as the oracle sees it ---------------------------------------


@dataclass(frozen=True)
class Leaf:
    """A scalar or enum field; ``kind`` names how its values compare (see ``_CONVERT``)."""

    python_name: str
    kind: str
    enum: type[enum.Enum] | None = None


@dataclass(frozen=True)
class ScalarList:
    """A list of scalars or enums."""

    python_name: str
    item: Leaf


@dataclass(frozen=True)
class Nested:
    """A nested object (``many=False``) or a list of them (``many=True``)."""

    python_name: str
    spec: TypeSpec
    many: bool = False


@dataclass(frozen=True)
class TypeSpec:
    """The filterable fields of a type, by GraphQL name."""

    name: str
    fields: dict[str, Leaf | ScalarList | Nested] = field(default_factory=dict, hash=False)

    def __hash__(self) -> int:
        return hash(self.name)


# -- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Inet:
    """An ``inet``/``cidr`` value: address family, address bits and mask length."""

    version: int
    address: int
    prefix: int

    @property
    def bits(self) -> int:
        return 32 if self.version == 4 else 128

    def network_of(self, prefix: int) -> int:
        """The first ``prefix`` bits of the address."""
        return self.address >> (self.bits - prefix)


def _inet(text: str) -> Inet:
    interface = ipaddress.ip_interface(text)
    return Inet(interface.version, int(interface.ip), interface.network.prefixlen)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    return float(value)


def _ltree(text: str) -> tuple[str, ...]:
    return tuple(text.split(".")) if text else ()


def _datetime(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, text
    return parsed


_CONVERT = {
    "string": str,
    "id": str,
    "int": _number,
    "decimal": _number,
    "float": _float,
    "boolean": bool,
    "uuid": lambda v: uuid.UUID(str(v)),
    "datetime": _datetime,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "ltree": _ltree,
    "inet": _inet,
    "cidr": _inet,
}
"""Stored JSON value or client operand → comparable Python value, per kind (enums aside)."""


def stored_value(leaf: Leaf, raw: Any) -> Any:
    """The comparable value of a stored JSON value (``None`` for missing or null)."""
    if raw is None:
        return None
    if leaf.kind == "enum":
        return str(raw)
    return _CONVERT[leaf.kind](raw)


def operand_value(leaf: Leaf, value: Any) -> Any:
    """The comparable value of an operand as sent in GraphQL variables."""
    if leaf.kind == "enum":
        assert leaf.enum is not None
        return str(leaf.enum[value].value)
    return _CONVERT[leaf.kind](value)


def ascii_lower(text: str) -> str:
    """``lower()`` of PostgreSQL under ``LC_CTYPE=C``: only A-Z change."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# -- lquery --------------------------------------------------------------------------------------

_QUANTIFIER = re.compile(r"^(.*?)(?:\{(\d*)(,?)(\d*)\})?$")


@dataclass(frozen=True)
class _Level:
    any_label: bool
    negated: bool
    alternatives: tuple[tuple[str, bool, bool], ...]  # (label, prefix match, case-insensitive)
    low: int
    high: int


def _parse_lquery(text: str) -> tuple[_Level, ...]:
    """The levels of an lquery in the subset the strategies generate."""
    levels = []
    for part in text.split("."):
        match = _QUANTIFIER.match(part)
        assert match is not None
        body, low, comma, high = match.groups()
        any_label = body == "*"
        default = (0, 1 << 16) if any_label else (1, 1)
        if low is None:
            bounds = default
        else:
            lo = int(low or 0)
            bounds = (lo, int(high) if high else (1 << 16 if comma else lo))
        negated = body.startswith("!")
        alternatives = []
        if not any_label:
            for alternative in body.lstrip("!").split("|"):
                label = alternative.rstrip("@*%")
                modifiers = alternative[len(label) :]
                assert "%" not in modifiers, "the oracle does not model the % modifier"
                alternatives.append((label, "*" in modifiers, "@" in modifiers))
        levels.append(_Level(any_label, negated, tuple(alternatives), *bounds))
    return tuple(levels)


def _label_matches(level: _Level, label: str) -> bool:
    if level.any_label:
        return True
    found = False
    for wanted, prefix, insensitive in level.alternatives:
        have, want = (ascii_lower(label), ascii_lower(wanted)) if insensitive else (label, wanted)
        if have.startswith(want) if prefix else have == want:
            found = True
            break
    return found != level.negated


def lquery_matches(pattern: str, labels: tuple[str, ...]) -> bool:
    """``ltree ~ lquery``: the labels, as a sequence, match the levels like a regular expression."""
    levels = _parse_lquery(pattern)

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(levels):
            return j == len(labels)
        level = levels[i]
        for count in range(level.low, min(level.high, len(labels) - j) + 1):
            if all(_label_matches(level, label) for label in labels[j : j + count]) and match(
                i + 1, j + count
            ):
                return True
        return False

    return match(0, 0)


# -- jsonb ---------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_primitive(value: Any) -> bool:
    return not isinstance(value, dict | list)


def json_primitive_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON scalars in ``jsonb``: numbers by value, others by type and value."""
    if _is_number(a) and _is_number(b):
        return _number(a) == _number(b)
    if _is_number(a) or _is_number(b):
        return False
    return type(a) is type(b) and a == b


def json_equal(a: Any, b: Any) -> bool:
    """``jsonb = jsonb``: arrays in order, objects by key set, scalars by value."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_primitive(a) and _is_primitive(b):
        return json_primitive_equal(a, b)
    return False


def json_contains(a: Any, b: Any, *, top: bool = True) -> bool:
    """``a @> b`` for ``jsonb``.

    Objects contain objects whose keys they have with contained values; arrays contain arrays
    whose every element they contain (a scalar element equal to a scalar of theirs, a container
    element contained in one of their containers), regardless of order and duplicates; scalars
    contain equal scalars. Only at the top level, an array also contains a scalar that is one
    of its elements.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        return all(k in a and json_contains(a[k], v, top=False) for k, v in b.items())
    if isinstance(a, list) and isinstance(b, list):
        return all(_array_has(a, item) for item in b)
    if isinstance(a, list) and _is_primitive(b):
        return top and _array_has(a, b)
    if _is_primitive(a) and _is_primitive(b):
        return json_primitive_equal(a, b)
    return False


def _array_has(array: list[Any], wanted: Any) -> bool:
    if _is_primitive(wanted):
        return any(_is_primitive(x) and json_primitive_equal(x, wanted) for x in array)
    return any(
        type(x) is type(wanted) and json_contains(x, wanted, top=False)
        for x in array
        if not _is_primitive(x)
    )


# -- evaluation ----------------------------------------------------------------------------------


def matches(spec: TypeSpec, where: Mapping[str, Any], document: Any) -> bool:
    """Whether ``document`` (a decoded JSON value, normally an object) satisfies ``where``."""
    source = document if isinstance(document, dict) else {}
    for key, value in where.items():
        if key == "and":
            result = all(matches(spec, item, source) for item in value)
        elif key == "or":
            result = any(matches(spec, item, source) for item in value)
        elif key == "not":
            result = not matches(spec, value, source)
        else:
            result = _field(spec.fields[key], value, source.get(spec.fields[key].python_name))
        if not result:
            return False
    return True


def _field(target: Leaf | ScalarList | Nested, ops: Mapping[str, Any], raw: Any) -> bool:
    if isinstance(target, Nested):
        if not target.many:
            return matches(target.spec, ops, raw)
        return all(_object_list(target.spec, op, operand, raw) for op, operand in ops.items())
    if isinstance(target, ScalarList):
        return all(_scalar_list(target.item, op, operand, raw) for op, operand in ops.items())
    if target.kind == "json":
        return all(_json(op, operand, raw) for op, operand in ops.items())
    value = stored_value(target, raw)
    return all(_leaf(target, op, operand, value) for op, operand in ops.items())


def _leaf(leaf: Leaf, op: str, operand: Any, value: Any) -> bool:
    if op == "isNull":
        return (value is None) == operand
    if value is None:
        return False
    if op in ("in", "nin"):
        found = any(value == operand_value(leaf, item) for item in operand)
        return found if op == "in" else not found
    if op in ("eq", "neq", "lt", "lte", "gt", "gte"):
        other = operand_value(leaf, operand)
        return {
            "eq": value == other,
            "neq": value != other,
            "lt": value < other,
            "lte": value <= other,
            "gt": value > other,
            "gte": value >= other,
        }[op]
    if leaf.kind in ("string", "id"):
        return {
            "contains": lambda: operand in value,
            "icontains": lambda: ascii_lower(operand) in ascii_lower(value),
            "startsWith": lambda: value.startswith(operand),
            "endsWith": lambda: value.endswith(operand),
        }[op]()
    if leaf.kind == "ltree":
        if op == "matches":
            return lquery_matches(operand, value)
        other = operand_value(leaf, operand)
        if op == "ancestorOf":
            return other[: len(value)] == value
        assert op == "descendantOf", op
        return value[: len(other)] == other
    assert leaf.kind in ("inet", "cidr"), leaf.kind
    if op == "containedBy":  # value <<= network
        network = _inet(operand)
        return (
            value.version == network.version
            and value.prefix >= network.prefix
            and value.network_of(network.prefix) == network.network_of(network.prefix)
        )
    assert op == "contains", op  # value >>= address
    address = _inet(operand)
    return (
        value.version == address.version
        and value.prefix <= address.prefix
        and value.network_of(value.prefix) == address.network_of(value.prefix)
    )


def _json(op: str, operand: Any, raw: Any) -> bool:
    if op == "isNull":
        return (raw is None) == operand
    if raw is None:
        return False
    if op == "hasKey":
        return isinstance(raw, dict) and operand in raw
    if op == "eq":
        return json_equal(raw, operand)
    if op == "contains":
        return json_contains(raw, operand)
    assert op == "containedBy", op
    return json_contains(operand, raw)


def _scalar_list(item: Leaf, op: str, operand: Any, raw: Any) -> bool:
    if op == "isNull":
        return (raw is None) == operand
    if not isinstance(raw, list):
        return False
    if op == "isEmpty":
        return (len(raw) == 0) == operand
    values = [stored_value(item, element) for element in raw]
    wanted = [operand_value(item, value) for value in operand]
    if op == "contains":
        return all(any(w == v for v in values if v is not None) for w in wanted)
    assert op == "overlaps", op
    return any(v is not None and v in wanted for v in values)


def _object_list(spec: TypeSpec, op: str, operand: Any, raw: Any) -> bool:
    if not isinstance(raw, list):
        return False
    if op == "isEmpty":
        return (len(raw) == 0) == operand
    hits = [matches(spec, operand, element) for element in raw]
    if op == "some":
        return any(hits)
    if op == "none":
        return not any(hits)
    assert op == "all", op
    return all(hits)
