"""Aggregates and ``groupBy`` checked against a Python evaluation of the same rows.

A read model of a few hundred generated documents (nulls and missing keys included) is
aggregated through the real GraphQL path; hypothesis generates ``where`` filters, group keys,
``having`` conditions, orderings and limits, and every number the API returns must be the one
the oracle computes from the same documents: exact for ``Decimal`` sums and integers, within
rounding for floats and averages.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import random
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Aggregate, Where
from fraiseql.types.scalars import UUID, DateTime
from fraiseql.types.scalars import Decimal as DecimalScalar


@fraiseql.enum
class Stage(enum.Enum):
    """A stage; read models store the member's value."""

    DRAFT = "draft"
    REVIEW = "review"
    DONE = "done"


@fraiseql.type
class Owner:
    """A nested object."""

    id: UUID
    name: str


@fraiseql.type(sql_source="tv_item")
class Item:
    """A read model with a field of each aggregated kind."""

    id: UUID
    stage: Stage | None
    name: str | None
    views: int | None
    score: float | None
    price: DecimalScalar | None
    at: DateTime | None
    owner: Owner | None


@fraiseql.query
async def items_aggregate(info: Any, where: Where[Item] | None = None) -> Aggregate[Item]:
    """Aggregates of items."""


OWNERS = [
    {"id": str(uuid.UUID(int=i * 7919 + 1)), "name": name}
    for i, name in enumerate(["ann", "bob", "cy", "dee"])
]
STAGES = [s.value for s in Stage]
GROUP_FIELDS = {  # GraphQL name -> how the oracle reads the key
    "stage": lambda d: d.get("stage"),
    "name": lambda d: d.get("name"),
    "views": lambda d: d.get("views"),
    "owner_Id": lambda d: (d.get("owner") or {}).get("id"),
    "owner_Name": lambda d: (d.get("owner") or {}).get("name"),
}


def _maybe(rng: random.Random, value: Any, doc: dict[str, Any], key: str) -> None:
    """Set ``key`` to ``value``, to null, or leave it missing."""
    roll = rng.random()
    if roll < 0.1:
        doc[key] = None
    elif roll < 0.15:
        return
    else:
        doc[key] = value


def build_documents(seed: int = 20_250_612, count: int = 300) -> list[dict[str, Any]]:
    """The generated documents (deterministic)."""
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        doc: dict[str, Any] = {"id": str(uuid.UUID(int=index + 1))}
        _maybe(rng, rng.choice(STAGES), doc, "stage")
        _maybe(rng, rng.choice(["a", "ab", "b", "ba", "c", "zz"]), doc, "name")
        _maybe(rng, rng.randint(-50, 40), doc, "views")
        _maybe(rng, rng.choice([0.5, 1.25, -3.0, 1e10, 2.2]), doc, "score")
        _maybe(
            rng,
            Decimal(rng.randint(-100_000, 100_000)) / Decimal(rng.choice([1, 100, 1000])),
            doc,
            "price",
        )
        moment = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randint(0, 10**6)
        )
        offset = dt.timezone(dt.timedelta(hours=rng.choice([0, 2, -5])))
        _maybe(rng, moment.astimezone(offset).isoformat(), doc, "at")
        _maybe(rng, rng.choice(OWNERS), doc, "owner")
        documents.append(doc)
    return documents


DOCUMENTS = build_documents()


def _encode(doc: dict[str, Any]) -> str:
    return orjson.dumps(doc, default=lambda v: orjson.Fragment(str(v))).decode()


@pytest.fixture(scope="module")
async def item_schema(server_dsn: str) -> AsyncIterator[fraiseql.Schema]:
    """The schema of ``Item`` over a C-collation database holding the documents."""
    async with temporary_database(server_dsn, collate_c=True) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("CREATE TABLE tv_item (id uuid PRIMARY KEY, data jsonb)")
            await connection.executemany(
                "INSERT INTO tv_item VALUES ($1::uuid, $2::jsonb)",
                [(d["id"], _encode(d)) for d in DOCUMENTS],
            )
        finally:
            await connection.close()
        schema = fraiseql.Schema(types=[Item], queries=[items_aggregate], database_url=dsn)
        await schema.open()
        try:
            yield schema
        finally:
            await schema.close()


MEASURES = """count
  sum { views score price }
  avg { views score price }
  min { views score price name at }
  max { views score price name at }"""
QUERY = f"""query($w: ItemWhereInput, $by: [ItemGroupField!]!, $h: ItemHaving,
  $o: [ItemGroupOrderBy!], $l: Int) {{
  itemsAggregate(where: $w) {{
    {MEASURES}
    groupBy(by: $by, having: $h, orderBy: $o, limit: $l) {{
      keys {{ stage name views owner_Id owner_Name }}
      {MEASURES}
    }}
  }}
}}"""

# -- the oracle ---------------------------------------------------------------------------------


