"""``where`` filters checked against a Python oracle over the same documents.

A read model with a field of every filter kind is filled with generated documents (nulls, missing
keys, empty lists, unicode, quotes, duplicates, edge numbers, timestamps with different offsets).
Hypothesis generates where trees (``and``/``or``/``not``, every operator of every kind, nested
objects and lists of objects); each one runs through the real GraphQL path — parsing, variable
coercion, SQL — and the identifiers returned must be exactly those the oracle in
:mod:`where_oracle` selects.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from functools import cache
from typing import Any

import asyncpg
import orjson
import pytest
from graphql import coerce_input_value
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Where
from fraiseql.sql.identifiers import Parameters
from fraiseql.sql.where import WhereCompiler
from fraiseql.types.scalars import (
    CIDR,
    ID,
    JSON,
    UUID,
    Date,
    DateTime,
    IPAddress,
    LTree,
    Time,
)
from fraiseql.types.scalars import Decimal as DecimalScalar

from .where_oracle import Leaf, Nested, ScalarList, TypeSpec, matches

# -- the GraphQL types --------------------------------------------------------------------------


@fraiseql.enum
class Colour(enum.Enum):
    """A colour; read models store the member's value."""

    RED = "red"
    GREEN = "green"
    DARK_BLUE = "dark blue"


@fraiseql.type
class Part:
    """A nested object."""

    name: str
    size: int


@fraiseql.type(sql_source="tv_thing")
class Thing:
    """A read model with a field of every filter kind."""

    id: UUID
    identifier: str
    name: str
    nickname: str | None
    code: ID
    count: int
    score: float | None
    price: DecimalScalar
    active: bool
    ref: UUID
    created_at: DateTime
    day: Date
    at: Time
    colour: Colour
    path: LTree
    ip: IPAddress
    network: CIDR
    meta: JSON
    tags: list[str]
    numbers: list[int]
    colours: list[Colour]
    part: Part | None
    parts: list[Part]


@fraiseql.query
async def things(info, where: Where[Thing] | None = None, limit: int | None = None) -> list[Thing]:
    """Things, filtered."""


QUERY = "query($w: ThingWhereInput) { things(where: $w, limit: 100) { identifier } }"

# -- the same types as the oracle sees them ----------------------------------------------------

PART = TypeSpec("Part", {"name": Leaf("name", "string"), "size": Leaf("size", "int")})
THING = TypeSpec(
    "Thing",
    {
        "id": Leaf("id", "uuid"),
        "identifier": Leaf("identifier", "string"),
        "name": Leaf("name", "string"),
        "nickname": Leaf("nickname", "string"),
        "code": Leaf("code", "id"),
        "count": Leaf("count", "int"),
        "score": Leaf("score", "float"),
        "price": Leaf("price", "decimal"),
        "active": Leaf("active", "boolean"),
        "ref": Leaf("ref", "uuid"),
        "createdAt": Leaf("created_at", "datetime"),
        "day": Leaf("day", "date"),
        "at": Leaf("at", "time"),
        "colour": Leaf("colour", "enum", Colour),
        "path": Leaf("path", "ltree"),
        "ip": Leaf("ip", "inet"),
        "network": Leaf("network", "cidr"),
        "meta": Leaf("meta", "json"),
        "tags": ScalarList("tags", Leaf("tags", "string")),
        "numbers": ScalarList("numbers", Leaf("numbers", "int")),
        "colours": ScalarList("colours", Leaf("colours", "enum", Colour)),
        "part": Nested("part", PART),
        "parts": Nested("parts", PART, many=True),
    },
)

# -- the documents ------------------------------------------------------------------------------

