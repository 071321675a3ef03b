"""Apollo Federation subgraph: ``_service { sdl }`` and ``_entities`` over the example blog.

Run under both response builders (``FRAISEQL_IMPL=c`` and ``python``): ``_entities`` answers
through the Python projection, the rest of each request through the active builder.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES
from graphql import parse

import fraiseql
from fraiseql import QueryLimits, Schema
from fraiseql.db.pool import Database, PoolSettings
from fraiseql.schema.federation import FEDERATION_URL
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.types.scalars import UUID

Observed = tuple[Schema, list[str]]

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
    __typename
    ... on Post { id title author { name } }
    ... on User { id displayName }
} }"""


def _reads(statements: list[str]) -> list[str]:
    """The statements that read a read model (not BEGIN, settings or COMMIT)."""
    return [s for s in statements if " FROM " in s and "tv_" in s]


async def _observed(dsn: str, **options: Any) -> Observed:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=dsn), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(types=TYPES, queries=QUERIES, database=database, federation=True, **options)
    await schema.open()
    return schema, statements


@pytest.fixture(scope="module")
async def observed(blog_database: str) -> AsyncIterator[Observed]:
    """The blog schema as a subgraph, every statement it runs recorded."""
    schema, statements = await _observed(blog_database)
    try:
        yield schema, statements
    finally:
        await schema.close()


def _sdl() -> str:
    schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS, federation=True)
    result = schema.model.subgraph_sdl
    assert result is not None
    return result


def test_the_subgraph_sdl_links_federation_and_keys_every_read_model_type() -> None:
    sdl = _sdl()
    assert sdl.startswith(f'extend schema @link(url: "{FEDERATION_URL}", import: ["@key"])\n')
    for name in ("Post", "User", "Comment", "Organisation"):
        assert f'type {name} @key(fields: "id") {{' in sdl
    for embedded in ("Author", "PostComment", "OrganisationRef", "PostConnection", "PageInfo"):
        assert f"type {embedded} {{" in sdl  # no read model: a value type, not an entity
    for federation_only in ("_service", "_entities", "_Any", "_Entity", "_Service"):
        assert federation_only not in sdl
    assert "type Mutation {" in sdl and "createPost(" in sdl
    parse(sdl)  # valid SDL


def test_the_executable_schema_has_the_federation_fields() -> None:
    printed = Schema(types=TYPES, queries=QUERIES, federation=True).print_schema()
    assert "  _service: _Service!\n" in printed
    assert "  _entities(representations: [_Any!]!): [_Entity]!\n" in printed
    assert "union _Entity = Organisation | User | Post | Comment\n" in printed
    assert printed.endswith("scalar _Any")
    plain = Schema(types=TYPES, queries=QUERIES).print_schema()
    assert "_service" not in plain and "_Entity" not in plain and "@key" not in plain


async def test_service_answers_the_sdl_without_a_database() -> None:
    schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS, federation=True)
    result = await schema.run("{ _service { sdl } }")
    assert result == {"data": {"_service": {"sdl": _sdl()}}}


async def test_entities_answer_in_order_with_duplicates_and_nulls(observed: Observed) -> None:
    schema, statements = observed
    listed = await schema.run(
        "{ posts(limit: 3) { id title author { name } } "
        "users(first: 2) { edges { node { id displayName } } } }"
    )
    posts = listed["data"]["posts"]
    users = [edge["node"] for edge in listed["data"]["users"]["edges"]]
    missing_post, missing_user = str(uuid.uuid4()), str(uuid.uuid4())
    asked = [
        {"__typename": "User", "id": users[1]["id"]},
        {"__typename": "Post", "id": posts[0]["id"]},
        {"__typename": "Post", "id": missing_post},
        {"__typename": "Post", "id": posts[2]["id"].upper()},  # any UUID spelling
        {"__typename": "User", "id": users[0]["id"], "extra": "ignored"},
        {"__typename": "Post", "id": posts[0]["id"]},
        {"__typename": "User", "id": missing_user},
    ]
    statements.clear()
    result = await schema.run(ENTITIES, {"r": asked})
    assert result == {
        "data": {
            "_entities": [
                {"__typename": "User", **users[1]},
                {"__typename": "Post", **posts[0]},
                None,
                {"__typename": "Post", **posts[2]},
                {"__typename": "User", **users[0]},
                {"__typename": "Post", **posts[0]},
                None,
            ]
        }
    }
    reads = _reads(statements)
    assert len(reads) == 2  # one per type, in the order the types first appear
    assert "tv_user" in reads[0] and "tv_post" in reads[1]
    assert all("ANY ($1::uuid[])" in read for read in reads)
    assert statements[0].startswith("BEGIN")  # two statements: one snapshot
    statements.clear()
    only_posts = await schema.run(
        ENTITIES, {"r": [{"__typename": "Post", "id": p["id"]} for p in posts]}
    )
    assert [e["id"] for e in only_posts["data"]["_entities"]] == [p["id"] for p in posts]
    assert len(_reads(statements)) == 1
    statements.clear()
    assert await schema.run(ENTITIES, {"r": []}) == {"data": {"_entities": []}}
    assert statements == []


async def test_representations_written_in_the_document_work_too(observed: Observed) -> None:
    schema, _ = observed
    listed = await schema.run("{ posts(limit: 1) { id title } }")
    post = listed["data"]["posts"][0]
    result = await schema.run(
        f'{{ _entities(representations: [{{__typename: "Post", id: "{post["id"]}"}}]) '
        "{ ... on Post { id title } } }"
    )
    assert result == {"data": {"_entities": [post]}}