def _where(where: dict[str, Any] | None, doc: dict[str, Any]) -> bool:
    if where is None:
        return True
    if "views" in where:
        value = doc.get("views")
        return value is not None and value >= where["views"]["gte"]
    if "stage" in where:
        value = doc.get("stage")
        return value is not None and Stage[value.upper()].name in where["stage"]["in"]
    value = doc.get("price")
    return (value is None) == where["price"]["isNull"]


def _nonnull(rows: list[dict[str, Any]], key: str) -> list[Any]:
    return [r[key] for r in rows if r.get(key) is not None]


def measures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """count/sum/avg/min/max of ``rows`` as exact Python values (None when all are null)."""
    result: dict[str, Any] = {"count": len(rows), "sum": {}, "avg": {}, "min": {}, "max": {}}
    for key in ("views", "score", "price", "name", "at"):
        values = _nonnull(rows, key)
        if key == "at":
            values = [dt.datetime.fromisoformat(v) for v in values]
        if key in ("views", "score", "price"):
            total = sum(values[1:], values[0]) if values else None
            result["sum"][key] = total
            if values:
                exact = sum((Fraction(v) for v in values), Fraction(0)) / len(values)
                result["avg"][key] = exact
            else:
                result["avg"][key] = None
        result["min"][key] = min(values) if values else None
        result["max"][key] = max(values) if values else None
    return result


def _holds(ops: dict[str, Any], value: Any) -> bool:
    for op, operand in ops.items():
        if op == "isNull":
            ok = (value is None) == operand
        elif value is None:
            ok = False
        elif op in ("in", "nin"):
            ok = (value in operand) == (op == "in")
        else:
            ok = {
                "eq": value == operand,
                "neq": value != operand,
                "lt": value < operand,
                "lte": value <= operand,
                "gt": value > operand,
                "gte": value >= operand,
            }[op]
        if not ok:
            return False
    return True


def _operand(member: str, key: str, value: Any) -> Any:
    """A having operand as the oracle compares it (Decimal text → Decimal)."""
    if key == "price" or (member == "avg" and key == "views"):
        return Fraction(Decimal(value)) if isinstance(value, str) else Fraction(value)
    return value


def _having(having: dict[str, Any] | None, m: dict[str, Any]) -> bool:
    if having is None:
        return True
    for key, value in having.items():
        if key == "count":
            if not _holds(value, m["count"]):
                return False
        elif key == "not":
            if _having(value, m):
                return False
        else:
            for field, ops in value.items():
                actual = m[key][field]
                if isinstance(actual, Decimal):
                    actual = Fraction(actual)
                converted = {
                    op: [_operand(key, field, v) for v in o]
                    if isinstance(o, list)
                    else (o if op == "isNull" else _operand(key, field, o))
                    for op, o in ops.items()
                }
                if not _holds(converted, actual):
                    return False
    return True


def _sort_key(value: Any, descending: bool) -> tuple[int, Any]:
    """Nulls last in both directions."""
    if value is None:
        return (1, 0)
    return (0, _Reversed(value) if descending else value)


class _Reversed:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def oracle_groups(
    rows: list[dict[str, Any]],
    by: list[str],
    having: dict[str, Any] | None,
    order: list[dict[str, Any]] | None,
    limit: int | None,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(keys, measures)`` of each group, in the API's order."""
    by = list(dict.fromkeys(by))
    buckets: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        buckets.setdefault(tuple(GROUP_FIELDS[b](row) for b in by), []).append(row)
    groups = [(dict(zip(by, k, strict=True)), measures(v)) for k, v in buckets.items()]
    groups = [g for g in groups if _having(having, g[1])]

    def key(group: tuple[dict[str, Any], dict[str, Any]]) -> tuple[Any, ...]:
        keys, m = group
        terms = []
        for item in order or ():
            ((member, value),) = item.items()
            if member == "count":
                terms.append(_sort_key(m["count"], value == "DESC"))
            else:
                ((field, direction),) = value.items()
                source = keys if member == "keys" else m[member]
                terms.append(_sort_key(source[field], direction == "DESC"))
        terms.extend(_sort_key(keys[b], False) for b in by)
        return tuple(terms)

    groups.sort(key=key)
    return groups[: 100 if limit is None else limit]


# -- comparison ---------------------------------------------------------------------------------


def _close(got: Any, expected: Any, what: str) -> None:
    if expected is None:
        assert got is None, what
        return
    assert got is not None, what
    if isinstance(expected, dt.datetime):
        assert dt.datetime.fromisoformat(got) == expected, what
    elif isinstance(expected, Fraction):
        assert math.isclose(float(Decimal(str(got))), float(expected), rel_tol=1e-12), what
    elif isinstance(expected, Decimal):
        assert got == str(expected), what  # exact, digit for digit
    elif isinstance(expected, float):
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-6), what
    else:
        assert got == expected, what