LONG_TEXT = "ü" * 10_000
HOSTILE = [
    "O'Reilly",
    'say "hi"',
    "back\\slash",
    "\\'",
    "100%",
    "under_score",
    "%_",
    "'; DROP TABLE tv_thing; --",
    "$1",
    "tab\tnew\nline",
]
STRINGS = [
    "",
    "a",
    "A",
    "abc",
    "ABC",
    "Abc",
    "abcabc",
    "héllo",
    "HÉLLO",
    "Ünïcödé",
    "日本語テキスト",
    "emoji 🎉 party",
    "e\u0301",
    "é",
    " leading",
    "trailing ",
    "zzz",
    "ÿ",
    *HOSTILE,
]
INTS = [0, 1, -1, 2, 7, 42, -7, 2147483647, -2147483648, 2147483648, 10**15, -(10**15), 3.0]
FLOATS = [0.0, -0.0, 0.1, 0.2, 0.30000000000000004, 1.5, -1.5, 2.5, 3, 1e-7, 123456.789]
FLOATS += [1e300, -1e300, 5e-324, 2.2250738585072014e-308, 9007199254740993]
DECIMALS: list[Any] = ["0", "0.00", "10.5", "10.50", 10.5, "-3.25", "1e-10", "1E+3", 1000]
DECIMALS += ["99999999999999999999.999999", "12345678901234567890", 7, "-0.001", "0.1"]
UUIDS = [str(uuid.UUID(int=random.Random(n).getrandbits(128), version=4)) for n in range(6)]
UUIDS += [UUIDS[0].upper(), UUIDS[1].upper()]
DATETIMES = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T02:00:00+02:00",
    "2023-12-31T19:00:00-05:00",
    "2024-01-01T00:00:00.000001+00:00",
    "2023-12-31T23:59:59.999999Z",
    "2024-06-30T23:59:59.999999+14:00",
    "1999-12-31T23:59:59-12:00",
    "2024-02-29T12:00:00+05:30",
    "2038-01-19T03:14:08Z",
    "1970-01-01T00:00:00Z",
    "2024-01-01 00:00:00+00:00",
    "2001-09-09T01:46:40.5-03:30",
]
DATES = ["2024-01-01", "2024-02-29", "1999-12-31", "2000-01-01", "0001-01-01", "2038-01-19"]
TIMES = ["00:00:00", "12:30", "12:30:00", "23:59:59.999999", "08:15:30.5", "00:00:00.000001"]
COLOURS = ["red", "green", "dark blue"]
PATHS = [
    "top",
    "top.science",
    "top.science.astronomy",
    "top.science.astronomy.stars",
    "top.hobbies",
    "top.hobbies.amateurs_astronomy",
    "top.science_fiction",
    "Top.Science",
    "a",
    "a.b.c.d.e",
    "x_1.y_2",
    "",
]
IPS = [
    "192.168.1.1",
    "192.168.1.2",
    "192.168.2.1",
    "10.0.0.1",
    "10.1.2.3",
    "127.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "::1",
    "2001:db8::1",
    "2001:db8::ff",
    "fe80::1",
    "::ffff:192.168.1.1",
    "10.1.2.3/8",
    "2001:db8::1/64",
]
NETWORKS = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "192.168.0.0/16",
    "192.168.1.0/24",
    "192.168.1.1/32",
    "0.0.0.0/0",
    "2001:db8::/32",
    "::/0",
    "fe80::/10",
]
METAS: list[Any] = [
    {"a": 1},
    {"a": 1, "b": [1, 2, 3]},
    {"a": {"b": "c"}},
    {"a": 1.0, "c": None},
    [1, 2, 3],
    [3, 2, 1, 1],
    ["foo", "bar"],
    "foo",
    1,
    1.5,
    0,
    True,
    False,
    [],
    {},
    [{"a": 1}, {"b": 2}],
    {"key with 'quote'": "x", "'; DROP TABLE tv_thing; --": True},
    {"nested": {"deep": [1, {"x": None}]}},
    [None],
    {"a": None},
    "",
    [[1, 2], [3]],
    {"tags": ["x", "y"], "n": 12345678901234567890},
]
TAGS: list[Any] = [
    [],
    ["a"],
    ["a", "b"],
    ["b", "a", "a"],
    ["x", "y", "z"],
    ["héllo"],
    ["O'Reilly", "100%"],
    ["a", None],
    ["", "A"],
]
NUMBERS: list[Any] = [[], [1], [1, 2, 3], [3, 3, 3], [-1, 0, 1], [2147483647], [10**15], [2.0]]
NUMBERS += [[1, None]]
COLOUR_LISTS: list[Any] = [[], ["red"], ["red", "green"], ["dark blue", "red", "red"]]
PART_NAMES = ["bolt", "nut", "Bolt", "", "washer", "O'Ring", "bolt"]
PART_SIZES = [0, 1, 5, 10, -3, 2147483648]

POOLS: dict[str, list[Any]] = {
    "name": STRINGS,
    "nickname": [*STRINGS[:8], LONG_TEXT],
    "code": ["A-1", "a-1", "B-2", "42", "x'y", "日本"],
    "count": INTS,
    "score": FLOATS,
    "price": DECIMALS,
    "active": [True, False],
    "ref": UUIDS,
    "created_at": DATETIMES,
    "day": DATES,
    "at": TIMES,
    "colour": COLOURS,
    "path": PATHS,
    "ip": IPS,
    "network": NETWORKS,
    "meta": METAS,
    "tags": TAGS,
    "numbers": NUMBERS,
    "colours": COLOUR_LISTS,
}
DOCUMENT_COUNT = 60


def _part(rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.05:
        return None
    part: dict[str, Any] = {}
    for key, pool in (("name", PART_NAMES), ("size", PART_SIZES)):
        roll = rng.random()
        if roll < 0.1:
            continue
        part[key] = None if roll < 0.2 else rng.choice(pool)
    return part


def build_documents(seed: int = 20_250_611) -> list[dict[str, Any]]:
    """The documents of ``tv_thing``: every pool value appears, shuffled, some null or missing."""
    rng = random.Random(seed)
    columns = {}
    for key, pool in POOLS.items():
        values = (pool * (DOCUMENT_COUNT // len(pool) + 1))[:DOCUMENT_COUNT]
        rng.shuffle(values)
        columns[key] = values
    documents = []
    for i in range(DOCUMENT_COUNT):
        identifier = f"thing-{i:02d}"
        if i % 20 == 7:
            identifier += rng.choice(["'quoted'", "-Ünï", "_%", " spaced"])
        document: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "identifier": identifier,
        }
        for k, (key, values) in enumerate(columns.items()):
            roll = rng.random()
            if roll < 0.08 or i == (3 * k) % DOCUMENT_COUNT:
                continue  # the key is missing
            document[key] = None if roll < 0.16 or i == (3 * k + 1) % DOCUMENT_COUNT else values[i]
        roll = rng.random()
        if roll >= 0.1:
            document["part"] = None if roll < 0.2 else _part(rng)
        roll = rng.random()
        if roll >= 0.1:
            document["parts"] = (
                None if roll < 0.2 else [_part(rng) for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))]
            )
        documents.append(document)
    return documents


