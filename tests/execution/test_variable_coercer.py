"""The compiled variable coercer against graphql-core's ``get_variable_values`` (the oracle).

Generated operations declare variables of every input type of three schemas (the blog with its
mutations, a FraiseQL schema with every built-in scalar, and an SDL schema with ``@oneOf``,
SDL defaults and a recursive input), wrapped in lists and non-null, with and without defaults;
generated requests give them valid values, wrong ones, nulls, nothing, extra keys. Both sides
must agree exactly: the coerced values (types, key order, the fields a client gave), the
sources, or the formatted errors.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES, printable_schema
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    build_schema,
    get_named_type,
    is_input_type,
    parse,
    print_ast,
    type_from_ast,
)
from graphql.execution.values import get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fraiseql
from fraiseql import Schema
from fraiseql.execution import variables as variables_module
from fraiseql.execution.variables import VariableCoercer
from fraiseql.schema.inputs import provided_fields
from fraiseql.types.scalars import (
    CIDR,
    ID,
    JSON,
    UUID,
    Date,
    DateTime,
    Decimal,
    EmailAddress,
    IPAddress,
    LTree,
    Time,
)

# --- the schemas ---------------------------------------------------------------------------------


def _parse_money(value: Any) -> tuple[int, str]:
    match = re.fullmatch(r"(\d+)\.(\d{2}) ([A-Z]{3})", value) if isinstance(value, str) else None
    if match is None:
        raise fraiseql.ScalarError(f"Money must look like '12.50 EUR', got {value!r}")
    return int(match[1]) * 100 + int(match[2]), match[3]


MONEY = fraiseql.scalar("Money", serialize=str, parse_value=_parse_money)
Money = Annotated[str, MONEY]


@fraiseql.enum
class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@fraiseql.input
class PartInput:
    name: str
    count: int = 1
    shade: Shade = Shade.DARK
    labels: list[str] | None = None


@fraiseql.input
class EverythingInput:
    id: UUID
    key: ID | None = None
    text: str | None = None
    number: int | None = None
    ratio: float | None = None
    flag: bool | None = None
    at: DateTime | None = None
    day: Date | None = None
    time: Time | None = None
    amount: Decimal | None = None
    document: JSON | None = None
    email: EmailAddress | None = None
    address: IPAddress | None = None
    network: CIDR | None = None
    path: LTree | None = None
    price: Money | None = None
    shade: Shade | None = None
    parts: list[PartInput] | None = None
    groups: list[list[PartInput | None]] | None = None


@fraiseql.type
class Echo:
    ok: bool


@fraiseql.query
def probe(info: Any, input: EverythingInput | None = None, part: PartInput | None = None) -> Echo:
    return Echo(ok=True)


SDL_SCHEMA = build_schema(
    """
    scalar Anything
    enum Mode { FAST SLOW }
    input Choice @oneOf { byId: ID, byName: String, byNumber: Int }
    input Tree { label: String! = "root", size: Int = 3, mode: Mode = SLOW,
                 children: [Tree!], choice: Choice }
    input Settings { modes: [Mode!]! = [FAST], limits: [[Int]] = [[1], [2, 3]],
                     anything: Anything = {a: [1, 2]} }
    type Query { tree(t: Tree, s: Settings, c: Choice): Boolean }
    """
)

BLOG = printable_schema().graphql_schema
EVERYTHING = Schema(types=[Echo, Shade], queries=[probe]).graphql_schema
SCHEMAS = {"blog": BLOG, "everything": EVERYTHING, "sdl": SDL_SCHEMA}


def input_types(schema: GraphQLSchema) -> list[Any]:
    """Every named input type of a schema (introspection's own left out)."""
    return sorted(
        (
            t
            for name, t in schema.type_map.items()
            if not name.startswith("__") and is_input_type(t)
        ),
        key=lambda t: t.name,
    )


INPUT_TYPES = {name: input_types(schema) for name, schema in SCHEMAS.items()}

# --- values --------------------------------------------------------------------------------------

INT_EDGES = [0, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**53, 2**63, 10**30]
FLOAT_EDGES = [0.0, -0.0, 1.0, 1.5, 3.0, 1e300, float("nan"), float("inf"), float("-inf")]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(INT_EDGES),
    st.sampled_from(FLOAT_EDGES),
    st.text(max_size=6),
    st.sampled_from(["1", "1.5", "", "true", "null", "DARK", "FAST", "2024-01-01"]),
    st.lists(st.integers(-3, 3), max_size=2),
    st.just({"unexpected": 1}),
    st.just({}),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


def _datetimes() -> st.SearchStrategy[str]:
    aware = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    naive = st.datetimes().map(lambda d: d.isoformat())
    fixed = st.sampled_from(
        ["2024-06-01T12:00:00Z", "2024-06-01 12:00+02:00", "2024-13-01T00:00Z", "2024-06-01"]
    )
    return aware | naive | fixed


SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "ID": st.text(max_size=8) | st.integers(),
    "String": st.text(max_size=8),
    "Int": st.integers(-(2**31), 2**31 - 1) | st.sampled_from(INT_EDGES) | st.just(7.0),
    "Float": st.floats() | st.integers(-10, 10) | st.sampled_from(FLOAT_EDGES),
    "Boolean": st.booleans(),
    "UUID": st.uuids().map(str)
    | st.uuids().map(lambda u: str(u).upper())
    | st.uuids().map(lambda u: u.hex)
    | st.sampled_from(["not-a-uuid", "{12345678-1234-5678-1234-567812345678}"]),
    "DateTime": _datetimes(),
    "Date": st.dates().map(datetime.date.isoformat) | st.sampled_from(["2024-02-30", "20240101"]),
    "Time": st.times().map(datetime.time.isoformat) | st.sampled_from(["25:00", "12:00:00.5"]),
    "Decimal": st.decimals(allow_nan=True).map(str)
    | st.integers()
    | st.floats()
    | st.sampled_from(["1e5", "1.50", "NaN", "-0", ".5", "1e99999", "9" * 1001]),
    "JSON": json_values,
    "EmailAddress": st.emails() | st.text(max_size=8),
    "IPAddress": st.ip_addresses().map(str) | st.sampled_from(["10.0.0.256", "::1", "::ffff:1"]),
    "CIDR": st.sampled_from(["10.0.0.0/8", "10.0.0.1/8", "::1/128", "10.0.0.0/33", "x"]),
    "LTree": st.from_regex(r"[A-Za-z0-9_]{1,4}(\.[A-Za-z0-9_]{1,4}){0,2}", fullmatch=True)
    | st.sampled_from(["a..b", "a-b", ""]),
    "Money": st.sampled_from(["12.50 EUR", "1.5 EUR", "0.00 USD"]),
}


