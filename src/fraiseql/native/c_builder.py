"""The C response builder: ``fraiseql._native`` for the ordinary path, Python for the rest.

``compile`` turns a root field's :class:`Shape` into the tuple description the extension reads.
Plans the C core does not cover (custom scalars, abstract types, Python field resolvers, enums
with non-string values) compile to ``None`` and always use the Python builder. At render time the
C core answers ``None`` whenever the Python builder could decide differently (an error to report,
a value to convert, unusual JSON), and the Python builder then renders the same input.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import orjson

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape
from fraiseql.native.builder import PYTHON_BUILDER, PythonPlan, Rendered
from fraiseql.native.canonical import float_output, json_output
from fraiseql.native.connection import Declined, Writer, compile_envelope
from fraiseql.types import scalars

# Leaf codes of _native.c, by the output function the Python builder uses for that scalar.
_LEAF_CODES: dict[Callable[[Any], Any], int] = {
    scalars.STRING.serialize: 0,
    scalars.EMAIL.serialize: 0,
    scalars.IP_ADDRESS.serialize: 0,
    scalars.CIDR_SCALAR.serialize: 0,
    scalars.LTREE.serialize: 0,
    scalars.DATETIME.serialize: 0,
    scalars.DATE.serialize: 0,
    scalars.TIME.serialize: 0,
    scalars.INT.serialize: 1,
    float_output: 2,
    scalars.BOOLEAN.serialize: 3,
    scalars.ID_SCALAR.serialize: 4,
    scalars.UUID_SCALAR.serialize: 5,
    scalars.DECIMAL.serialize: 6,
    json_output: 7,
}
_ENUM = 8

Description = tuple[Any, ...]


class NotCompilable(Exception):  # noqa: N818 - a signal, handled here
    """The shape needs the Python builder."""


def _describe(shape: Shape) -> Description:
    if shape.has_resolvers:
        raise NotCompilable
    if shape.kind == LEAF:
        assert shape.serialize is not None
        members = getattr(shape.serialize, "fraiseql_enum_members", None)
        if members is not None:
            enums = enum_values(members)
            if enums is None:
                raise NotCompilable
            return (LEAF, shape.nullable, _ENUM, None, None, None, enums)
        code = _LEAF_CODES.get(shape.serialize)
        if code is None:
            raise NotCompilable
        return (LEAF, shape.nullable, code, None, None, None, None)
    if shape.kind == LIST:
        assert shape.item is not None
        return (LIST, shape.nullable, 0, None, None, _describe(shape.item), None)
    if shape.kind != OBJECT:
        raise NotCompilable
    fields = tuple(
        (
            orjson.dumps(field.key) + b":",
            field.source.encode(),
            field.is_typename,
            None if field.shape is None else _describe(field.shape),
        )
        for field in shape.fields
    )
    return (OBJECT, shape.nullable, 0, orjson.dumps(shape.type_name), fields, None, None)


def enum_values(members: Sequence[tuple[Any, str]]) -> tuple[tuple[bytes, bytes], ...] | None:
    """The C form of an enum's (stored value, GraphQL name) pairs; ``None`` unless all strings."""
    pairs = []
    for stored, name in members:
        value = stored.value if isinstance(stored, enum.Enum) else stored
        if not isinstance(value, str):
            return None
        pairs.append((value.encode(), orjson.dumps(name)))
    return tuple(pairs)


@dataclass(slots=True)
class CompiledRoot:
    """A root field plan: the Python form, and the C plan when the C core covers it."""

    root: FieldPlan
    native: Any
    python: PythonPlan


@dataclass(slots=True)
class CompiledConnection:
    """A connection root field plan: the Python form, and the page writer when C covers it."""

    root: FieldPlan
    envelope: Writer | None
    python: PythonPlan


class CResponseBuilder:
    """Renders with ``fraiseql._native`` and falls back to Python per call."""

    name = "c"

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def compile(self, root: FieldPlan) -> CompiledRoot:
        """Compile the root field's shape for the C core (``None`` when it needs Python)."""
        assert root.shape is not None
        return CompiledRoot(root, self._plan(root.shape), PYTHON_BUILDER.compile(root))

    def render_one(self, plan: CompiledRoot, text: str | bytes | None) -> Rendered:
        """One document: C when it can, else Python on the same text."""
        if plan.native is not None:
            value = self.module.render_one(plan.native, text)
            if value is not None:
                return Rendered(value)
        return PYTHON_BUILDER.render_one(plan.python, text)

    def render_rows(self, plan: CompiledRoot, rows: Sequence[str | bytes]) -> Rendered:
        """A list of documents: C when it can, else Python on the same rows."""
        if plan.native is not None:
            value = self.module.render_rows(plan.native, rows)
            if value is not None:
                return Rendered(value)
        return PYTHON_BUILDER.render_rows(plan.python, rows)

    def compile_connection(self, root: FieldPlan) -> CompiledConnection:
        """Compile a C plan per ``node`` selection of a connection, and its envelope writer."""
        assert root.shape is not None
        envelope = compile_envelope(
            root.shape, self._plan, self.module.render_one, self.module.render_edges
        )
        return CompiledConnection(root, envelope, PYTHON_BUILDER.compile_connection(root))

    def render_connection(self, plan: CompiledConnection, page: Mapping[str, Any]) -> Rendered:
        """A connection page: nodes by C inside a written envelope when it can, else Python."""
        if plan.envelope is not None:
            try:
                return Rendered(plan.envelope(page))
            except Declined:
                pass
        return PYTHON_BUILDER.render_connection(plan.python, page)

    def _plan(self, shape: Shape) -> Any:
        try:
            return self.module.compile_plan(_describe(shape))
        except (NotCompilable, ValueError):
            return None  # a shape the C core does not cover (or nests too deep): Python