def encoded_documents() -> list[tuple[dict[str, Any], str]]:
    """Each document with its JSON text; the oracle reads the text back with exact numbers."""
    return [(document, orjson.dumps(document).decode()) for document in build_documents()]


ENCODED = encoded_documents()
DOCUMENTS = [json.loads(text, parse_float=Decimal) for _, text in ENCODED]


def oracle(where: dict[str, Any]) -> set[str]:
    """The identifiers of the documents that ``where`` selects, by the Python evaluation."""
    return {doc["identifier"] for doc in DOCUMENTS if matches(THING, where, doc)}


# -- database and schema ------------------------------------------------------------------------

DDL = """
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE TABLE tv_thing (id uuid PRIMARY KEY, identifier text NOT NULL UNIQUE, data jsonb NOT NULL);
"""


@pytest.fixture(scope="module")
async def thing_database(server_dsn: str) -> AsyncIterator[str]:
    """A C-collation database with ``tv_thing`` holding the generated documents."""
    async with temporary_database(server_dsn, collate_c=True) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(DDL)
            await connection.executemany(
                "INSERT INTO tv_thing (id, identifier, data) VALUES ($1::uuid, $2, $3::jsonb)",
                [(doc["id"], doc["identifier"], text) for doc, text in ENCODED],
            )
        finally:
            await connection.close()
        yield dsn


@pytest.fixture(scope="module")
async def thing_schema(thing_database: str) -> AsyncIterator[fraiseql.Schema]:
    """The schema of ``Thing``, connected to its database."""
    schema = fraiseql.Schema(types=[Thing], queries=[things], database_url=thing_database)
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


async def selected(schema: fraiseql.Schema, where: Any) -> set[str]:
    """The identifiers the API returns for ``where``; fails on any error."""
    result = await schema.run(QUERY, {"w": where})
    assert "errors" not in result, result["errors"]
    identifiers = [row["identifier"] for row in result["data"]["things"]]
    assert len(identifiers) == len(set(identifiers))
    return set(identifiers)


def compiled_sql(schema: fraiseql.Schema, where: Any) -> str:
    """The SQL condition of ``where`` (coerced the way the executor coerces it), for messages."""
    input_type = schema.graphql_schema.get_type("ThingWhereInput")
    params = Parameters()
    try:
        coerced = coerce_input_value(where, input_type)  # type: ignore[arg-type]
        model = schema.model.types["Thing"]
        condition = WhereCompiler(schema.model, params).compile(model, coerced, "t.data")
    except Exception as error:  # only used to explain a failure
        return f"(not compiled: {error!r})"
    return f"{condition}\n-- params: {params.values!r}"[:4000]


async def assert_oracle_agrees(schema: fraiseql.Schema, where: Any) -> set[str]:
    """Run ``where`` through the API and compare with the oracle; returns the selection."""
    expected = oracle(where)
    got = await selected(schema, where)
    if got != expected:
        pytest.fail(
            f"where {where!r}\nonly in SQL: {sorted(got - expected)}\n"
            f"only in the oracle: {sorted(expected - got)}\nSQL: {compiled_sql(schema, where)}"
        )
    return got


# -- strategies ---------------------------------------------------------------------------------

MAX_DEPTH = 3


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)


def _pieces(values: list[str]) -> list[str]:
    """Values with their prefixes, suffixes and case variants, to hit partial matches."""
    out: set[str] = set()
    for value in values:
        value = value[:40]
        out.update({value, value.upper(), value.lower(), value.swapcase()})
        out.update(value[:n] for n in range(len(value) + 1))
        out.update(value[n:] for n in range(len(value) + 1))
        if len(value) > 2:
            out.add(value[1:-1])
    return sorted(out)


CASES = [str.upper, str.lower, str.swapcase, str.title, str]


def _strings(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), st.sampled_from(_pieces(values)), TEXT)


NAMES = sorted({*STRINGS, *PART_NAMES, *(doc["identifier"] for doc, _ in ENCODED)})
INT32 = st.integers(-(2**31), 2**31 - 1)
OFFSETS = [dt.timezone(dt.timedelta(minutes=m)) for m in (0, 60, -300, 330, 840, -720, -210)]


def _ints() -> st.SearchStrategy[int]:
    present = [int(v) for v in INTS + PART_SIZES if -(2**31) <= v < 2**31]
    return st.one_of(st.sampled_from(present), st.integers(-3, 12), INT32)


