"""``node``/``nodes`` honour a type's ``requires=`` check and read Decimals exactly.

The ``Node`` interface returns any node type: the type's check must still refuse a caller it
refuses on the type's own fields, before any statement reads it.
"""

from __future__ import annotations

import decimal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.schema.relay import encode_node_id
from fraiseql.types.scalars import UUID

SECRET_ID = uuid.UUID("5ec2e700-0000-4000-8000-000000000001")
NOTE_ID = uuid.UUID("a0000000-0000-4000-8000-000000000002")


@fraiseql.type(sql_source="tv_secret", requires=lambda context: context.get("admin") is True)
class Secret:
    """Only for administrators."""

    id: UUID
    amount: decimal.Decimal


@fraiseql.type(sql_source="tv_memo")
class Memo:
    """For everyone."""

    id: UUID
    text: str


@fraiseql.query
async def memos(info: fraiseql.Info) -> list[Memo]:
    """Every memo."""
    ...


@pytest.fixture(scope="module")
async def observed(server_dsn: str) -> AsyncIterator[tuple[Schema, list[str]]]:
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "CREATE TABLE tv_secret (id uuid PRIMARY KEY, data jsonb NOT NULL);"
                "CREATE TABLE tv_memo (id uuid PRIMARY KEY, data jsonb NOT NULL);"
                f"INSERT INTO tv_secret VALUES ('{SECRET_ID}', "
                f"""'{{"id": "{SECRET_ID}", "amount": 123456789012345678901234567890.10}}');"""
                f"""INSERT INTO tv_memo VALUES ('{NOTE_ID}', '{{"id": "{NOTE_ID}", "text": "hi"}}');"""
            )
        finally:
            await connection.close()
        statements: list[str] = []
        database = Database(PoolSettings(dsn=dsn), observe_statements=True)
        database.statement_observers.append(statements.append)
        schema = Schema(types=[Secret, Memo], queries=[memos], database=database, relay_nodes=True)
        await schema.open()
        try:
            yield schema, statements
        finally:
            await schema.close()


NODE = "query($id: ID!) { node(nodeId: $id) { __typename ... on Secret { amount } } }"
NODES = (
    "query($ids: [ID!]!) { nodes(nodeIds: $ids) { __typename ... on Secret { amount } "
    "... on Memo { text } } }"
)


async def _run(
    observed: tuple[Schema, list[str]], query: str, context: dict[str, Any], **variables: Any
) -> tuple[dict[str, Any], int]:
    schema, statements = observed
    before = len(statements)
    answer = await schema.run(query, variables, context=context)
    reads = [s for s in statements[before:] if "tv_secret" in s]
    return answer, len(reads)


async def test_node_refuses_a_type_the_caller_may_not_read(
    observed: tuple[Schema, list[str]],
) -> None:
    secret = encode_node_id("Secret", SECRET_ID)
    answer, reads = await _run(observed, NODE, {}, id=secret)
    assert answer["data"] == {"node": None}
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert reads == 0


async def test_nodes_refuses_before_reading_anything(observed: tuple[Schema, list[str]]) -> None:
    ids = [encode_node_id("Memo", NOTE_ID), encode_node_id("Secret", SECRET_ID)]
    answer, reads = await _run(observed, NODES, {}, ids=ids)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert reads == 0
    allowed, _ = await _run(observed, NODES, {}, ids=ids[:1])
    assert allowed == {"data": {"nodes": [{"__typename": "Memo", "text": "hi"}]}}


async def test_an_allowed_caller_gets_every_digit(observed: tuple[Schema, list[str]]) -> None:
    secret = encode_node_id("Secret", SECRET_ID)
    answer, _ = await _run(observed, NODE, {"admin": True}, id=secret)
    assert answer == {
        "data": {"node": {"__typename": "Secret", "amount": "123456789012345678901234567890.10"}}
    }
    listed, _ = await _run(observed, NODES, {"admin": True}, ids=[secret])
    assert listed["data"]["nodes"][0]["amount"] == "123456789012345678901234567890.10"