def assert_measures(got: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    """Every measure of one scope equals the oracle's."""
    assert got["count"] == expected["count"], where
    for member in ("sum", "avg", "min", "max"):
        for key, value in got[member].items():
            _close(value, expected[member][key], f"{where} {member}.{key}")


async def check(schema: fraiseql.Schema, variables: dict[str, Any]) -> None:
    """Run the query and compare totals and groups with the oracle."""
    result = await schema.run(QUERY, variables)
    assert "errors" not in result, result["errors"]
    data = result["data"]["itemsAggregate"]
    rows = [d for d in DOCUMENTS if _where(variables.get("w"), d)]
    assert_measures(data, measures(rows), "totals")
    expected = oracle_groups(
        rows, variables["by"], variables.get("h"), variables.get("o"), variables.get("l")
    )
    got = data["groupBy"]
    assert len(got) == len(expected), (len(got), len(expected))
    for index, (group, (keys, m)) in enumerate(zip(got, expected, strict=True)):
        for name, value in keys.items():
            shown = group["keys"][name]
            if name == "stage" and value is not None:
                value = Stage(value).name
            assert shown == value, f"group {index} key {name}: {shown!r} != {value!r}"
        assert_measures(group, m, f"group {index} {keys}")


# -- strategies ---------------------------------------------------------------------------------

WHERES = st.one_of(
    st.none(),
    st.builds(lambda n: {"views": {"gte": n}}, st.integers(-60, 50)),
    st.builds(
        lambda s: {"stage": {"in": s}},
        st.lists(st.sampled_from([s.name for s in Stage]), max_size=3, unique=True),
    ),
    st.builds(lambda b: {"price": {"isNull": b}}, st.booleans()),
)
OPS = st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte"])


def _having_leaf() -> st.SearchStrategy[dict[str, Any]]:
    ints = st.integers(-200, 200)
    decimals = st.decimals(-1000, 1000, places=2).map(str)
    names = st.sampled_from(["a", "ab", "b", "c", "zz", "m"])
    return st.one_of(
        st.builds(lambda op, n: {"count": {op: n}}, OPS, st.integers(0, 30)),
        st.builds(lambda op, n: {"sum": {"views": {op: n}}}, OPS, ints),
        st.builds(lambda op, n: {"sum": {"price": {op: n}}}, OPS, decimals),
        st.builds(lambda op, n: {"min": {"price": {op: n}}}, OPS, decimals),
        st.builds(lambda op, s: {"max": {"name": {op: s}}}, OPS, names),
        st.builds(lambda b: {"max": {"views": {"isNull": b}}}, st.booleans()),
        st.builds(lambda v: {"min": {"views": {"in": v}}}, st.lists(ints, max_size=4)),
        st.builds(lambda n: {"not": {"count": {"lt": n}}}, st.integers(0, 10)),
    )


HAVINGS = st.one_of(st.none(), _having_leaf())
ORDERS = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            st.builds(lambda d: {"count": d}, st.sampled_from(["ASC", "DESC"])),
            st.builds(lambda d: {"sum": {"views": d}}, st.sampled_from(["ASC", "DESC"])),
            st.builds(lambda d: {"min": {"price": d}}, st.sampled_from(["ASC", "DESC"])),
            st.builds(lambda d: {"max": {"name": d}}, st.sampled_from(["ASC", "DESC"])),
        ),
        max_size=2,
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    where=WHERES,
    by=st.lists(st.sampled_from(list(GROUP_FIELDS)), min_size=1, max_size=3),
    having=HAVINGS,
    order=ORDERS,
    limit=st.one_of(st.none(), st.integers(0, 100)),
)
async def test_aggregates_agree_with_the_oracle(
    item_schema: fraiseql.Schema,
    where: Any,
    by: list[str],
    having: Any,
    order: Any,
    limit: int | None,
) -> None:
    variables: dict[str, Any] = {"w": where, "by": by, "h": having, "o": order, "l": limit}
    note(f"variables: {variables!r}")
    await check(item_schema, variables)


async def test_data_covers_nulls_and_missing_keys() -> None:
    for key in ("stage", "views", "price", "owner"):
        assert any(key not in d for d in DOCUMENTS)
        assert any(key in d and d[key] is None for d in DOCUMENTS)


@pytest.mark.parametrize(
    "variables",
    [
        {"by": ["stage"]},
        {"by": ["owner_Id", "stage"], "h": {"count": {"gte": 5}}, "o": [{"count": "DESC"}]},
        {"by": ["views"], "w": {"views": {"gte": 39}}},
        {"by": ["owner_Name"], "o": [{"keys": {"owner_Name": "DESC"}}], "l": 2},
        {"by": ["stage"], "w": {"stage": {"in": []}}},  # no rows: count 0, aggregates null
    ],
)
async def test_examples_agree_with_the_oracle(
    item_schema: fraiseql.Schema, variables: dict[str, Any]
) -> None:
    await check(item_schema, variables)


async def test_decimal_sums_are_exact(item_schema: fraiseql.Schema) -> None:
    result = await item_schema.run("{ itemsAggregate { sum { price } avg { price } } }")
    prices = [Decimal(str(d["price"])) for d in DOCUMENTS if d.get("price") is not None]
    assert result["data"]["itemsAggregate"]["sum"]["price"] == str(sum(prices))
    assert isinstance(result["data"]["itemsAggregate"]["avg"]["price"], str)