def _floats() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([float(v) for v in FLOATS]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-3, 3),
    )


def _decimals() -> st.SearchStrategy[Any]:
    present = [str(v) if isinstance(v, str) else v for v in DECIMALS]
    return st.one_of(
        st.sampled_from(present),
        st.decimals(-(10**6), 10**6, places=3, allow_nan=False).map(str),
        st.integers(-(10**6), 10**6),
        st.sampled_from([10.5, 0.1, -3.25, 1e-10]),
    )


def _datetimes() -> st.SearchStrategy[str]:
    instants = [dt.datetime.fromisoformat(v) for v in DATETIMES]
    shifted = st.builds(
        lambda instant, zone: instant.astimezone(zone).isoformat(),
        st.sampled_from(instants),
        st.sampled_from(OFFSETS),
    )
    generated = st.datetimes(
        dt.datetime(1960, 1, 1), dt.datetime(2050, 1, 1), timezones=st.sampled_from(OFFSETS)
    ).map(dt.datetime.isoformat)
    return st.one_of(st.sampled_from(DATETIMES), shifted, generated)


def _ltrees() -> st.SearchStrategy[str]:
    labels = sorted({label for path in PATHS for label in path.split(".") if label})
    prefixes = sorted(
        {".".join(path.split(".")[:n]) for path in PATHS if path for n in range(1, 6)}
    )
    label = st.one_of(st.sampled_from(labels), st.from_regex(r"[A-Za-z0-9_]{1,4}", fullmatch=True))
    random_paths = st.lists(label, min_size=1, max_size=4).map(".".join)
    return st.one_of(st.sampled_from(prefixes), random_paths)


def _lqueries() -> st.SearchStrategy[str]:
    labels = sorted({label for path in PATHS for label in path.split(".") if label})
    label = st.one_of(st.sampled_from(labels), st.sampled_from(["x", "q", "TOP", "sci"]))
    alternative = st.builds(
        lambda text, modifier: text + modifier, label, st.sampled_from(["", "", "*", "@", "*@"])
    )
    labelled = st.builds(
        lambda negated, alts: ("!" if negated else "") + "|".join(alts),
        st.sampled_from([False, False, False, True]),
        st.lists(alternative, min_size=1, max_size=2),
    )
    star = st.sampled_from(["*", "*", "*{1}", "*{0,1}", "*{2,}", "*{,2}", "*{1,3}"])
    generated = st.lists(st.one_of(labelled, star), min_size=1, max_size=4).map(".".join)
    likely = ["top.*", "*.astronomy", "top.science.*", "*.stars", "*.science*.*", "top.*{1}"]
    likely += ["*.!science.*", "top|a.*", "top@.science@.*", "*{2}", "a.*.e", "*"]
    return st.one_of(st.sampled_from(likely), generated)


def _ips() -> st.SearchStrategy[str]:
    hosts = sorted({v.split("/")[0] for v in IPS})
    return st.one_of(st.sampled_from(hosts), st.ip_addresses().map(str))


def _networks() -> st.SearchStrategy[str]:
    def network(address: str, prefix: int) -> str:
        parsed = ipaddress.ip_address(address)
        return str(ipaddress.ip_network(f"{parsed}/{prefix % (parsed.max_prefixlen + 1)}", False))

    hosts = sorted({v.split("/")[0] for v in IPS})
    derived = st.builds(network, st.sampled_from(hosts), st.integers(0, 128))
    return st.one_of(st.sampled_from(NETWORKS), derived)


def _json_values() -> st.SearchStrategy[Any]:
    def subtrees(value: Any) -> list[Any]:
        found = [value]
        if isinstance(value, dict):
            for key, item in value.items():
                found.append({key: item})
                found.extend(subtrees(item))
        elif isinstance(value, list):
            for item in value:
                found.append([item])
                found.extend(subtrees(item))
        return found

    # Keyed by JSON text: ``1 == 1.0 == True`` in Python, not in JSON.
    unique = {orjson.dumps(tree): tree for value in METAS for tree in subtrees(value)}
    present = [unique[key] for key in sorted(unique)]
    primitive = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from([1.0, 1.5, -0.0, 12345678901234567890]),
        st.sampled_from(["", "a", "b", "c", "x", "foo", "bar"]),
    )
    small = st.recursive(
        primitive,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(["a", "b", "c", "x", "n"]), inner, max_size=3),
        ),
        max_leaves=6,
    )
    return st.one_of(st.sampled_from(present), small).filter(lambda v: v is not None)


def _json_keys() -> st.SearchStrategy[str]:
    # object keys, and strings of arrays: ``?`` would find those if hasKey allowed arrays
    keys = sorted(
        {key for value in METAS if isinstance(value, dict) for key in value}
        | {
            item
            for value in METAS
            if isinstance(value, list)
            for item in value
            if isinstance(item, str)
        }
    )
    return st.one_of(st.sampled_from([*keys, "x", "A"]), TEXT)


