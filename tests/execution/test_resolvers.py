"""Custom resolvers: root and field resolvers, errors and their masking, ``info``, abstract
types, custom scalars, enums and inputs as resolvers receive them. No database is involved."""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
import enum
import logging
import re
from typing import Annotated, Any

import orjson
import pytest
from graphql import GraphQLError

import fraiseql
from fraiseql import FraiseQLError, Info, Schema

from .oracle import assert_same_response, custom_root, execute_reference, location

# --- a custom scalar, an enum and inputs --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Amount:
    """Money in cents of a currency."""

    cents: int
    currency: str


_MONEY = re.compile(r"^(\d+)\.(\d{2}) ([A-Z]{3})$")


def _parse_money(value: Any) -> Amount:
    match = _MONEY.match(value) if isinstance(value, str) else None
    if match is None:
        raise fraiseql.ScalarError(f"Money must look like '12.50 EUR', got {value!r}")
    return Amount(int(match[1]) * 100 + int(match[2]), match[3])


def _serialize_money(value: Any) -> str:
    if not isinstance(value, Amount):
        raise fraiseql.ScalarError(f"Money cannot represent {value!r}")
    return f"{value.cents // 100}.{value.cents % 100:02d} {value.currency}"


MONEY = fraiseql.scalar(
    "Money", serialize=_serialize_money, parse_value=_parse_money, description="An amount."
)
Money = Annotated[Amount, MONEY]


@fraiseql.enum
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@fraiseql.input
class LineInput:
    sku: str
    quantity: int = 1
    unit_price: Money
    color: Color | None = None


@fraiseql.input
class OrderInput:
    lines: list[LineInput]
    coupon_code: str | None = None


@fraiseql.type
class Quote:
    total: Money
    line_count: int
    colors: list[Color]
    summary: str


@fraiseql.query
def quote(info, order: OrderInput, discount: Money | None = None) -> Quote:
    """Everything the resolver receives is checked here; the test reads the result."""
    assert isinstance(order, OrderInput)
    assert all(isinstance(line, LineInput) for line in order.lines)
    assert all(isinstance(line.unit_price, Amount) for line in order.lines)
    assert all(line.color is None or isinstance(line.color, Color) for line in order.lines)
    assert discount is None or isinstance(discount, Amount)
    currency = order.lines[0].unit_price.currency if order.lines else "EUR"
    cents = sum(line.quantity * line.unit_price.cents for line in order.lines)
    cents -= discount.cents if discount else 0
    return Quote(
        total=Amount(cents, currency),
        line_count=len(order.lines),
        colors=[line.color for line in order.lines if line.color is not None],
        summary=", ".join(f"{line.quantity}x{line.sku}" for line in order.lines)
        + (f" with {order.coupon_code}" if order.coupon_code else ""),
    )


@fraiseql.query
def paint(info, color: Color, others: list[Color] | None = None) -> list[Color]:
    assert isinstance(color, Color)
    assert others is None or all(isinstance(c, Color) for c in others)
    return [color, *(others or [])]


@fraiseql.query
def stored_colors(info) -> list[Color | None]:
    """Stored values ("red"), members and null all serialize."""
    return ["red", Color.GREEN, None, "blue"]  # type: ignore[list-item]


@fraiseql.query
def price(info, amount: Money) -> Money:
    assert isinstance(amount, Amount)
    return Amount(amount.cents * 2, amount.currency)


@fraiseql.query
def broken_price(info) -> Money | None:
    return "12.50 EUR"  # type: ignore[return-value]  # not an Amount: a serialization error


INPUT_SCHEMA = Schema(
    types=[Quote, Color], queries=[quote, paint, stored_colors, price, broken_price]
)


async def test_inputs_arrive_as_instances_with_parsed_scalars_and_enum_members() -> None:
    query = """query($discount: Money) {
        quote(
            order: {
                lines: [
                    {sku: "A", quantity: 2, unitPrice: "10.25 EUR", color: RED},
                    {sku: "B", unitPrice: "1.00 EUR"},
                    {sku: "C", unitPrice: "0.05 EUR", color: BLUE, quantity: 3}
                ],
                couponCode: "WELCOME"
            },
            discount: $discount
        ) { total lineCount colors summary }
    }"""
    result = await INPUT_SCHEMA.run(query, {"discount": "0.50 EUR"})
    assert result == {
        "data": {
            "quote": {
                "total": "21.15 EUR",
                "lineCount": 3,
                "colors": ["RED", "BLUE"],
                "summary": "2xA, 1xB, 3xC with WELCOME",
            }
        }
    }