def values(type_: Any, depth: int = 0, clean: bool = False) -> st.SearchStrategy[Any]:
    """Raw (JSON-like) values for ``type_``: mostly plausible, sometimes wrong.

    ``clean``: no junk in place of a value (the scalars' own strategies still have wrong ones).
    """
    if isinstance(type_, GraphQLNonNull):
        return values(type_.of_type, depth, clean)
    plausible: st.SearchStrategy[Any]
    if isinstance(type_, GraphQLList):
        item = values(type_.of_type, depth + 1, clean)
        plausible = st.lists(item, max_size=3) | item  # a single value stands for a list of one
    elif isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            plausible = st.just({})
        else:
            fields = {
                name: values(field.type, depth + 1, clean) for name, field in type_.fields.items()
            }
            plausible = st.fixed_dictionaries({}, optional=fields)  # type: ignore[arg-type]
            with_extra = st.tuples(plausible, st.sampled_from(["extra", "__typename"])).map(
                lambda pair: {**pair[0], pair[1]: 1}
            )
            plausible = plausible if clean else plausible | with_extra
    elif isinstance(type_, GraphQLEnumType):
        names = list(type_.values)
        plausible = st.sampled_from(names) | st.sampled_from([n.lower() for n in names])
    else:
        plausible = SCALARS.get(type_.name, json_values)
    return plausible if clean else st.one_of(plausible, plausible, plausible, junk)