def _enum_names() -> st.SearchStrategy[str]:
    return st.sampled_from([member.name for member in Colour])


@cache
def _values(field: str) -> st.SearchStrategy[Any]:
    """Operands of one leaf field: values present in the data and random ones."""
    strategies: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
        "id": lambda: st.one_of(
            st.sampled_from([doc["id"] for doc, _ in ENCODED]), st.uuids().map(str)
        ),
        "identifier": lambda: _strings(NAMES),
        "name": lambda: _strings(STRINGS),
        "nickname": lambda: _strings(STRINGS),
        "code": lambda: _strings(POOLS["code"]),
        "count": _ints,
        "score": _floats,
        "price": _decimals,
        "active": st.booleans,
        "ref": lambda: st.one_of(st.sampled_from(UUIDS), st.uuids().map(str)),
        "createdAt": _datetimes,
        "day": lambda: st.one_of(
            st.sampled_from(DATES),
            st.dates(dt.date(1990, 1, 1), dt.date(2040, 1, 1)).map(dt.date.isoformat),
        ),
        "at": lambda: st.one_of(st.sampled_from(TIMES), st.times().map(dt.time.isoformat)),
        "colour": _enum_names,
        "path": _ltrees,
        "ip": _ips,
        "network": _networks,
        "part.name": lambda: _strings(PART_NAMES),
        "part.size": _ints,
        "tags": lambda: _strings(sorted({t for ts in TAGS for t in ts if t is not None})),
        "numbers": _ints,
        "colours": _enum_names,
    }
    return strategies[field]()


_COMPARABLE = ("eq", "neq", "in", "nin", "lt", "lte", "gt", "gte", "isNull")
_EQUATABLE = ("eq", "neq", "in", "nin", "isNull")
OPERATORS = {
    "string": (*_COMPARABLE, "contains", "icontains", "startsWith", "endsWith"),
    "id": _EQUATABLE,
    "int": _COMPARABLE,
    "float": _COMPARABLE,
    "decimal": _COMPARABLE,
    "datetime": _COMPARABLE,
    "date": _COMPARABLE,
    "time": _COMPARABLE,
    "boolean": ("eq", "neq", "isNull"),
    "uuid": _EQUATABLE,
    "enum": _EQUATABLE,
    "ltree": (*_EQUATABLE, "ancestorOf", "descendantOf", "matches"),
    "inet": (*_EQUATABLE, "containedBy", "contains"),
    "cidr": (*_EQUATABLE, "containedBy", "contains"),
    "json": ("eq", "contains", "containedBy", "hasKey", "isNull"),
}
"""The operators of each kind, written out independently of ``fraiseql.sql.operators``."""


def _operand(leaf: Leaf, key: str, op: str) -> st.SearchStrategy[Any]:
    if op == "isNull":
        return st.booleans()
    if leaf.kind == "json":
        return _json_keys() if op == "hasKey" else _json_values()
    if op == "matches":
        return _lqueries()
    if leaf.kind in ("inet", "cidr") and op == "containedBy":
        return _networks()
    if leaf.kind in ("inet", "cidr") and op == "contains":
        return _ips()
    if leaf.kind in ("string", "id") and op not in _COMPARABLE:
        text = _strings(NAMES) if key == "identifier" else _values(key)
        if op == "icontains":  # mostly in another case than stored
            return st.builds(lambda t, case: case(t), text, st.sampled_from(CASES))
        return text
    value = _values(key)
    return st.lists(value, max_size=4) if op in ("in", "nin") else value


def _operators(
    operands: dict[str, st.SearchStrategy[Any]], *, min_size: int = 1
) -> st.SearchStrategy[dict[str, Any]]:
    sizes = [0, 1, 1, 1, 2] if min_size == 0 else [1, 1, 1, 2]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        size = draw(st.sampled_from(sizes))
        names = st.sampled_from(sorted(operands))
        chosen = draw(st.lists(names, min_size=size, max_size=size, unique=True))
        return {op: draw(operands[op]) for op in chosen}

    return build()


