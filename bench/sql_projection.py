"""The other design: SQL builds the projected object, Python only joins the row texts.

``projected_sql`` rewrites the executor's own list statement (``SELECT t."data"::text FROM ...``)
so that PostgreSQL returns, per row, the GraphQL value of the selection: response keys in
camelCase (aliases honoured), ``__typename`` as a literal, enum values mapped to their GraphQL
names, nested objects with ``jsonb_build_object`` and lists of objects with ``jsonb_agg`` over
``jsonb_array_elements`` (order kept with ``WITH ORDINALITY``). This is a prototype of what the
planner would generate, written from the same :class:`Shape` the native core compiles.

Two flavours: ``jsonb`` (``jsonb_build_object``/``jsonb_agg``, the usual choice; jsonb sorts the
keys of an object by length then bytes, so the response does not keep the selection's order)
and ``json`` (``json_build_object``/``json_agg``, which keep it). What it does not do, and the
native core does: report a null in a non-null position or a value a scalar cannot represent as
a GraphQL error (here they silently pass through or become null).
"""

from __future__ import annotations

from typing import Any

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, Shape


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _enum_members(shape: Shape) -> tuple[tuple[Any, str], ...] | None:
    return getattr(shape.serialize, "fraiseql_enum_members", None)


class Projection:
    """Builds the SQL expression of a shape over a ``jsonb`` source expression."""

    def __init__(self, flavour: str = "jsonb") -> None:
        if flavour not in ("jsonb", "json"):
            raise ValueError(flavour)
        self.flavour = flavour
        self.aliases = 0

    def value(self, shape: Shape, source: str, *, known_object: bool = False) -> str:
        if shape.kind == LEAF:
            members = _enum_members(shape)
            if members is None:
                return source  # strings, numbers, booleans, ids: the stored JSON value as is
            cases = " ".join(
                f"WHEN {_literal(str(getattr(stored, 'value', stored)))} THEN {_literal(name)}"
                for stored, name in members
            )
            return f"(CASE {source} #>> '{{}}' {cases} END)"
        if shape.kind == OBJECT:
            pairs = []
            for field in shape.fields:
                if field.is_typename:
                    pairs.append(f"{_literal(field.key)}, {_literal(shape.type_name)}::text")
                    continue
                assert field.shape is not None
                inner = f"{source} -> {_literal(field.source)}"
                pairs.append(f"{_literal(field.key)}, {self.value(field.shape, inner)}")
            built = f"{self.flavour}_build_object({', '.join(pairs)})"
            if known_object:
                return built
            return f"(CASE WHEN jsonb_typeof({source}) = 'object' THEN {built} END)"
        if shape.kind == LIST:
            assert shape.item is not None
            item = shape.item
            if item.kind == LEAF and _enum_members(item) is None:
                return source  # a list of plain scalars: the stored array as is
            self.aliases += 1
            alias = f"e{self.aliases}"
            element = self.value(item, f"{alias}.v")
            empty = "'[]'::" + self.flavour
            aggregate = (
                f"(SELECT COALESCE({self.flavour}_agg({element} ORDER BY {alias}.o), {empty}) "
                f"FROM jsonb_array_elements({source}) WITH ORDINALITY AS {alias}(v, o))"
            )
            return f"(CASE WHEN jsonb_typeof({source}) = 'array' THEN {aggregate} END)"
        raise NotImplementedError("abstract types are not projected in SQL by this prototype")


def projected_sql(plain_sql: str, item_shape: Shape, flavour: str = "jsonb") -> str:
    """The executor's list statement, returning the projected value of each row instead."""
    head = 'SELECT t."data"::text FROM '
    if not plain_sql.startswith(head):
        raise ValueError(f"unexpected statement: {plain_sql[:80]!r}")
    expression = Projection(flavour).value(item_shape, 't."data"', known_object=True)
    return f"SELECT ({expression})::text FROM " + plain_sql[len(head) :]


def concat_rows(rows: list[str]) -> bytes:
    """What Python does in this design: the list's JSON is the row texts joined."""
    return ("[" + ",".join(rows) + "]").encode()


def pruned_sql(
    plain_sql: str, item_shape: Shape, stored_keys: list[str], method: str = "delete"
) -> str:
    """A middle way: SQL drops the top-level keys the selection does not read, C does the rest.

    The documents keep their stored (snake_case) keys and values, so the same native plan
    renders them; the database sends, and the builder parses, only what the selection reads.
    ``delete`` removes the type's unselected fields (``data - ARRAY[...]``); ``pick`` rebuilds
    an object of the selected ones (``jsonb_build_object``).
    """
    head = 'SELECT t."data"::text FROM '
    if not plain_sql.startswith(head):
        raise ValueError(f"unexpected statement: {plain_sql[:80]!r}")
    selected = dict.fromkeys(f.source for f in item_shape.fields if not f.is_typename)
    if method == "pick":
        pairs = ", ".join(f'{_literal(k)}, t."data" -> {_literal(k)}' for k in selected)
        expression = f"jsonb_build_object({pairs})"
    elif method == "delete":
        dropped = [k for k in stored_keys if k not in selected]
        array = ", ".join(_literal(k) for k in dropped)
        expression = f't."data" - ARRAY[{array}]::text[]' if dropped else 't."data"'
    else:
        raise ValueError(method)
    return f"SELECT ({expression})::text FROM " + plain_sql[len(head) :]