# --- operations ----------------------------------------------------------------------------------

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def literal(value: Any, type_: Any) -> str:
    """``value`` as a GraphQL literal, following ``type_`` where it can (enums are bare names)."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "null"
    if isinstance(value, str):
        named = get_named_type(inner) if inner is not None else None
        if (
            isinstance(named, GraphQLEnumType)
            and _NAME.fullmatch(value)
            and value not in ("true", "false", "null")
        ):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        item = inner.of_type if isinstance(inner, GraphQLList) else None
        return "[" + ", ".join(literal(v, item) for v in value) + "]"
    if isinstance(value, dict):
        fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
        pairs = [
            f"{k}: {literal(v, fields[k].type if k in fields else None)}"
            for k, v in value.items()
            if _NAME.fullmatch(k)
        ]
        return "{" + ", ".join(pairs) + "}"
    return "null"


@st.composite
def wrapped(draw: st.DrawFn, named: Any) -> Any:
    """``named`` in up to two list levels, each level (and the item) non-null or not."""
    type_ = named
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        if draw(st.booleans()):
            type_ = GraphQLNonNull(type_)
        type_ = GraphQLList(type_)
    if draw(st.booleans()):
        type_ = GraphQLNonNull(type_)
    return type_


@st.composite
def operations(draw: st.DrawFn, schema_name: str) -> OperationDefinitionNode:
    """An operation declaring one to four variables, some with defaults."""
    declared = []
    for index in range(draw(st.integers(1, 4))):
        named = draw(st.sampled_from(INPUT_TYPES[schema_name]))
        type_ = draw(wrapped(named))
        text = f"$v{index}: {type_}"
        if draw(st.integers(0, 3)) == 0:
            text += " = " + literal(draw(values(type_)), type_)
        declared.append(text)
    operation = parse(f"query ({', '.join(declared)}) {{ __typename }}").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation


@st.composite
def requests(draw: st.DrawFn, schema: GraphQLSchema, operation: OperationDefinitionNode) -> Any:
    """The raw variables of a request: each variable given, null or left out, extra keys."""
    if draw(st.integers(0, 15)) == 0:
        return None
    raw: dict[str, Any] = {}
    clean = draw(st.booleans())
    for definition in operation.variable_definitions:
        name = definition.variable.name.value
        choice = draw(st.integers(0, 6))
        if choice == 0:
            continue
        if choice == 1:
            raw[name] = None
            continue
        type_ = type_from_ast(schema, definition.type)
        raw[name] = draw(values(type_, clean=clean))
    if draw(st.integers(0, 5)) == 0:
        raw[draw(st.sampled_from(["v9", "extra", "v0x"]))] = draw(junk)
    return raw


# --- comparing -----------------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """A value as a comparable structure: types, reprs (NaN included), key order, given fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        given = provided_fields(value)
        return (
            "input",
            type(value).__qualname__,
            sorted(given) if given is not None else None,
            [(f.name, shape(getattr(value, f.name))) for f in dataclasses.fields(value)],
        )
    if isinstance(value, dict):
        return ("dict", [(key, shape(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [shape(item) for item in value])
    return (type(value).__qualname__, repr(value))


def outcome(call: Callable[[], Any]) -> Any:
    """What a coercion produced, comparable: values and sources, errors, or the exception."""
    try:
        result = call()
    except Exception as error:  # graphql-core raises for some invalid schemas' defaults
        return ("raised", type(error).__name__, str(error))
    if isinstance(result, list):
        assert all(isinstance(error, GraphQLError) for error in result)
        return ("errors", [error.formatted for error in result])
    sources = [
        (
            name,
            source.signature.name,
            str(source.signature.type),
            print_ast(source.signature.default.literal) if source.signature.default else None,
            source.signature.default_value is Undefined,
            "absent" if source.value is Undefined else ("given", id(source.value)),
        )
        for name, source in result.sources.items()
    ]
    return ("values", shape(result.coerced), sources)


def assert_same(
    coercer: VariableCoercer, schema: GraphQLSchema, operation: OperationDefinitionNode, raw: Any
) -> Any:
    """Assert the coercer's outcome is graphql-core's; return graphql-core's."""
    definitions = operation.variable_definitions
    expected = outcome(lambda: get_variable_values(schema, definitions, raw or {}))
    assert outcome(lambda: coercer(raw)) == expected
    return expected


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_coercer_agrees_with_graphql_core(data: st.DataObject) -> None:
    schema_name = data.draw(st.sampled_from(sorted(SCHEMAS)))
    schema = SCHEMAS[schema_name]
    operation = data.draw(operations(schema_name))
    coercer = VariableCoercer(schema, operation.variable_definitions)
    assert coercer.compiled
    for _ in range(4):
        raw = data.draw(requests(schema, operation))
        assert_same(coercer, schema, operation, raw)
        assert_same(coercer, schema, operation, raw)  # nothing of a call stays for the next


# --- examples ------------------------------------------------------------------------------------


def _operation(text: str) -> OperationDefinitionNode:
    operation = parse(text).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation


POST_ID = "6b3f3c2e-2f7e-4c2e-9a7e-1c2b3d4e5f60"
CREATE = {"identifier": "p1", "title": "T", "author": "u1", "categoryPath": "tech.sql"}


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make graphql-core's path fail the test: what follows must take the compiled path."""

    def refuse(*_args: Any) -> Any:
        raise AssertionError("fell back to get_variable_values")

    monkeypatch.setattr(variables_module, "get_variable_values", refuse)


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("query($id: UUID!) { __typename }", {"id": POST_ID}),
        ("mutation($input: CreatePostInput!) { __typename }", {"input": CREATE}),
        ("mutation($input: [CreatePostInput!]!) { __typename }", {"input": [CREATE, CREATE]}),
        (
            "query($w: PostWhereInput, $o: [PostOrderByInput!], $n: Int = 20) { __typename }",
            {"w": {"title": {"icontains": "sql"}, "or": [{"viewCount": {"gte": 3}}]}, "o": []},
        ),
        ('query($s: PostStatus = DRAFT, $t: [String!] = ["a"]) { __typename }', None),
    ],
)
def test_common_operations_take_the_compiled_path(no_fallback: None, text: str, raw: Any) -> None:
    operation = _operation(text)
    coercer = VariableCoercer(BLOG, operation.variable_definitions)
    result = coercer(raw)
    assert not isinstance(result, list)
    expected = get_variable_values(BLOG, operation.variable_definitions, raw or {})
    assert not isinstance(expected, list)
    assert shape(result.coerced) == shape(expected.coerced)


def test_input_objects_remember_the_fields_given() -> None:
    operation = _operation("mutation($input: UpdatePostInput!) { __typename }")
    result = VariableCoercer(BLOG, operation.variable_definitions)(
        {"input": {"post": "p1", "title": None}}
    )
    assert not isinstance(result, list)
    update = result.coerced["input"]
    assert provided_fields(update) == {"post", "title"}
    assert update.title is None and update.body is None


def test_a_list_or_object_default_is_a_new_object_each_time() -> None:
    operation = _operation('query($t: [String!] = ["a"], $s: Settings = {}) { __typename }')
    coercer = VariableCoercer(SDL_SCHEMA, operation.variable_definitions)
    first, second = coercer({}), coercer({})
    assert not isinstance(first, list) and not isinstance(second, list)
    assert (
        first.coerced
        == second.coerced
        == {
            "t": ["a"],
            "s": {"modes": ["FAST"], "limits": [[1], [2, 3]], "anything": {"a": [1, 2]}},
        }
    )
    assert first.coerced["t"] is not second.coerced["t"]
    assert first.coerced["s"] is not second.coerced["s"]


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("query($id: UUID!) { __typename }", {"id": "nope"}),
        ("query($id: UUID!) { __typename }", {}),
        ("query($id: UUID!) { __typename }", {"id": None}),
        ("query($n: Int) { __typename }", {"n": 2**31}),
        ("query($n: Int) { __typename }", {"n": "1"}),
        ("query($x: Float) { __typename }", {"x": float("nan")}),
        ("mutation($input: CreatePostInput!) { __typename }", {"input": {**CREATE, "x": 1}}),
        ("mutation($input: CreatePostInput!) { __typename }", {"input": {"title": "T"}}),
        (
            "mutation($input: [CreatePostInput!]!) { __typename }",
            {"input": [CREATE, {**CREATE, "status": "draft"}]},
        ),
        ("query($s: PostStatus = draft) { __typename }", {}),
        ("query($x: NoSuchType) { __typename }", {"x": 1}),
        ("query($x: Post) { __typename }", {"x": 1}),
    ],
)
def test_errors_are_graphql_cores(text: str, raw: Any) -> None:
    operation = _operation(text)
    coercer = VariableCoercer(BLOG, operation.variable_definitions)
    kind, *_ = assert_same(coercer, BLOG, operation, raw)
    assert kind == "errors"