@cache
def where_inputs(spec: TypeSpec, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Where inputs of ``spec`` (GraphQL names, operands as sent in variables)."""
    options: dict[str, st.SearchStrategy[Any]] = {}
    for name, target in spec.fields.items():
        key = name if spec is THING else f"part.{name}"
        if isinstance(target, Leaf):
            operands = {op: _operand(target, key, op) for op in OPERATORS[target.kind]}
            options[name] = _operators(operands, min_size=0 if name == "code" else 1)
        elif isinstance(target, ScalarList):
            items = st.lists(_values(name), max_size=3)
            options[name] = _operators(
                {
                    "contains": items,
                    "overlaps": items,
                    "isEmpty": st.booleans(),
                    "isNull": st.booleans(),
                }
            )
        elif depth < MAX_DEPTH:
            inner = where_inputs(target.spec, depth + 1)
            if target.many:
                options[name] = _operators(
                    {"some": inner, "none": inner, "all": inner, "isEmpty": st.booleans()}
                )
            else:
                options[name] = inner
    if depth < MAX_DEPTH:
        inner = where_inputs(spec, depth + 1)
        options["and"] = st.lists(inner, max_size=3)
        options["or"] = st.lists(inner, max_size=3)
        options["not"] = inner
    # and/or/not drawn as often as about a dozen fields, so that trees get deep
    logic = [key for key in ("and", "or", "not") if key in options]
    choices = sorted(key for key in options if key not in logic) + logic * 4

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        size = draw(st.sampled_from([1, 1, 2, 2, 3] if depth == 0 else [0, 1, 1, 2]))
        keys = draw(st.lists(st.sampled_from(choices), min_size=size, max_size=size, unique=True))
        return {key: draw(options[key]) for key in keys}

    return build()


# -- the property -------------------------------------------------------------------------------


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(where=where_inputs(THING))
async def test_where_agrees_with_the_oracle(
    thing_schema: fraiseql.Schema, where: dict[str, Any]
) -> None:
    note(f"where = {where!r}")
    await assert_oracle_agrees(thing_schema, where)


# -- explicit cases -----------------------------------------------------------------------------


def test_the_data_covers_the_edge_cases() -> None:
    """The generated documents hold what the strategies rely on."""
    for key in POOLS:
        assert any(key not in doc for doc in DOCUMENTS), f"no document lacks {key}"
        assert any(key in doc and doc[key] is None for doc in DOCUMENTS), f"no null {key}"
    names = [doc.get("name") for doc in DOCUMENTS]
    assert any(names.count(name) > 1 for name in names if name is not None)
    assert any(doc.get("nickname") == LONG_TEXT for doc in DOCUMENTS)
    assert any(doc.get("tags") == [] for doc in DOCUMENTS)
    assert any(doc.get("parts") == [] for doc in DOCUMENTS)
    assert any(isinstance(doc.get("parts"), list) and len(doc["parts"]) > 2 for doc in DOCUMENTS)


def _sweep() -> dict[str, tuple[Callable[[Any], dict[str, Any]], st.SearchStrategy[Any]]]:
    """Every operator of every field, nested ones included: a where builder and operands."""
    cases: dict[str, tuple[Callable[[Any], dict[str, Any]], st.SearchStrategy[Any]]] = {}

    def leaf_ops(spec: TypeSpec, prefix: str) -> dict[str, tuple[Any, st.SearchStrategy[Any]]]:
        found = {}
        for name, target in spec.fields.items():
            if isinstance(target, Leaf):
                key = name if spec is THING else f"part.{name}"
                for op in OPERATORS[target.kind]:
                    found[f"{prefix}{name}.{op}"] = (name, op, _operand(target, key, op))
        return found

    def wrap(*path: str) -> Callable[[Any], dict[str, Any]]:
        def build(value: Any) -> dict[str, Any]:
            for key in reversed(path):
                value = {key: value}
            return value

        return build

    for label, (name, op, operand) in leaf_ops(THING, "").items():
        cases[label] = (wrap(name, op), operand)
    for name in ("tags", "numbers", "colours"):
        items = st.lists(_values(name), max_size=3)
        for op, operand in {
            "contains": items,
            "overlaps": items,
            "isEmpty": st.booleans(),
            "isNull": st.booleans(),
        }.items():
            cases[f"{name}.{op}"] = (wrap(name, op), operand)
    for label, (name, op, operand) in leaf_ops(PART, "part.").items():
        cases[label] = (wrap("part", name, op), operand)
    for quantifier in ("some", "none", "all"):
        for label, (name, op, operand) in leaf_ops(PART, f"parts.{quantifier}.").items():
            cases[label] = (wrap("parts", quantifier, name, op), operand)
    cases["parts.isEmpty"] = (wrap("parts", "isEmpty"), st.booleans())
    return cases


SWEEP = _sweep()


@pytest.mark.parametrize("case", sorted(SWEEP))
async def test_every_operator_agrees_with_the_oracle(
    thing_schema: fraiseql.Schema, case: str
) -> None:
    """Each operator of each field, with a dozen operands, most of them present in the data."""
    build, operands = SWEEP[case]
    for operand in _deterministic_examples(operands, 12):
        await assert_oracle_agrees(thing_schema, build(operand))


def _deterministic_examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """A few values of ``strategy``, the same on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


@pytest.mark.parametrize(
    ("where", "selects"),
    [
        ({}, "all"),
        ({"and": []}, "all"),
        ({"or": []}, "none"),
        ({"not": {"and": []}}, "none"),
        ({"not": {"or": []}}, "all"),
        ({"not": {}}, "none"),
        ({"and": [{}, {"or": []}]}, "none"),
        ({"or": [{"and": []}, {"or": []}]}, "all"),
        ({"part": {}}, "all"),
        ({"name": {}}, "all"),
    ],
)
async def test_empty_combinations(
    thing_schema: fraiseql.Schema, where: dict[str, Any], selects: str
) -> None:
    everything = {doc["identifier"] for doc in DOCUMENTS}
    got = await assert_oracle_agrees(thing_schema, where)
    assert got == (everything if selects == "all" else set())


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # ``nin: []`` and ``none``/``all`` must stay false on a null or missing value.
        ({"nickname": {"nin": []}}, lambda doc: doc.get("nickname") is not None),
        ({"count": {"nin": []}}, lambda doc: doc.get("count") is not None),
        ({"parts": {"none": {}}}, lambda doc: doc.get("parts") == []),
        ({"parts": {"all": {"and": []}}}, lambda doc: isinstance(doc.get("parts"), list)),
        ({"parts": {"some": {}}}, lambda doc: bool(doc.get("parts"))),
        ({"tags": {"contains": []}}, lambda doc: isinstance(doc.get("tags"), list)),
        ({"tags": {"overlaps": []}}, lambda doc: False),
        ({"meta": {"isNull": True}}, lambda doc: doc.get("meta") is None),
        (
            {"part": {"name": {"isNull": True}}},
            lambda doc: (doc.get("part") or {}).get("name") is None,
        ),
    ],
)
async def test_null_and_missing_values(
    thing_schema: fraiseql.Schema, where: dict[str, Any], expected: Callable[[Any], bool]
) -> None:
    got = await assert_oracle_agrees(thing_schema, where)
    assert got == {doc["identifier"] for doc in DOCUMENTS if expected(doc)}


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ({"name": {"eq": None}}, "eq"),
        ({"count": {"gt": None}}, "gt"),
        ({"nickname": {"isNull": None}}, "isNull"),
        ({"colour": {"in": None}}, "in"),
        ({"meta": {"contains": None}}, "contains"),
        ({"meta": {"eq": None}}, "eq"),
        ({"meta": {"isNull": None}}, "isNull"),
        ({"tags": {"isNull": None}}, "isNull"),
        ({"tags": {"contains": None}}, "contains"),
        ({"parts": {"some": None}}, "some"),
        ({"parts": {"isEmpty": None}}, "isEmpty"),
        ({"part": {"size": {"lte": None}}}, "lte"),
        ({"name": None}, "name"),
        ({"part": None}, "part"),
        ({"and": None}, "and"),
        ({"not": None}, "not"),
        ({"or": [{"name": {"eq": "a"}}, {"path": {"matches": None}}]}, "matches"),
    ],
)
async def test_null_operand_is_rejected(
    thing_schema: fraiseql.Schema, where: dict[str, Any], named: str
) -> None:
    result = await thing_schema.run(QUERY, {"w": where})
    assert result["data"] is None  # no rows leak next to the error
    (error,) = result["errors"]
    assert f"'{named}'" in error["message"]
    assert "null" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "query",
    [
        "{ things(where: {nope: {eq: 1}}) { identifier } }",
        '{ things(where: {name: {like: "a%"}}) { identifier } }',
        "{ things(where: {count: {contains: 1}}) { identifier } }",
        '{ things(where: {tags: {eq: "a"}}) { identifier } }',
        '{ things(where: {part: {name: {eq: "bolt"}, weight: {eq: 1}}}) { identifier } }',
        '{ things(where: {parts: {any: {name: {eq: "bolt"}}}}) { identifier } }',
        "{ things(where: {colour: {eq: PURPLE}}) { identifier } }",
        '{ things(where: {and: {name: {eq: "a"}}, or: [null]}) { identifier } }',
    ],
)
async def test_unknown_field_or_operator_is_a_validation_error(
    thing_schema: fraiseql.Schema, query: str
) -> None:
    result = await thing_schema.run(query)
    assert result.get("data") is None
    assert result["errors"]
    assert all("Internal" not in error["message"] for error in result["errors"])


