"""Decimal values stored as JSON numbers, end to end and in the Python builder's parser.

PostgreSQL writes a ``numeric`` as a JSON number with every digit (``to_jsonb``,
``jsonb_build_object``): a read model over a ``numeric`` column must answer the exact value as
a string, under ``FRAISEQL_IMPL=c`` and ``FRAISEQL_IMPL=python`` alike (the suite runs once per
implementation). The unit tests below check :func:`exact_loads`: the value ``orjson.loads``
gives, with the text of each float-like number kept, and orjson's own verdict on bad input.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Connection, Schema
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.execution.shapes import ABSTRACT, LEAF, LIST, OBJECT, FieldPlan, Shape
from fraiseql.native.builder import (
    PYTHON_BUILDER,
    PythonPlan,
    exact_loads,
    loads_for,
    reads_decimals,
)
from fraiseql.types import scalars
from fraiseql.types.scalars import JSON, UUID, Decimal, JSONNumber

BIG = "123456789012345678901234567890.123456789"


@fraiseql.type
class LedgerLine:
    """A line of a ledger, inside the ledger's document."""

    amount: Decimal
    note: str | None


@fraiseql.type(sql_source="tv_ledger")
class Ledger:
    """A read model over ``numeric`` columns."""

    id: UUID
    identifier: str
    balance: Decimal | None
    ratio: float | None
    rates: list[Decimal | None] | None
    lines: list[LedgerLine]
    extra: JSON | None


@fraiseql.query
async def ledgers(info, limit: int | None = None) -> list[Ledger]:
    """All ledgers."""


@fraiseql.query
async def ledger(info, id: UUID) -> Ledger | None:
    """One ledger."""


@fraiseql.query
async def ledgers_page(info, first: int | None = None) -> Connection[Ledger]:
    """Ledgers as a Relay connection."""


ROWS = [
    # id, identifier, balance, ratio, rates
    ("00000000-0000-0000-0000-000000000001", "l1", BIG, "1.50", ["-" + BIG, "0.10", None]),
    ("00000000-0000-0000-0000-000000000002", "l2", "1e-30", "0.1", ["1" + "0" * 40, "-0.0"]),
    ("00000000-0000-0000-0000-000000000003", "l3", None, None, None),
]
"""``1e-30`` is stored as ``numeric`` and read back as 0.000...001: "1E-30" on output."""


@pytest.fixture(scope="module")
async def ledger_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with a ``numeric`` table and its ``jsonb`` read view."""
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                """
                CREATE TABLE tb_ledger (
                    id uuid PRIMARY KEY, identifier text NOT NULL UNIQUE,
                    balance numeric, ratio numeric, rates numeric[]
                );
                CREATE VIEW tv_ledger AS
                SELECT id, identifier, jsonb_build_object(
                    'id', id, 'identifier', identifier, 'balance', balance, 'ratio', ratio,
                    'rates', to_jsonb(rates),
                    'lines', CASE WHEN balance IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(
                        jsonb_build_object('amount', balance, 'note', 'opening'),
                        jsonb_build_object('amount', -balance * 2, 'note', null)) END,
                    'extra', jsonb_build_object('ratio', ratio, 'big', balance)
                ) AS data
                FROM tb_ledger
                """
            )
            await connection.executemany(
                "INSERT INTO tb_ledger VALUES ($1, $2, $3::numeric, $4::numeric, $5::numeric[])",
                ROWS,
            )
        finally:
            await connection.close()
        yield dsn


@pytest.fixture(scope="module")
async def ledger_schema(ledger_dsn: str) -> AsyncIterator[Schema]:
    """A schema over the ledger database."""
    schema = Schema(
        types=[Ledger], queries=[ledgers, ledger, ledgers_page], database_url=ledger_dsn
    )
    await schema.open()
    try:
        yield schema
    finally:
        await schema.close()


async def answer(schema: Schema, query: str, variables: dict[str, Any] | None = None) -> bytes:
    """The response bytes of one request."""
    request = GraphQLRequest(query, variables, None)
    response = await schema.execute(schema.prepare(request), request, {})
    return response.body


async def stored_texts(dsn: str) -> dict[str, dict[str, Any]]:
    """Each ledger's document as PostgreSQL writes it, numbers kept as their text."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT identifier, data::text FROM tv_ledger")
    finally:
        await connection.close()
    return {row[0]: json.loads(row[1], parse_float=str, parse_int=str) for row in rows}


