"""The response-builder interface the native core implements, and its pure-Python version.

A builder compiles the :class:`Shape` of a root field once (``compile``) and then, per request,
turns what PostgreSQL returned — the JSON text of one document, or of each row of a list — into
the JSON bytes of that root field's value (``render_one`` / ``render_rows``). A connection root
field compiles with ``compile_connection`` and renders a page whose edges hold their node's JSON
text with ``render_connection``. Field errors and null propagation are reported in the
:class:`Rendered` result.

The Python implementation parses with orjson, completes values with :class:`Projector` and
serializes with orjson; the C implementation must produce the same bytes. A plan that selects a
``Decimal`` field anywhere reads its documents with :func:`exact_loads` instead, so that the
field can write the stored number's every digit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape
from fraiseql.native.projector import NullBubble, Projector
from fraiseql.sql.select import EdgeRows
from fraiseql.types.scalars import DECIMAL, JSONNumber

Loads = Callable[[str | bytes], Any]
"""Parses the JSON text of one document."""


@dataclass(slots=True)
class Rendered:
    """The JSON bytes of a root field's value, its field errors, and whether it nulled its parent.

    ``bubbled`` is true when a null reached a non-null root field: the whole ``data`` is null.
    """

    value: bytes
    errors: list[dict[str, Any]] = field(default_factory=list)
    bubbled: bool = False


class ResponseBuilder(Protocol):
    """Turns read-model JSON text into response bytes along a compiled plan."""

    name: str

    def compile(self, root: FieldPlan) -> Any:
        """A plan object for one root field, built once per document and operation."""
        ...

    def render_one(self, plan: Any, text: str | bytes | None) -> Rendered:
        """The value of a root field whose source is one document (or null)."""
        ...

    def render_rows(self, plan: Any, rows: Sequence[str | bytes]) -> Rendered:
        """The value of a list root field whose items are the documents of ``rows``."""
        ...

    def compile_connection(self, root: FieldPlan) -> Any:
        """A plan object for one connection root field."""
        ...

    def render_connection(self, plan: Any, page: Mapping[str, Any]) -> Rendered:
        """The value of a connection root field; ``page`` edges hold their node's JSON text."""
        ...


_new_float = float.__new__


def _json_number(text: str) -> JSONNumber:
    number = _new_float(JSONNumber, text)
    number.text = text
    return number


_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # the integers orjson reads as int, not float


def _json_integer(text: str) -> int | JSONNumber:
    if len(text) < 19:
        return int(text)
    if len(text) <= 20:
        value = int(text)
        if _INT_MIN <= value <= _INT_MAX:
            return value
    return _json_number(text)


def exact_loads(text: str | bytes) -> Any:
    """One document as ``orjson.loads`` reads it, its numbers keeping their text.

    The value is the one ``orjson.loads`` returns, except that each number orjson reads as a
    ``float`` (a fraction or an exponent, or an integer beyond 64 bits) is a
    :class:`~fraiseql.types.scalars.JSONNumber`: the same float, plus its text. The text is
    checked by orjson first, so that a document is refused exactly when, and with the error
    with which, ``orjson.loads`` refuses it (the ``json`` module accepts more: lone
    surrogates, ``NaN``, numbers beyond the double range). A document nested too deep for the
    ``json`` module is read by orjson alone.
    """
    parsed = orjson.loads(text)
    try:
        return json.loads(text, parse_float=_json_number, parse_int=_json_integer)
    except RecursionError:
        return parsed


def reads_decimals(shape: Shape) -> bool:
    """Whether a value of ``shape`` has a ``Decimal`` leaf anywhere (lists, objects, types)."""
    decimal = DECIMAL.serialize
    pending = [shape]
    while pending:
        current = pending.pop()
        if current.kind == LEAF:
            if current.serialize is decimal:
                return True
        elif current.kind == OBJECT:
            pending.extend(plan.shape for plan in current.fields if plan.shape is not None)
        elif current.kind == LIST:
            if current.item is not None:
                pending.append(current.item)
        else:
            pending.extend(current.by_type.values())
    return False


