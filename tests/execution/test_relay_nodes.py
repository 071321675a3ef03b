"""Relay global object identification: ``Node``, ``nodeId``, ``node`` and ``nodes``.

Run under both response builders (``FRAISEQL_IMPL=c`` and ``python``): ``nodeId`` is computed
in Python, the rest of a selection is rendered by the active builder.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from examples.blog.app import tenant_claims
from examples.blog.database import load_schema, seed
from examples.blog.schema import QUERIES, TYPES
from examples.blog.security import APP_ROLE
from tests.conftest import temporary_database

import fraiseql
from fraiseql import Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.schema.relay import decode_node_id, encode_node_id
from fraiseql.types.scalars import UUID

Observed = tuple[Schema, list[str]]


def _raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _reads(statements: list[str]) -> list[str]:
    """The statements that read a read model (not BEGIN, settings or COMMIT)."""
    return [s for s in statements if " FROM " in s and "tv_" in s]


async def _observed(dsn: str, **options: Any) -> Observed:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=dsn), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(types=TYPES, queries=QUERIES, database=database, relay_nodes=True, **options)
    await schema.open()
    return schema, statements


@pytest.fixture(scope="module")
async def observed(blog_database: str) -> AsyncIterator[Observed]:
    """The blog schema with Relay nodes, every statement it runs recorded."""
    schema, statements = await _observed(blog_database, max_page_size=10)
    try:
        yield schema, statements
    finally:
        await schema.close()


def test_the_schema_has_node_and_every_read_model_type_implements_it() -> None:
    sdl = Schema(types=TYPES, queries=QUERIES, relay_nodes=True).print_schema()
    assert "interface Node {" in sdl
    assert "  nodeId: ID!\n" in sdl
    for name in ("Post", "User", "Comment", "Organisation"):
        assert f"type {name} implements Node {{" in sdl
    assert "type Author {" in sdl  # embedded only: no read model, not a node
    assert "node(nodeId: ID!): Node\n" in sdl
    assert "nodes(nodeIds: [ID!]!): [Node]!\n" in sdl
    plain = Schema(types=TYPES, queries=QUERIES).print_schema()
    assert "Node" not in plain and "nodeId" not in plain


def test_global_ids_are_base64url_of_type_and_uuid_without_padding() -> None:
    value = uuid.UUID("0a1b2c3d-0000-4000-8000-000000000001")
    encoded = encode_node_id("Post", value)
    assert "=" not in encoded
    assert base64.urlsafe_b64decode(encoded + "==").decode() == f"Post:{value}"
    assert encode_node_id("Post", str(value).upper()) == encoded
    model = Schema(types=TYPES, queries=QUERIES, relay_nodes=True).model
    node_type, node_id = decode_node_id(encoded, model.node_types, "nodeId")
    assert (node_type.name, node_id) == ("Post", str(value))


async def test_a_posts_node_id_fetches_it_again(observed: Observed) -> None:
    schema, statements = observed
    listed = await schema.run("{ posts(limit: 2) { id title nodeId author { name } } }")
    assert "errors" not in listed
    post = listed["data"]["posts"][0]
    assert post["nodeId"] == encode_node_id("Post", post["id"])
    statements.clear()
    query = """query($nodeId: ID!) { node(nodeId: $nodeId) {
        __typename nodeId
        ... on Post { id title author { name } }
        ... on User { name }
    } }"""
    result = await schema.run(query, {"nodeId": post["nodeId"]})
    assert result == {"data": {"node": {"__typename": "Post", **post}}}
    assert len(_reads(statements)) == 1


async def test_node_ids_are_computed_in_lists_and_connections(observed: Observed) -> None:
    schema, _ = observed
    result = await schema.run(
        "{ users(first: 2) { edges { node { id nodeId displayName } } } "
        "postsConnection(first: 2) { edges { node { id nodeId } } } }"
    )
    assert "errors" not in result
    for edge in result["data"]["users"]["edges"]:
        assert edge["node"]["nodeId"] == encode_node_id("User", edge["node"]["id"])
    for edge in result["data"]["postsConnection"]["edges"]:
        assert edge["node"]["nodeId"] == encode_node_id("Post", edge["node"]["id"])


async def test_an_unknown_id_is_null(observed: Observed) -> None:
    schema, _ = observed
    missing = encode_node_id("Post", uuid.uuid4())
    result = await schema.run("query($n: ID!) { node(nodeId: $n) { nodeId } }", {"n": missing})
    assert result == {"data": {"node": None}}


async def test_nodes_answer_in_order_with_duplicates_and_nulls(observed: Observed) -> None:
    schema, statements = observed
    listed = await schema.run(
        "{ posts(limit: 3) { nodeId } users(first: 2) { edges { node { nodeId name } } } }"
    )
    posts = [p["nodeId"] for p in listed["data"]["posts"]]
    user_nodes = [edge["node"] for edge in listed["data"]["users"]["edges"]]
    users = [u["nodeId"] for u in user_nodes]
    missing_post = encode_node_id("Post", uuid.uuid4())
    missing_user = encode_node_id("User", uuid.uuid4())
    asked = [users[1], posts[0], missing_post, posts[2], users[0], posts[0], missing_user]
    statements.clear()
    query = """query($ids: [ID!]!) { nodes(nodeIds: $ids) {
        __typename nodeId ... on User { name } } }"""
    result = await schema.run(query, {"ids": asked})
    assert "errors" not in result
    nodes = result["data"]["nodes"]
    assert [n and n["nodeId"] for n in nodes] == [
        users[1], posts[0], None, posts[2], users[0], posts[0], None,
    ]  # fmt: skip
    assert [n and n["__typename"] for n in nodes] == [
        "User", "Post", None, "Post", "User", "Post", None,
    ]  # fmt: skip
    assert nodes[0]["name"] == user_nodes[1]["name"]
    assert "name" not in nodes[1]
    reads = _reads(statements)
    assert len(reads) == 2  # one per type: User, then Post
    assert "tv_user" in reads[0] and "tv_post" in reads[1]
    statements.clear()
    only_posts = await schema.run(query, {"ids": posts})
    assert [n["nodeId"] for n in only_posts["data"]["nodes"]] == posts
    assert len(_reads(statements)) == 1
    statements.clear()
    assert await schema.run(query, {"ids": []}) == {"data": {"nodes": []}}
    assert _reads(statements) == []


_SOME_UUID = "0a1b2c3d-0000-4000-8000-000000000001"
MALFORMED = {
    "not base64": "not base64!",
    "padded": _raw_id(f"Post:{_SOME_UUID}") + "==",
    "bad length": "abcde",
    "no separator": _raw_id("Post"),
    "unknown type": _raw_id(f"Nope:{_SOME_UUID}"),
    "not a node type": _raw_id(f"Author:{_SOME_UUID}"),
    "the interface": _raw_id(f"Node:{_SOME_UUID}"),
    "not a UUID": _raw_id("Post:not-a-uuid"),
    "not canonical": _raw_id(f"Post:{_SOME_UUID.upper()}"),
    "not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe:x").rstrip(b"=").decode(),
    "bad type name": _raw_id(f"1 OR 1=1:{_SOME_UUID}"),
    "too long": "A" * 400,
}


@pytest.mark.parametrize("value", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_ids_are_refused_before_any_statement(
    observed: Observed, value: str
) -> None:
    schema, statements = observed
    statements.clear()
    one = await schema.run("query($n: ID!) { node(nodeId: $n) { nodeId } }", {"n": value})
    assert one["data"] == {"node": None}
    [error] = one["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("'nodeId' is not a valid node id: ")
    assert error["path"] == ["node"]
    good = encode_node_id("Post", uuid.uuid4())
    many = await schema.run(
        "query($ids: [ID!]!) { nodes(nodeIds: $ids) { nodeId } }", {"ids": [good, value]}
    )
    assert many["data"] is None  # nodes is [Node]!: the field error reaches data
    [error] = many["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("'nodeIds[1]' is not a valid node id: ")
    assert _reads(statements) == []


async def test_nodes_count_is_bounded_by_the_maximum_page_size(observed: Observed) -> None:
    schema, statements = observed
    statements.clear()
    ids = [encode_node_id("Post", uuid.uuid4()) for _ in range(11)]
    result = await schema.run(
        "query($ids: [ID!]!) { nodes(nodeIds: $ids) { nodeId } }", {"ids": ids}
    )
    assert result["data"] is None
    assert "at most 10" in result["errors"][0]["message"]
    assert _reads(statements) == []


async def test_unselected_node_ids_do_not_stop_pruning(
    observed: Observed, blog_database: str
) -> None:
    schema, statements = observed
    statements.clear()
    await schema.run("{ posts(limit: 1) { id title } }")
    [with_nodes] = _reads(statements)
    plain, plain_statements = await _observed_plain(blog_database)
    try:
        await plain.run("{ posts(limit: 1) { id title } }")
    finally:
        await plain.close()
    assert "- ARRAY[" in with_nodes
    assert _reads(plain_statements) == [with_nodes]


async def _observed_plain(dsn: str) -> Observed:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=dsn), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(types=TYPES, queries=QUERIES, database=database, max_page_size=10)
    await schema.open()
    return schema, statements


@fraiseql.type(sql_source="tv_thing")
class Thing:
    """A type with a read model."""

    id: UUID
    name: str


@fraiseql.query
async def things(info: Any) -> list[Thing]:
    """Every thing."""


def test_name_clashes_are_schema_errors() -> None:
    @fraiseql.type(name="Node")
    class OwnNode:
        id: UUID

    with pytest.raises(SchemaDefinitionError, match="'Node' interface"):
        Schema(types=[Thing, OwnNode], queries=[things], relay_nodes=True)

    @fraiseql.query
    async def node(info: Any) -> list[Thing]:
        """A query already named node."""

    with pytest.raises(SchemaDefinitionError, match="adds the query 'node'"):
        Schema(types=[Thing], queries=[things, node], relay_nodes=True)

    @fraiseql.type
    class Plain:
        id: UUID

    @fraiseql.query
    def plain(info: Any) -> Plain:
        return Plain(id=uuid.uuid4())

    with pytest.raises(SchemaDefinitionError, match="at least one type with a sql_source"):
        Schema(types=[Plain], queries=[plain], relay_nodes=True)


@pytest.fixture(scope="module")
async def tenants(server_dsn: str) -> AsyncIterator[tuple[Observed, list[str]]]:
    """The blog under its tenant policies, requests run as ``blog_app``; organisation ids."""
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=6, posts=12, comments_per_post=0)
        schema, statements = await _observed(
            dsn, session=fraiseql.SessionSettings(claims=tenant_claims, role=APP_ROLE)
        )
        try:
            listed = await schema.run("{ organisations { id } }")
            assert listed["data"]["organisations"] == []  # no tenant: no rows
            import asyncpg

            connection = await asyncpg.connect(dsn)
            try:
                rows = await connection.fetch("SELECT id::text FROM tb_organisation ORDER BY 1")
            finally:
                await connection.close()
            yield (schema, statements), [row[0] for row in rows]
        finally:
            await schema.close()


async def test_another_tenants_ids_are_null(tenants: tuple[Observed, list[str]]) -> None:
    (schema, _), (tenant_a, tenant_b) = tenants
    ids: dict[str, list[str]] = {}
    for tenant in (tenant_a, tenant_b):
        listed = await schema.run("{ posts(limit: 2) { nodeId } }", context={"tenant_id": tenant})
        ids[tenant] = [p["nodeId"] for p in listed["data"]["posts"]]
        assert ids[tenant]
    own, foreign = ids[tenant_a][0], ids[tenant_b][0]
    node = "query($n: ID!) { node(nodeId: $n) { nodeId } }"
    mine = await schema.run(node, {"n": own}, context={"tenant_id": tenant_a})
    assert mine == {"data": {"node": {"nodeId": own}}}
    theirs = await schema.run(node, {"n": foreign}, context={"tenant_id": tenant_a})
    assert theirs == {"data": {"node": None}}
    nobody = await schema.run(node, {"n": own})
    assert nobody == {"data": {"node": None}}
    nodes = "query($ids: [ID!]!) { nodes(nodeIds: $ids) { nodeId } }"
    mixed = await schema.run(nodes, {"ids": [foreign, own]}, context={"tenant_id": tenant_a})
    assert mixed == {"data": {"nodes": [None, {"nodeId": own}]}}
    swapped = await schema.run(nodes, {"ids": [foreign, own]}, context={"tenant_id": tenant_b})
    assert swapped == {"data": {"nodes": [{"nodeId": foreign}, None]}}