_SOME_UUID = "0a1b2c3d-0000-4000-8000-000000000001"
MALFORMED: dict[str, tuple[Any, str]] = {
    "a string": ("Post", "it is not an object"),
    "a list": ([{"__typename": "Post", "id": _SOME_UUID}], "it is not an object"),
    "a number": (3, "it is not an object"),
    "no typename": ({"id": _SOME_UUID}, "it has no '__typename' string"),
    "typename not a string": ({"__typename": 1, "id": _SOME_UUID}, "no '__typename' string"),
    "unknown type": ({"__typename": "Nope", "id": _SOME_UUID}, "'Nope' is not an entity type"),
    "embedded type": ({"__typename": "Author", "id": _SOME_UUID}, "'Author' is not an entity"),
    "federation type": ({"__typename": "_Service", "id": _SOME_UUID}, "is not an entity type"),
    "no key": ({"__typename": "Post", "identifier": "x"}, "it has no 'id' (the key of Post)"),
    "null key": ({"__typename": "Post", "id": None}, "it has no 'id'"),
    "key not a string": ({"__typename": "Post", "id": 12}, "its 'id' is not a UUID string"),
    "key not a UUID": ({"__typename": "Post", "id": "1 OR 1=1"}, "its 'id' is not a UUID"),
}


@pytest.mark.parametrize(("value", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_representations_are_refused_before_any_statement(
    observed: Observed, value: Any, reason: str
) -> None:
    schema, statements = observed
    statements.clear()
    good = {"__typename": "Post", "id": str(uuid.uuid4())}
    result = await schema.run(ENTITIES, {"r": [good, value]})
    assert result["data"] is None  # _entities is [_Entity]!: the field error reaches data
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "representations[1]"
    assert error["message"].startswith("'representations[1]' is not a valid representation: ")
    assert reason in error["message"]
    assert error["path"] == ["_entities"]
    assert statements == []


async def test_a_null_representation_is_a_variable_error(observed: Observed) -> None:
    schema, statements = observed
    statements.clear()
    result = await schema.run(ENTITIES, {"r": [None]})
    [error] = result["errors"]
    assert "data" not in result
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert statements == []


async def test_representations_are_bounded_by_the_list_limit(blog_database: str) -> None:
    representations = [{"__typename": "Post", "id": str(uuid.uuid4())} for _ in range(6)]
    schema, statements = await _observed(blog_database, limits=QueryLimits(max_list_length=5))
    try:
        result = await schema.run(ENTITIES, {"r": representations})
        [error] = result["errors"]
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "inputPath": "$r",
            "length": 6,
            "maxListLength": 5,
        }
        assert await schema.run(ENTITIES, {"r": representations[:5]}) == {
            "data": {"_entities": [None] * 5}
        }
    finally:
        await schema.close()
    schema, statements = await _observed(blog_database, limits=QueryLimits(max_list_length=None))
    try:
        many = [{"__typename": "Post", "id": str(uuid.uuid4())} for _ in range(1001)]
        result = await schema.run(ENTITIES, {"r": many})
        assert result["data"] is None
        assert result["errors"][0]["message"] == "'representations' must hold at most 1000 items"
        assert _reads(statements) == []
    finally:
        await schema.close()


def _is_admin(context: dict[str, Any]) -> bool:
    return bool(context.get("admin"))


@fraiseql.type(sql_source="tv_post", name="Post", requires=_is_admin)
class GuardedPost:
    """Posts only administrators may read."""

    id: UUID
    title: str


@fraiseql.query
async def guarded_posts(info: Any) -> list[GuardedPost]:
    """Every post, for administrators."""


async def test_a_type_requires_check_applies_to_its_entities(blog_database: str) -> None:
    statements: list[str] = []
    database = Database(PoolSettings(dsn=blog_database), observe_statements=True)
    database.statement_observers.append(statements.append)
    schema = Schema(
        types=[GuardedPost], queries=[guarded_posts], database=database, federation=True
    )
    await schema.open()
    try:
        [post] = (await schema.run("{ guardedPosts { id } }", context={"admin": True}))["data"][
            "guardedPosts"
        ][:1]
        query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Post { title } } }"
        asked = {"r": [{"__typename": "Post", "id": post["id"]}]}
        statements.clear()
        refused = await schema.run(query, asked)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert _reads(statements) == []
        allowed = await schema.run(query, asked, context={"admin": True})
        assert allowed["data"]["_entities"][0]["title"]
    finally:
        await schema.close()


@fraiseql.type(sql_source="tv_thing")
class Thing:
    """A type with a read model."""

    id: UUID
    name: str


@fraiseql.query
async def things(info: Any) -> list[Thing]:
    """Every thing."""


def test_name_clashes_and_missing_entities_are_schema_errors() -> None:
    @fraiseql.type(name="_Any")
    class OwnAny:
        value: str

    @fraiseql.query
    def own_any(info: Any) -> OwnAny:
        return OwnAny(value="x")

    with pytest.raises(SchemaDefinitionError, match="adds the type '_Any'"):
        Schema(types=[Thing, OwnAny], queries=[things, own_any], federation=True)

    @fraiseql.query(name="_service")
    async def service(info: Any) -> list[Thing]:
        """A query already named _service."""

    with pytest.raises(SchemaDefinitionError, match="adds the query '_service'"):
        Schema(types=[Thing], queries=[things, service], federation=True)

    @fraiseql.type
    class Plain:
        id: UUID

    @fraiseql.query
    def plain(info: Any) -> Plain:
        return Plain(id=uuid.uuid4())

    with pytest.raises(SchemaDefinitionError, match="at least one type with a sql_source"):
        Schema(types=[Plain], queries=[plain], federation=True)