def loads_for(root: FieldPlan) -> Loads:
    """The parser of a root field's documents: :func:`exact_loads` when it reads a Decimal."""
    shape = root.shape
    return exact_loads if shape is not None and reads_decimals(shape) else orjson.loads


def parse_nodes(page: Mapping[str, Any], loads: Loads = orjson.loads) -> dict[str, Any]:
    """The connection ``page`` with each edge's node JSON text parsed into its document.

    The edges are an :class:`EdgeRows` (as auto connections read them) or a list of
    ``{"node": text, "cursor": ...}`` dicts. ``loads`` parses each node (see :func:`loads_for`).
    """
    edges = page["edges"]
    if isinstance(edges, EdgeRows):
        if loads is orjson.loads:
            return {**page, "edges": edges.as_dicts(parse=True)}
        return {
            **page,
            "edges": [
                {"node": loads(edge["node"]), "cursor": edge["cursor"]}
                for edge in edges.as_dicts(parse=False)
            ],
        }
    return {
        **page,
        "edges": [{"node": loads(edge["node"]), "cursor": edge["cursor"]} for edge in edges],
    }


@dataclass(slots=True, frozen=True)
class PythonPlan:
    """A root field plan for the Python builder: the field, and how to parse its documents."""

    root: FieldPlan
    loads: Loads

    @classmethod
    def of(cls, plan: PythonPlan | FieldPlan) -> PythonPlan:
        """``plan`` itself, or a root field plan compiled now (for callers that hold one)."""
        return plan if isinstance(plan, PythonPlan) else cls(plan, loads_for(plan))


class PythonResponseBuilder:
    """The pure-Python builder: orjson in, :class:`Projector`, orjson out.

    Its plans are :class:`PythonPlan` objects; the render methods also take a root field plan,
    which they then compile on each call.
    """

    name = "python"

    def compile(self, root: FieldPlan) -> PythonPlan:
        """The root field plan and the parser its documents need (see :func:`loads_for`)."""
        return PythonPlan(root, loads_for(root))

    def render_one(self, plan: PythonPlan | FieldPlan, text: str | bytes | None) -> Rendered:
        """Complete one document."""
        plan = PythonPlan.of(plan)
        return self.render_value(plan.root, None if text is None else plan.loads(text))

    def render_rows(self, plan: PythonPlan | FieldPlan, rows: Sequence[str | bytes]) -> Rendered:
        """Complete a list of documents."""
        plan = PythonPlan.of(plan)
        loads = plan.loads
        return self.render_value(plan.root, [loads(row) for row in rows])

    def compile_connection(self, root: FieldPlan) -> PythonPlan:
        """The same plan as for any other root field."""
        return self.compile(root)

    def render_connection(self, plan: PythonPlan | FieldPlan, page: Mapping[str, Any]) -> Rendered:
        """Complete a connection page after parsing its nodes."""
        plan = PythonPlan.of(plan)
        return self.render_value(plan.root, parse_nodes(page, plan.loads))

    @staticmethod
    def render_value(
        plan: FieldPlan,
        value: Any,
        projector: Projector | None = None,
    ) -> Rendered:
        """Complete an in-memory value (also used for custom resolvers' results)."""
        shape: Shape | None = plan.shape
        assert shape is not None
        projector = projector or Projector()
        try:
            completed = projector.complete(plan, shape, value, (None, plan.key))
        except NullBubble:
            return Rendered(b"null", projector.errors, bubbled=True)
        return Rendered(orjson.dumps(completed, default=_plain_float), projector.errors)


def _plain_float(value: Any) -> float:
    """A :class:`JSONNumber` a custom scalar returned as it is: orjson writes only exact floats."""
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


PYTHON_BUILDER = PythonResponseBuilder()
"""The shared pure-Python builder (it holds no state)."""