@pytest.mark.parametrize(
    "where",
    [
        {"nope": {"eq": 1}},
        {"name": {"like": "a%"}},
        {"count": {"contains": 1}},
        {"colour": {"eq": "PURPLE"}},
        {"colour": {"eq": "red"}},  # the stored value is not the GraphQL name
        {"and": [None]},
        {"count": {"eq": 2**31}},
        {"createdAt": {"eq": "2024-01-01T00:00:00"}},  # no offset
        {"path": {"eq": "a..b"}},
        {"ip": {"eq": "999.1.1.1"}},
        {"network": {"eq": "10.0.0.1/8"}},  # host bits set
        {"price": {"eq": "NaN"}},
        {"ref": {"eq": "not-a-uuid"}},
    ],
)
async def test_invalid_variables_are_input_errors(
    thing_schema: fraiseql.Schema, where: dict[str, Any]
) -> None:
    result = await thing_schema.run(QUERY, {"w": where})
    assert result.get("data") is None
    assert result["errors"]
    for error in result["errors"]:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error


HOSTILE_OPERANDS = [*HOSTILE, LONG_TEXT, "x" * 10_000, "%", "_", "\\", "'", '"', "''", "--"]


@pytest.mark.parametrize("text", HOSTILE_OPERANDS, ids=range(len(HOSTILE_OPERANDS)))
async def test_hostile_strings_stay_data(thing_schema: fraiseql.Schema, text: str) -> None:
    wheres: list[dict[str, Any]] = [
        {"name": {"eq": text}},
        {"name": {"neq": text}},
        {"name": {"in": [text, "a"]}},
        {"name": {"gt": text}},
        {"nickname": {"contains": text}},
        {"nickname": {"icontains": text}},
        {"name": {"startsWith": text}},
        {"name": {"endsWith": text}},
        {"identifier": {"eq": text}},
        {"code": {"nin": [text]}},
        {"meta": {"hasKey": text}},
        {"meta": {"contains": {text: True}}},
        {"meta": {"eq": text}},
        {"tags": {"contains": [text]}},
        {"tags": {"overlaps": [text, "a"]}},
        {"parts": {"some": {"name": {"eq": text}}}},
        {"or": [{"name": {"eq": text}}, {"not": {"name": {"contains": text}}}]},
    ]
    for where in wheres:
        await assert_oracle_agrees(thing_schema, where)