async def test_inputs_given_as_variables() -> None:
    query = "query($o: OrderInput!) { quote(order: $o) { total colors summary } }"
    order = {"lines": [{"sku": "Z", "unitPrice": "3.00 USD", "color": "GREEN", "quantity": 4}]}
    result = await INPUT_SCHEMA.run(query, {"o": order})
    assert result == {
        "data": {"quote": {"total": "12.00 USD", "colors": ["GREEN"], "summary": "4xZ"}}
    }


async def test_enum_arguments_arrive_as_members() -> None:
    result = await INPUT_SCHEMA.run(
        "query($c: [Color!]) { paint(color: GREEN, others: $c) }", {"c": ["RED", "BLUE"]}
    )
    assert result == {"data": {"paint": ["GREEN", "RED", "BLUE"]}}


async def test_enum_output_from_members_stored_values_and_null() -> None:
    query = "{ storedColors }"
    result = await INPUT_SCHEMA.run(query)
    assert result == {"data": {"storedColors": ["RED", "GREEN", None, "BLUE"]}}
    reference = await execute_reference(INPUT_SCHEMA, query, root_value=custom_root(INPUT_SCHEMA))
    assert_same_response(result, reference)


async def test_custom_scalar_in_input_and_output() -> None:
    literal = await INPUT_SCHEMA.run('{ price(amount: "4.20 GBP") }')
    variable = await INPUT_SCHEMA.run("query($a: Money!) { price(amount: $a) }", {"a": "0.99 EUR"})
    assert literal == {"data": {"price": "8.40 GBP"}}
    assert variable == {"data": {"price": "1.98 EUR"}}


async def test_custom_scalar_refuses_bad_input() -> None:
    by_variable = await INPUT_SCHEMA.run("query($a: Money!) { price(amount: $a) }", {"a": "lots"})
    assert "data" not in by_variable
    assert "Money must look like '12.50 EUR', got 'lots'" in by_variable["errors"][0]["message"]
    by_literal = await INPUT_SCHEMA.run('{ price(amount: "lots") }')
    assert "data" not in by_literal
    assert "Money must look like '12.50 EUR', got 'lots'" in by_literal["errors"][0]["message"]


async def test_custom_scalar_serialization_error_is_a_field_error() -> None:
    result = await INPUT_SCHEMA.run("{ brokenPrice }")
    assert result["data"] == {"brokenPrice": None}
    [error] = result["errors"]
    assert error["message"] == "Money cannot represent '12.50 EUR'"
    assert error["path"] == ["brokenPrice"]
    assert error["locations"] == [{"line": 1, "column": 3}]


# --- field resolvers, info and errors -----------------------------------------------------------

SECRET = "hunter2-do-not-leak"


@fraiseql.type
class Greeter:
    name: str

    @fraiseql.field()
    def greet(self, info, greeting_word: str = "Hello", times: int = 1) -> str:
        return " ".join([f"{greeting_word} {self.name}"] * times)

    @fraiseql.field()
    async def shout(self, info, suffix: str = "!") -> str:
        await asyncio.sleep(0)
        return self.name.upper() + suffix

    @fraiseql.field()
    def plain(self) -> str:
        """A resolver without ``info``."""
        return f"plain {self.name}"

    @fraiseql.field()
    def where(self, info: Info) -> str:
        """What ``info`` says about this field, as JSON."""
        return orjson.dumps(
            {
                "path": info.path,
                "field": info.field_name,
                "parent": info.parent_type,
                "user": info.context.get("user"),
                "self": type(self).__name__,
                "variables": info.variables,
            }
        ).decode()

    @fraiseql.field()
    def secret(self, info) -> str | None:
        raise RuntimeError(f"cannot connect with password {SECRET}")

    @fraiseql.field()
    async def strict_secret(self, info) -> str:
        raise KeyError(SECRET)

    @fraiseql.field()
    def forbidden(self, info) -> str | None:
        raise FraiseQLError("You may not see this", code="FORBIDDEN", reason="not an admin")

    @fraiseql.field()
    def graphql_error(self, info) -> str | None:
        raise GraphQLError("Told by graphql-core", extensions={"code": "TOLD"})

    @fraiseql.field()
    def friends(self, info, count: int = 2) -> list[Greeter]:
        return [Greeter(name=f"{self.name}-friend{i}") for i in range(count)]