async def test_numeric_columns_answer_every_digit(ledger_schema: Schema, ledger_dsn: str) -> None:
    body = await answer(
        ledger_schema,
        "{ ledgers { identifier balance ratio rates lines { amount note } extra } }",
    )
    doubled = decimal.Context(prec=100).multiply(decimal.Decimal(BIG), -2)
    assert f'"balance":"{BIG}"'.encode() in body
    assert f'"amount":"{doubled}"'.encode() in body
    result = orjson.loads(body)
    assert "errors" not in result
    stored = await stored_texts(ledger_dsn)
    by_identifier = {item["identifier"]: item for item in result["data"]["ledgers"]}
    assert set(by_identifier) == {"l1", "l2", "l3"}
    for identifier, item in by_identifier.items():
        document = stored[identifier]
        # a Decimal: str(Decimal(<the number's text as PostgreSQL wrote it>))
        balance = document["balance"]
        assert item["balance"] == (None if balance is None else str(decimal.Decimal(balance)))
        rates = document["rates"]
        assert item["rates"] == (
            None
            if rates is None
            else [None if r is None else str(decimal.Decimal(r)) for r in rates]
        )
        assert [line["amount"] for line in item["lines"]] == [
            str(decimal.Decimal(line["amount"])) for line in document["lines"]
        ]
        # a Float and the numbers of a JSON value: the float, as without a Decimal field
        ratio = document["ratio"]
        assert item["ratio"] == (None if ratio is None else float(ratio))
        extra = document["extra"]
        assert item["extra"] == {
            key: None if value is None else float(value) for key, value in extra.items()
        }
    assert by_identifier["l1"]["rates"] == ["-" + BIG, "0.10", None]  # trailing zero kept
    assert by_identifier["l2"]["balance"] == "1E-30"
    assert by_identifier["l2"]["rates"] == ["1" + "0" * 40, "0.0"]  # numeric has no -0
    assert by_identifier["l1"]["ratio"] == 1.5
    assert b'"ratio":1.5,' in body


async def test_one_document_and_a_connection_page(ledger_schema: Schema) -> None:
    one = await answer(
        ledger_schema,
        "query($id: UUID!) { ledger(id: $id) { balance lines { amount } } }",
        {"id": ROWS[0][0]},
    )
    assert one.startswith(b'{"data":{"ledger":{"balance":"' + BIG.encode() + b'"')
    page = orjson.loads(
        await answer(ledger_schema, "{ ledgersPage(first: 5) { edges { node { balance } } } }")
    )
    balances = {edge["node"]["balance"] for edge in page["data"]["ledgersPage"]["edges"]}
    assert balances == {BIG, "1E-30", None}


# ------------------------------------------------------------------------------------------------
# The Python builder's parser
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1.50,"b":[1,-0,0.1,1e5,-2.5E-3],"c":{"d":null,"e":"x"},"f":true}',
        '{"a":1,"a":2.50,"b":1,"a":3.0}',  # duplicate keys: the last value, the first position
        "[9223372036854775807,-9223372036854775808,18446744073709551615]",  # ints to orjson
        "[18446744073709551616,-9223372036854775809," + "7" * 300 + "]",  # floats to orjson
        "1e-400",
        '"text"',
        " [ 1.5 , 2 ] ",
    ],
)
def test_exact_loads_reads_what_orjson_reads(text: str) -> None:
    exact, plain = exact_loads(text), orjson.loads(text)
    assert exact == plain
    assert list(_walk(exact)) == list(_walk(plain))  # the same types (a JSONNumber is a float)
    assert orjson.dumps(exact, default=float) == orjson.dumps(plain)
    assert exact_loads(text.encode()) == plain