def _nested(key: str, levels: int, single: bool) -> dict[str, Any]:
    """A filter ``levels`` deep in ``key``; ``and`` takes a list, or a single filter."""
    value: dict[str, Any] = {"title": {"eq": "x"}}
    for _ in range(levels):
        value = {key: value if single or key != "and" else [value]}
    return value


def test_values_nested_too_deeply_are_graphql_cores_error() -> None:
    operation = _operation("query($w: PostWhereInput) { __typename }")
    coercer = VariableCoercer(BLOG, operation.variable_definitions)
    result = coercer({"w": _nested("not", 250, False)})
    assert isinstance(result, list)
    assert [error.message for error in result] == ["Variable values are nested too deeply."]
    # around graphql-core's limit (200 levels of its walk: a single value wrapped in a list
    # counts as a level too), the compiled path must never accept what graphql-core refuses
    kinds = set()
    for levels in [*range(90, 110), *range(190, 205)]:
        for key, single in (("not", True), ("and", True), ("and", False)):
            kinds.add(assert_same(coercer, BLOG, operation, {"w": _nested(key, levels, single)})[0])
    assert kinds == {"values", "errors"}


def test_one_of_inputs() -> None:
    operation = _operation("query($c: Choice!, $d: Choice) { __typename }")
    coercer = VariableCoercer(SDL_SCHEMA, operation.variable_definitions)
    for raw in (
        {"c": {"byId": "1"}},
        {"c": {"byId": "1", "byName": "x"}},
        {"c": {"byId": None}},
        {"c": {}},
        {"c": {"byNumber": 3}, "d": {"byName": None, "byId": "2"}},
    ):
        assert_same(coercer, SDL_SCHEMA, operation, raw)


