"""The response-builder interface the native core implements, and its pure-Python version.

A builder compiles the :class:`Shape` of a root field once (``compile``) and then, per request,
turns what PostgreSQL returned — the JSON text of one document, or of each row of a list — into
the JSON bytes of that root field's value (``render_one`` / ``render_rows``). A connection root
field compiles with ``compile_connection`` and renders a page whose edges hold their node's JSON
text with ``render_connection``. Field errors and null propagation are reported in the
:class:`Rendered` result.

The Python implementation parses with orjson, completes values with :class:`Projector` and
serializes with orjson; the C implementation must produce the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from fraiseql.execution.shapes import FieldPlan, Shape
from fraiseql.native.projector import NullBubble, Projector
from fraiseql.sql.select import EdgeRows


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


def parse_nodes(page: Mapping[str, Any]) -> dict[str, Any]:
    """The connection ``page`` with each edge's node JSON text parsed into its document.

    The edges are an :class:`EdgeRows` (as auto connections read them) or a list of
    ``{"node": text, "cursor": ...}`` dicts.
    """
    edges = page["edges"]
    if isinstance(edges, EdgeRows):
        return {**page, "edges": edges.as_dicts(parse=True)}
    loads = orjson.loads
    return {
        **page,
        "edges": [{"node": loads(edge["node"]), "cursor": edge["cursor"]} for edge in edges],
    }


class PythonResponseBuilder:
    """The pure-Python builder: orjson in, :class:`Projector`, orjson out."""

    name = "python"

    def compile(self, root: FieldPlan) -> FieldPlan:
        """The root field plan itself: Python needs no other form."""
        return root

    def render_one(self, plan: FieldPlan, text: str | bytes | None) -> Rendered:
        """Complete one document."""
        return self.render_value(plan, None if text is None else orjson.loads(text))

    def render_rows(self, plan: FieldPlan, rows: Sequence[str | bytes]) -> Rendered:
        """Complete a list of documents."""
        loads = orjson.loads
        return self.render_value(plan, [loads(row) for row in rows])

    def compile_connection(self, root: FieldPlan) -> FieldPlan:
        """The root field plan itself, as for any other root field."""
        return root

    def render_connection(self, plan: FieldPlan, page: Mapping[str, Any]) -> Rendered:
        """Complete a connection page after parsing its nodes."""
        return self.render_value(plan, parse_nodes(page))

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
        return Rendered(orjson.dumps(completed), projector.errors)


PYTHON_BUILDER = PythonResponseBuilder()
"""The shared pure-Python builder (it holds no state)."""