@fraiseql.query
def greeter(info, name: str) -> Greeter | None:
    if name == "nobody":
        return None
    return Greeter(name=name)


@fraiseql.query
async def greeters(info) -> list[Greeter]:
    """A dict, an instance, and a dict again."""
    return [{"name": "ann"}, Greeter(name="bo"), {"name": "cy"}]  # type: ignore[list-item]


@fraiseql.query
def crash(info) -> str | None:
    raise ValueError(f"the database said {SECRET}")


@fraiseql.query
async def strict_crash(info) -> str:
    raise ZeroDivisionError(SECRET)


@fraiseql.query
def refuse(info, why: str = "no") -> str | None:
    raise FraiseQLError(f"Refused: {why}", code="FORBIDDEN")


@fraiseql.query
def whoami(info) -> str | None:
    return f"{info.context.get('user')} at {info.path} in {info.parent_type}.{info.field_name}"


@fraiseql.query
def count_to(n: int) -> list[int]:
    """A root resolver without ``info``."""
    return list(range(1, n + 1))


GREETER_SCHEMA = Schema(
    types=[Greeter],
    queries=[greeter, greeters, crash, strict_crash, refuse, whoami, count_to],
)


async def test_sync_and_async_field_resolvers_with_arguments() -> None:
    query = """{ greeter(name: "ann") {
        greet
        twice: greet(greetingWord: "Hi", times: 2)
        shout
        loud: shout(suffix: "?!")
        plain
    } }"""
    result = await GREETER_SCHEMA.run(query)
    assert result == {
        "data": {
            "greeter": {
                "greet": "Hello ann",
                "twice": "Hi ann Hi ann",
                "shout": "ANN!",
                "loud": "ANN?!",
                "plain": "plain ann",
            }
        }
    }


async def test_field_resolver_arguments_from_variables() -> None:
    query = 'query($w: String = "Hey", $n: Int!) { greeter(name: "bo") { greet(greetingWord: $w, times: $n) } }'
    assert await GREETER_SCHEMA.run(query, {"n": 2}) == {
        "data": {"greeter": {"greet": "Hey bo Hey bo"}}
    }
    assert await GREETER_SCHEMA.run(query, {"n": 1, "w": "Yo"}) == {
        "data": {"greeter": {"greet": "Yo bo"}}
    }


async def test_info_has_path_context_and_names() -> None:
    query = "query($n: Int = 1) { greeters { w: where friends(count: $n) { where } } }"
    result = await GREETER_SCHEMA.run(query, context={"user": "ann"})
    assert "errors" not in result
    items = result["data"]["greeters"]
    infos = [orjson.loads(item["w"]) for item in items]
    assert [i["path"] for i in infos] == [["greeters", n, "w"] for n in range(3)]
    assert {i["field"] for i in infos} == {"where"}
    assert {i["parent"] for i in infos} == {"Greeter"}
    assert {i["user"] for i in infos} == {"ann"}
    assert {i["self"] for i in infos} == {"Greeter"}  # dict sources become instances
    assert {orjson.dumps(i["variables"]) for i in infos} == {b'{"n":1}'}
    nested = orjson.loads(items[2]["friends"][0]["where"])
    assert nested["path"] == ["greeters", 2, "friends", 0, "where"]


async def test_root_resolver_info() -> None:
    result = await GREETER_SCHEMA.run("{ me: whoami }", context={"user": "cy"})
    assert result == {"data": {"me": "cy at ['me'] in Query.whoami"}}


async def test_root_resolver_without_info() -> None:
    assert await GREETER_SCHEMA.run("{ countTo(n: 3) }") == {"data": {"countTo": [1, 2, 3]}}


async def test_root_resolver_returning_instances_dicts_and_none() -> None:
    query = '{ greeters { name greet } nobody: greeter(name: "nobody") { name } }'
    result = await GREETER_SCHEMA.run(query)
    assert result == {
        "data": {
            "greeters": [
                {"name": "ann", "greet": "Hello ann"},
                {"name": "bo", "greet": "Hello bo"},
                {"name": "cy", "greet": "Hello cy"},
            ],
            "nobody": None,
        }
    }