# --- end to end ----------------------------------------------------------------------------------


@pytest.fixture
async def http(blog_database: str) -> AsyncIterator[httpx.AsyncClient]:
    """The blog app (queries and mutations) over the shared database, called in process."""
    app = fraiseql.create_app(
        types=TYPES, queries=QUERIES, mutations=MUTATIONS, database_url=blog_database
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://blog.test") as client,
    ):
        yield client


def _graphql_cores_coercer(self: VariableCoercer, raw: Any) -> Any:
    """What the executor called before the compiled coercer."""
    return get_variable_values(self._schema, self._definitions, raw or {})


async def test_http_answers_are_unchanged(
    http: httpx.AsyncClient, blog_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_id = str(await blog_connection.fetchval("SELECT id FROM tv_post ORDER BY identifier"))
    query = "query($id: UUID!, $n: Int = 1) { post(id: $id) { id } posts(limit: $n) { id } }"
    bodies = [
        {"query": query, "variables": {"id": "nope"}},
        {"query": query, "variables": {"id": post_id, "n": "2"}},
        {"query": query, "variables": {}},
        {"query": query, "variables": {"id": post_id}},
        {"query": query, "variables": {"id": post_id, "n": None}},
        {
            "query": "mutation($i: CreatePostInput!) { createPost(input: $i) { status } }",
            "variables": {"i": {**CREATE, "status": "draft"}},
        },
    ]

    async def answers() -> list[tuple[int, str | None, bytes]]:
        out = []
        for body in bodies:
            response = await http.post("/graphql", json=body)
            out.append(
                (response.status_code, response.headers.get("content-type"), response.content)
            )
        return out

    compiled = await answers()
    monkeypatch.setattr(VariableCoercer, "__call__", _graphql_cores_coercer)
    assert await answers() == compiled
    bad = json.loads(compiled[0][2])
    assert "data" not in bad
    [error] = bad["errors"]
    assert error["message"] == (
        "Variable '$id' has invalid value: Expected value of type 'UUID', but encountered "
        "error 'Invalid UUID: 'nope''; found: 'nope'."
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert json.loads(compiled[3][2])["data"]["post"] == {"id": post_id}


def test_custom_scalars_and_field_defaults_take_the_compiled_path(no_fallback: None) -> None:
    operation = _operation("query($p: PartInput, $e: EverythingInput) { __typename }")
    coercer = VariableCoercer(EVERYTHING, operation.variable_definitions)
    raw = {"e": {"id": POST_ID, "price": "12.50 EUR", "amount": "1.50", "parts": [{"name": "a"}]}}
    result = coercer(raw)
    assert not isinstance(result, list)
    everything = result.coerced["e"]
    assert everything.price == (1250, "EUR")
    assert everything.amount == decimal.Decimal("1.50")
    assert everything.parts[0].shade is Shade.DARK and everything.parts[0].count == 1
    assert_same(coercer, EVERYTHING, operation, raw)