async def test_hostile_strings_match_the_rows_that_hold_them(
    thing_schema: fraiseql.Schema,
) -> None:
    for text in [*HOSTILE, LONG_TEXT]:
        where = {"or": [{"name": {"eq": text}}, {"nickname": {"eq": text}}]}
        holders = {
            doc["identifier"] for doc in DOCUMENTS if text in (doc.get("name"), doc.get("nickname"))
        }
        assert holders, text
        assert await assert_oracle_agrees(thing_schema, where) == holders


@pytest.mark.parametrize(
    "where",
    [
        {"name": {"eq": "a\x00b"}},
        {"name": {"contains": "\x00"}},
        {"tags": {"contains": ["\x00"]}},
        {"meta": {"eq": "a\x00"}},
        {"meta": {"hasKey": "\x00"}},
        {"path": {"matches": "a\x00"}},
        {"part": {"name": {"startsWith": "\x00'; DROP TABLE tv_thing; --"}}},
    ],
)
async def test_nul_byte_is_a_clear_error(
    thing_schema: fraiseql.Schema, where: dict[str, Any]
) -> None:
    result = await thing_schema.run(QUERY, {"w": where})
    assert "data" not in result  # refused before anything ran, as a request error
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "NUL character" in error["message"]
    assert error["extensions"]["inputPath"].startswith("$w.")


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "a..b",
        "a b",
        "a\n",
        "*{}",
        "*{3,1}",
        "*{70000}",
        "a{1,65536}",
        "!*",
        "a|*",
        "x" * 1001,
        "a.",
        "'; DROP TABLE x; --",
    ],
    ids=repr,
)
async def test_invalid_lquery_is_a_clear_error(thing_schema: fraiseql.Schema, pattern: str) -> None:
    result = await thing_schema.run(QUERY, {"w": {"path": {"matches": pattern}}})
    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "lquery" in error["message"]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "[1e400]", "{a: [1, -1e400]}"])
async def test_json_operand_out_of_range_is_a_clear_error(
    thing_schema: fraiseql.Schema, literal: str
) -> None:
    """A float literal too large for a double must not turn into JSON null (nor into a 500)."""
    for op in ("eq", "contains", "containedBy"):
        result = await thing_schema.run(
            f"{{ things(where: {{meta: {{{op}: {literal}}}}}) {{ identifier }} }}"
        )
        assert result["data"] is None
        (error,) = result["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert f"'{op}'" in error["message"]


async def test_json_operand_keeps_big_integers(thing_schema: fraiseql.Schema) -> None:
    """Integers beyond 64 bits are valid JSON and compare exactly, as literals and variables."""
    big = 123456789012345678901234567890
    for where in (
        {"meta": {"eq": big}},
        {"meta": {"containedBy": [big, 1, "foo", "bar"]}},
        {"meta": {"contains": {"n": 12345678901234567890}}},
        {"meta": {"contains": {"n": 12345678901234567891}}},
        {"not": {"meta": {"containedBy": {"n": big, "tags": ["x", "y"], "a": 1}}}},
    ):
        await assert_oracle_agrees(thing_schema, where)
    literal = "{ things(where: {meta: {contains: {n: 12345678901234567890}}}) { identifier } }"
    result = await thing_schema.run(literal)
    assert {row["identifier"] for row in result["data"]["things"]} == oracle(
        {"meta": {"contains": {"n": 12345678901234567890}}}
    )
    assert result["data"]["things"]
    result = await thing_schema.run(
        f"{{ things(where: {{meta: {{eq: [{big}]}}}}) {{ identifier }} }}"
    )
    assert result == {"data": {"things": []}}


async def test_the_table_survives(thing_schema: fraiseql.Schema, thing_database: str) -> None:
    """Runs after the hostile tests of this module: the table and its rows are intact."""
    connection = await asyncpg.connect(thing_database)
    try:
        rows = await connection.fetch("SELECT identifier, data::text FROM tv_thing")
    finally:
        await connection.close()
    assert len(rows) == DOCUMENT_COUNT
    stored = {row["identifier"]: json.loads(row["data"], parse_float=Decimal) for row in rows}
    assert stored == {doc["identifier"]: doc for doc in DOCUMENTS}
    assert await selected(thing_schema, None) == set(stored)
