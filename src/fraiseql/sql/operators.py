"""The filter operators of each kind of field, shared by the schema and the SQL compiler."""

from __future__ import annotations

from typing import Literal

Operand = Literal["value", "list", "boolean", "string", "cidr", "ip", "json"]
"""How an operator's input is typed: the field's own scalar, a list of it, or a fixed type."""

_COMPARABLE: dict[str, Operand] = {
    "eq": "value",
    "neq": "value",
    "in": "list",
    "nin": "list",
    "lt": "value",
    "lte": "value",
    "gt": "value",
    "gte": "value",
    "isNull": "boolean",
}
_EQUATABLE: dict[str, Operand] = {
    "eq": "value",
    "neq": "value",
    "in": "list",
    "nin": "list",
    "isNull": "boolean",
}

OPERATORS_BY_KIND: dict[str, dict[str, Operand]] = {
    "string": {
        **_COMPARABLE,
        # Substring operands are plain strings: "acme.example" is not a valid EmailAddress.
        "contains": "string",
        "icontains": "string",
        "startsWith": "string",
        "endsWith": "string",
    },
    "id": {**_EQUATABLE},
    "number": {**_COMPARABLE},
    "temporal": {**_COMPARABLE},
    "boolean": {"eq": "value", "neq": "value", "isNull": "boolean"},
    "uuid": {**_EQUATABLE},
    "enum": {**_EQUATABLE},
    "ltree": {
        **_EQUATABLE,
        "ancestorOf": "value",
        "descendantOf": "value",
        "matches": "string",
    },
    "inet": {**_EQUATABLE, "containedBy": "cidr", "contains": "ip"},
    "json": {
        "eq": "json",
        "contains": "json",
        "containedBy": "json",
        "hasKey": "string",
        "isNull": "boolean",
    },
    "list": {"contains": "list", "overlaps": "list", "isEmpty": "boolean", "isNull": "boolean"},
}
"""Operator name → operand type, per filter kind (``list`` is a list of scalars)."""

OBJECT_LIST_OPERATORS = ("some", "none", "all")
"""Operators on a list of nested objects; each takes the item type's where input."""