def _walk(value: Any) -> Any:
    """Every value inside ``value`` with its type (JSONNumber counted as float) and key order."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield float if isinstance(value, float) else type(value), value


def test_exact_loads_keeps_the_text_of_float_like_numbers() -> None:
    value = exact_loads(f'{{"a":{BIG},"b":1.50,"c":18446744073709551616,"d":7,"e":-0.0}}')
    for key, text in [("a", BIG), ("b", "1.50"), ("c", "18446744073709551616"), ("e", "-0.0")]:
        assert isinstance(value[key], JSONNumber)
        assert value[key].text == text
        assert value[key] == float(text)
        assert repr(value[key]) == repr(float(text)) and str(value[key]) == str(float(text))
    assert type(value["d"]) is int
    assert scalars.DECIMAL.serialize(value["a"]) == BIG
    assert scalars.DECIMAL.serialize(value["b"]) == "1.50"
    assert scalars.FLOAT.serialize(value["b"]) == 1.5
    assert type(scalars.FLOAT.serialize(value["b"])) is float
    assert scalars.STRING.serialize(value["b"]) == "1.5"
    assert scalars.DECIMAL.serialize(1.5) == "1.5"  # a float from a resolver: repr, as before


@pytest.mark.parametrize(
    "text",
    [
        '["\\ud800", 1.5]',
        "[NaN, 1.5]",
        "[1e400, 1.5]",
        "[1" + "0" * 400 + ", 1.5]",
        "[1.5] x",
        "[1.5,]",
        '{"a":1.5,}',
    ],
)
def test_exact_loads_refuses_what_orjson_refuses(text: str) -> None:
    with pytest.raises(orjson.JSONDecodeError) as plain:
        orjson.loads(text)
    with pytest.raises(orjson.JSONDecodeError) as exact:
        exact_loads(text)
    assert str(exact.value) == str(plain.value)


def test_exact_loads_falls_back_to_orjson_beyond_the_json_module_depth() -> None:
    text = "[" * 1000 + "1.5" + "]" * 1000  # orjson reads it; the json module runs out of stack
    value = exact_loads(text)
    for _ in range(1000):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == 1.5 and type(value) is float  # orjson's float: the json module gave up


def _leaf(name: str) -> Shape:
    definition = next(d for d in scalars.BUILTIN_SCALARS if d.name == name)
    return Shape(LEAF, True, type_name=name, serialize=definition.serialize)


def _object(name: str, *fields: tuple[str, Shape]) -> Shape:
    plans = tuple(FieldPlan(key, key, key, name, shape, ()) for key, shape in fields)
    return Shape(OBJECT, True, name, fields=plans)


def test_only_plans_with_a_decimal_field_pay_for_exact_numbers() -> None:
    deep = Shape(LIST, True, item=Shape(LIST, True, item=_object("A", ("d", _leaf("Decimal")))))
    abstract = Shape(ABSTRACT, True, "U", by_type={"A": _object("A", ("d", _leaf("Decimal")))})
    without = _object("B", ("f", _leaf("Float")), ("j", _leaf("JSON")), ("s", _leaf("String")))
    assert reads_decimals(deep) and reads_decimals(abstract)
    assert not reads_decimals(without)
    assert loads_for(FieldPlan("r", "r", "r", "Query", deep, ())) is exact_loads
    assert loads_for(FieldPlan("r", "r", "r", "Query", without, ())) is orjson.loads
    compiled = PYTHON_BUILDER.compile(FieldPlan("r", "r", "r", "Query", without, ()))
    assert isinstance(compiled, PythonPlan) and compiled.loads is orjson.loads


def test_a_custom_scalar_that_returns_the_number_as_it_is() -> None:
    """A custom serializer may hand back the JSONNumber it got: it is written as a float."""
    same = Shape(LEAF, True, type_name="Same", serialize=lambda value: value)
    root = FieldPlan("r", "r", "r", "Query", _object("A", ("d", _leaf("Decimal")), ("x", same)), ())
    rendered = PYTHON_BUILDER.render_one(root, '{"d":1.50,"x":1.50}')
    assert rendered.value == b'{"d":"1.50","x":1.5}'
    bad = Shape(LEAF, True, type_name="Bad", serialize=lambda value: object())
    broken = FieldPlan(
        "r", "r", "r", "Query", _object("A", ("d", _leaf("Decimal")), ("x", bad)), ()
    )
    with pytest.raises(TypeError):
        PYTHON_BUILDER.render_one(broken, '{"d":1.50,"x":1.50}')