async def test_fraiseql_error_shows_its_message_and_code() -> None:
    query = '{ refuse(why: "policy") greeter(name: "ann") { forbidden name } }'
    result = await GREETER_SCHEMA.run(query)
    assert result == {
        "errors": [
            {
                "message": "Refused: policy",
                "locations": [{"line": 1, "column": 3}],
                "path": ["refuse"],
                "extensions": {"code": "FORBIDDEN"},
            },
            {
                "message": "You may not see this",
                "locations": [location(query, "forbidden")],
                "path": ["greeter", "forbidden"],
                "extensions": {"code": "FORBIDDEN", "reason": "not an admin"},
            },
        ],
        "data": {"refuse": None, "greeter": {"forbidden": None, "name": "ann"}},
    }


async def test_graphql_error_raised_by_a_resolver_is_shown() -> None:
    result = await GREETER_SCHEMA.run('{ greeter(name: "x") { graphqlError } }')
    assert result["data"] == {"greeter": {"graphqlError": None}}
    assert result["errors"] == [
        {
            "message": "Told by graphql-core",
            "locations": [{"line": 1, "column": 24}],
            "path": ["greeter", "graphqlError"],
            "extensions": {"code": "TOLD"},
        }
    ]


def _assert_masked(error: dict[str, Any], path: list[Any]) -> str:
    assert error["message"] == "Internal server error"
    assert error["path"] == path
    assert error["locations"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert re.fullmatch(r"[0-9a-f]{32}", error_id)
    return error_id  # type: ignore[no-any-return]


async def test_other_exceptions_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    query = '{ crash greeter(name: "ann") { secret name } }'
    with caplog.at_level(logging.ERROR, logger="fraiseql.execution"):
        result = await GREETER_SCHEMA.run(query)
    assert result["data"] == {"crash": None, "greeter": {"secret": None, "name": "ann"}}
    root_error, field_error = result["errors"]
    ids = [
        _assert_masked(root_error, ["crash"]),
        _assert_masked(field_error, ["greeter", "secret"]),
    ]
    assert ids[0] != ids[1]
    text = orjson.dumps(result).decode()
    for leak in (SECRET, "ValueError", "RuntimeError", "password", "Traceback"):
        assert leak not in text
    # The details go to the server log, under the id the client was given.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert all(error_id in logged for error_id in ids)
    assert any(record.exc_info and SECRET in str(record.exc_info[1]) for record in caplog.records)


async def test_masked_errors_in_non_null_fields_still_propagate_null() -> None:
    caught = await GREETER_SCHEMA.run('{ greeter(name: "ann") { name strictSecret } }')
    assert caught["data"] == {"greeter": None}
    [error] = caught["errors"]
    _assert_masked(error, ["greeter", "strictSecret"])
    assert SECRET not in orjson.dumps(caught).decode()
    root = await GREETER_SCHEMA.run("{ countTo(n: 1) strictCrash }")
    assert root["data"] is None
    [error] = root["errors"]
    _assert_masked(error, ["strictCrash"])
    assert SECRET not in orjson.dumps(root).decode()


async def test_debug_mode_shows_the_exception() -> None:
    schema = Schema(types=[Greeter], queries=[crash], debug=True)
    result = await schema.run("{ crash }")
    assert SECRET in result["errors"][0]["message"]


async def test_the_same_source_under_two_aliases_resolves_each_selection() -> None:
    """Both aliases read the same source object; each must get its own arguments' value."""
    query = """{ greeter(name: "ann") {
        a: friends(count: 1) { greet(greetingWord: "Hi") }
        b: friends(count: 1) { greet(greetingWord: "Bye") }
    } }"""
    assert await GREETER_SCHEMA.run(query) == {
        "data": {
            "greeter": {
                "a": [{"greet": "Hi ann-friend0"}],
                "b": [{"greet": "Bye ann-friend0"}],
            }
        }
    }


@fraiseql.type
class Item:
    name: str

    @fraiseql.field()
    def greet(self, info, word: str) -> str:
        return f"{word} {self.name}"


@fraiseql.type
class Holder:
    item: Item
    items: list[Item]


SHARED_ITEM = {"name": "x"}


@fraiseql.query
def holder(info) -> Holder:
    """One dict object reached through two fields and twice in a list."""
    return {"item": SHARED_ITEM, "items": [SHARED_ITEM, SHARED_ITEM]}  # type: ignore[return-value]


HOLDER_SCHEMA = Schema(types=[Holder], queries=[holder])


async def test_a_shared_source_object_resolves_per_selection() -> None:
    query = """{ holder {
        a: item { greet(word: "hi") }
        b: item { greet(word: "bye") }
        items { greet(word: "yo") }
        more: items { greet(word: "ho") }
    } }"""
    assert await HOLDER_SCHEMA.run(query) == {
        "data": {
            "holder": {
                "a": {"greet": "hi x"},
                "b": {"greet": "bye x"},
                "items": [{"greet": "yo x"}, {"greet": "yo x"}],
                "more": [{"greet": "ho x"}, {"greet": "ho x"}],
            }
        }
    }


@fraiseql.type
class Pair:
    name: str

    @fraiseql.field()
    async def ping(self, info) -> str:
        events = info.context["events"]
        events["ping"].set()
        await events["pong"].wait()
        return "ping"

    @fraiseql.field()
    async def pong(self, info) -> str:
        events = info.context["events"]
        events["pong"].set()
        await events["ping"].wait()
        return "pong"


@fraiseql.query
def pair(info) -> Pair:
    return Pair(name="p")


async def test_async_field_resolvers_run_concurrently() -> None:
    """``ping`` waits for ``pong`` and the other way round: only concurrent resolution ends."""
    schema = Schema(types=[Pair], queries=[pair])
    events = {"ping": asyncio.Event(), "pong": asyncio.Event()}
    result = await asyncio.wait_for(
        schema.run("{ pair { ping pong } }", context={"events": events}), timeout=5
    )
    assert result == {"data": {"pair": {"ping": "ping", "pong": "pong"}}}


# --- unions and interfaces ----------------------------------------------------------------------


@fraiseql.interface
class Shape:
    name: str

    @fraiseql.field()
    def label(self, info) -> str:
        return f"{type(self).__name__}:{self.name}"


@fraiseql.type
class Circle(Shape):
    radius: float


@fraiseql.type
class Square(Shape):
    side: float


@fraiseql.type
class Note:
    text: str


Figure = Annotated[Circle | Square | Note, fraiseql.union("Figure")]

SHAPES: list[Any] = [
    {"__typename": "Circle", "name": "c", "radius": 1.5},
    Square(name="s", side=2.0),
    {"__typename": "Square", "name": "t", "side": 3},
]


@fraiseql.query
def shapes(info) -> list[Shape]:
    return SHAPES


@fraiseql.query
def figures(info) -> list[Figure]:
    return [*SHAPES, Note(text="n"), {"__typename": "Note", "text": "m"}]


@fraiseql.query
def odd_figures(info) -> list[Figure | None]:
    return [
        {"__typename": "Circle", "name": "ok", "radius": 1},
        {"name": "no typename"},
        {"__typename": "Triangle", "name": "not a member"},
        {"__typename": "Shape", "name": "an interface, not an object"},
    ]


@fraiseql.query
def a_shape(info, kind: str) -> Shape | None:
    return Circle(name="c", radius=1.0) if kind == "circle" else Square(name="s", side=1.0)


SHAPE_SCHEMA = Schema(types=[Circle, Square, Note], queries=[shapes, figures, odd_figures, a_shape])


async def test_interface_values_from_typename_keys_and_instances() -> None:
    query = """{ shapes {
        __typename name label
        ... on Circle { radius }
        ... on Square { side }
    } }"""
    assert await SHAPE_SCHEMA.run(query) == {
        "data": {
            "shapes": [
                {"__typename": "Circle", "name": "c", "label": "Circle:c", "radius": 1.5},
                {"__typename": "Square", "name": "s", "label": "Square:s", "side": 2.0},
                {"__typename": "Square", "name": "t", "label": "Square:t", "side": 3.0},
            ]
        }
    }


async def test_union_values_from_typename_keys_and_instances() -> None:
    query = """{ figures {
        kind: __typename
        ... on Shape { name }
        ... on Circle { radius }
        ...S
        ... on Note { text }
    } }
    fragment S on Square { side label }"""
    expected = {
        "data": {
            "figures": [
                {"kind": "Circle", "name": "c", "radius": 1.5},
                {"kind": "Square", "name": "s", "side": 2.0, "label": "Square:s"},
                {"kind": "Square", "name": "t", "side": 3.0, "label": "Square:t"},
                {"kind": "Note", "text": "n"},
                {"kind": "Note", "text": "m"},
            ]
        }
    }
    result = await SHAPE_SCHEMA.run(query)
    assert result == expected


async def test_union_and_interface_match_graphql_core_without_field_resolvers() -> None:
    query = """{
        figures { __typename ... on Shape { name } ... on Note { text } ... on Circle { radius } }
        shapes { name ... on Square { side } }
        c: aShape(kind: "circle") { __typename name }
    }"""
    result = await SHAPE_SCHEMA.run(query)
    reference = await execute_reference(SHAPE_SCHEMA, query, root_value=custom_root(SHAPE_SCHEMA))
    assert_same_response(result, reference)


async def test_a_value_of_unknown_concrete_type_is_a_field_error() -> None:
    result = await SHAPE_SCHEMA.run("{ oddFigures { __typename ... on Circle { name } } }")
    assert result["data"] == {
        "oddFigures": [{"__typename": "Circle", "name": "ok"}, None, None, None]
    }
    assert [e["path"] for e in result["errors"]] == [
        ["oddFigures", 1],
        ["oddFigures", 2],
        ["oddFigures", 3],
    ]
    assert all(e["locations"] == [{"line": 1, "column": 3}] for e in result["errors"])


async def test_decimal_and_float_values_complete_as_json_numbers() -> None:
    @fraiseql.type
    class Reading:
        value: float
        count: int

    @fraiseql.query
    def readings(info) -> list[Reading]:
        return [
            Reading(value=decimal.Decimal("1.5"), count=2.0),  # type: ignore[arg-type]
            {"value": 3, "count": True},  # type: ignore[list-item]
        ]

    schema = Schema(types=[Reading], queries=[readings])
    query = "{ readings { value count } }"
    result = await schema.run(query)
    assert result == {
        "data": {"readings": [{"value": 1.5, "count": 2}, {"value": 3.0, "count": 1}]}
    }
    reference = await execute_reference(schema, query, root_value=custom_root(schema))
    assert_same_response(result, reference)


# --- exceptions raised while completing values --------------------------------------------------


def _explode(value: Any) -> Any:
    raise LookupError(f"serializer failed on {SECRET}")


EXPLODING = fraiseql.scalar("Exploding", serialize=_explode, parse_value=lambda value: value)


@fraiseql.type
class Record:
    name: str
    blob: Annotated[str, EXPLODING] | None = None


class LazyRecord:
    """An object whose attributes load lazily, as ORM objects do; loading fails."""

    @property
    def name(self) -> str:
        raise ConnectionError(f"lazy load failed: {SECRET}")

    @property
    def blob(self) -> str:
        raise ConnectionError(f"lazy load failed: {SECRET}")


@fraiseql.query
def record(info) -> Record | None:
    return {"name": "r", "blob": "x"}  # type: ignore[return-value]


@fraiseql.query
def lazy_records(info) -> list[Record | None]:
    return [Record(name="ok"), LazyRecord()]  # type: ignore[list-item]


RECORD_SCHEMA = Schema(types=[Record], queries=[record, lazy_records])


async def test_a_serializer_raising_an_unexpected_exception_is_a_masked_field_error() -> None:
    result = await RECORD_SCHEMA.run("{ record { name blob } }")
    assert result["data"] == {"record": {"name": "r", "blob": None}}
    [error] = result["errors"]
    _assert_masked(error, ["record", "blob"])
    assert SECRET not in orjson.dumps(result).decode()


async def test_an_attribute_raising_while_read_is_a_masked_field_error() -> None:
    result = await RECORD_SCHEMA.run("{ lazyRecords { name blob } }")
    assert result["data"] == {"lazyRecords": [{"name": "ok", "blob": None}, None]}
    [error] = result["errors"]  # name is non-null: the item is nulled, blob is never read
    _assert_masked(error, ["lazyRecords", 1, "name"])
    assert SECRET not in orjson.dumps(result).decode()
    nullable_only = await RECORD_SCHEMA.run("{ lazyRecords { blob } }")
    assert nullable_only["data"] == {"lazyRecords": [{"blob": None}, {"blob": None}]}
    [error] = nullable_only["errors"]
    _assert_masked(error, ["lazyRecords", 1, "blob"])
