"""Hostile strings through every argument of the example schema: data, never SQL.

Every argument site of the example is enumerated from its GraphQL schema: each operator of each
filter field (nested objects, list quantifiers, and/or/not included), ``orderBy``, pagination
(``first``/``after``/``last``/``before``/``limit``/``offset``), ``id``/``identifier`` lookups
and every field of every mutation input. Hostile values go through the example app as served
(the ``blog_app`` role, a tenant claim) and three things are checked:

- a sentinel: ``fn_sentinel()`` records a row whenever it is called (SECURITY DEFINER, so any
  caller could), and the payloads try to call it in every quoting context; the table must stay
  empty (a self-test proves it would not);
- the statements the pool sent to PostgreSQL (the pool's statement observer) never contain a
  payload's marker, and one query document yields the same statement texts whatever the value:
  a value that reached the SQL text would make one text per value;
- every response is a spec-shaped answer: 200 with ``data`` and/or ``errors``, or a 400 for a
  body that is not valid JSON (lone surrogates), never a 500 or an internal error.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from examples.blog.app import TENANT_HEADER, build
from examples.blog.database import load_schema, seed
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import temporary_database

from fraiseql import Schema

MARKER = "sentinel"

SENTINEL_SQL = """
CREATE TABLE fq_sentinel_log (called_at timestamptz NOT NULL DEFAULT now(), note text);
CREATE FUNCTION fn_sentinel(note text DEFAULT '') RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = public
AS $$ INSERT INTO fq_sentinel_log (note) VALUES (note) RETURNING 'fired' $$;
GRANT EXECUTE ON FUNCTION fn_sentinel(text) TO PUBLIC;
"""

# Payloads that would call the sentinel if they ever became SQL, one per quoting context.
INJECTIONS = [
    "'); SELECT fn_sentinel('quote'); --",
    "' OR fn_sentinel('or') IS NOT NULL OR '",
    "x' || fn_sentinel('concat') || '",
    "\"; SELECT fn_sentinel('double'); --",
    "$$; SELECT fn_sentinel('dollar'); $$",
    "$tag$; SELECT fn_sentinel('tagged'); $tag$",
    "*/ SELECT fn_sentinel('comment'); /*",
    "\\'; SELECT fn_sentinel('backslash'); --",
    "$1); SELECT fn_sentinel('param'); --",
    "1; SELECT fn_sentinel('semicolon')",
    "data->>'x'); SELECT fn_sentinel('json'); --",
    '{"a": "\'); SELECT fn_sentinel(); --"}',
    '$.a ? (@ like_regex "fn_sentinel")',
    "a.b|fn_sentinel('ltree')",
    "\u02bc; SELECT fn_sentinel('modifier-apostrophe'); --",
    "\uff07; SELECT fn_sentinel('fullwidth'); --",
    "a\x00'; SELECT fn_sentinel('nul'); --",
    "\ud800'; SELECT fn_sentinel('surrogate'); --",
    "e'\\x27; SELECT fn_sentinel(''escape''); --",
    "'" * 40_000 + "; SELECT fn_sentinel('long'); --",
]

FRAGMENTS = [
    "'", '"', "$$", "$q$", ";", "--", "/*", "*/", "\\", "\x00", "\ud800", "\udfff", "\u2028",
    "\u202e", "é", "🚀", "%", "_", "(", ")", "::text", "->>", "@>", "?|", "$.a[*]", "@ == 1",
    " OR ", "1=1", "SELECT ", "fn_sentinel('h')", "$1", "E'", "\n", "\t", "{", "}", "[", "]",
    ",", ":", "*", "!", "|", ".", "0", "-", "x",
]  # fmt: skip

payloads = st.one_of(
    st.sampled_from(INJECTIONS),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map(
        lambda parts: "".join(parts) + f" fn_{MARKER}('gen')"
    ),
)


@dataclass(frozen=True)
class Site:
    """One place a client value reaches: a document with ``$v`` and how to wrap the value."""

    name: str
    document: str
    wrap: Any  # payload -> the value of $v

    def variables(self, payload: object) -> dict[str, object]:
        return {"v": self.wrap(payload)}


def _same(value: object) -> object:
    return value


def _listed(value: object) -> object:
    return [value]


def _wrapper(gql_type: GraphQLInputType) -> Any:
    """How to put a payload into a value of ``gql_type`` (a list type gets a one-item list)."""
    inner = gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type
    return _listed if isinstance(inner, GraphQLList) else _same


def _selection(schema: GraphQLSchema, output: Any) -> str:
    named = get_named_type(output)
    assert isinstance(named, GraphQLObjectType)
    if "edges" in named.fields:
        return "{ totalCount edges { cursor node { id } } pageInfo { endCursor } }"
    if "post" in named.fields and "status" in named.fields:  # a mutation payload
        return "{ status message errors { field code } post { id title } }"
    return "{ id }"


def _filter_paths(where: GraphQLInputObjectType, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """``(where literal with $v, type of $v)`` for every operator reachable from ``where``."""
    first: tuple[str, Any] | None = None
    for name, field in where.fields.items():
        named = get_named_type(field.type)
        assert isinstance(named, GraphQLInputObjectType)
        if name in ("and", "or", "not"):
            continue
        if named.name.endswith("WhereInput"):
            if depth < 2:
                for inner, gql_type in _filter_paths(named, depth + 1):
                    yield f"{{{name}: {inner}}}", gql_type
            continue
        for operator, operand in named.fields.items():
            operand_type = get_named_type(operand.type)
            if isinstance(operand_type, GraphQLInputObjectType):  # some / none / all
                if depth < 2:
                    for inner, gql_type in _filter_paths(operand_type, depth + 1):
                        yield f"{{{name}: {{{operator}: {inner}}}}}", gql_type
                continue
            literal = f"{{{name}: {{{operator}: $v}}}}"
            first = first or (literal, operand.type)
            yield literal, operand.type
    if first is not None and depth == 0:
        literal, gql_type = first
        yield f"{{or: [{literal}, {{not: {literal}}}]}}", gql_type
        yield f"{{and: [{literal}]}}", gql_type


MUTATION_INPUTS: dict[str, dict[str, object]] = {
    "createPost": {"title": "t", "body": "", "author": "alice", "categoryPath": "tech"},
    "updatePost": {"post": "PLACEHOLDER"},
    "deletePost": {"post": "no-such-post"},
}
# Batch mutations take a list of the single mutation's inputs: the payload goes into one item.
BATCH_OF = {"createPosts": "createPost", "updatePosts": "updatePost"}


def _mutation_sites(schema: GraphQLSchema) -> Iterator[Site]:
    mutation = schema.mutation_type
    assert mutation is not None
    serial = itertools.count()
    for name, field in mutation.fields.items():
        input_type = get_named_type(field.args["input"].type)
        assert isinstance(input_type, GraphQLInputObjectType)
        document = (
            f"mutation($v: {field.args['input'].type}) {{ {name}(input: $v) "
            f"{_selection(schema, field.type)} }}"
        )
        for key, input_field in input_type.fields.items():

            def wrap(
                payload: object, key: str = key, gql: Any = input_field.type, name: str = name
            ) -> object:
                single = BATCH_OF.get(name, name)
                base = dict(MUTATION_INPUTS[single])
                if single == "createPost":
                    base["identifier"] = f"fuzz-{next(serial)}"
                base[key] = _wrapper(gql)(payload)
                return [base] if name in BATCH_OF else base

            yield Site(f"{name}.input.{key}", document, wrap)


def sites(schema: GraphQLSchema) -> list[Site]:
    """Every argument site of the schema."""
    found: list[Site] = []
    seen_wheres: set[str] = set()
    query = schema.query_type
    assert query is not None
    for name, field in query.fields.items():
        selection = _selection(schema, field.type)
        for argument, definition in field.args.items():
            named = get_named_type(definition.type)
            if argument == "where":
                assert isinstance(named, GraphQLInputObjectType)
                if named.name in seen_wheres:  # one field per where type walks all of it
                    continue
                seen_wheres.add(named.name)
                for literal, gql_type in _filter_paths(named):
                    document = f"query($v: {gql_type}) {{ {name}(where: {literal}) {selection} }}"
                    found.append(Site(f"{name}.where{literal}", document, _wrapper(gql_type)))
            elif argument == "orderBy":
                assert isinstance(named, GraphQLInputObjectType)
                document = f"query($v: {definition.type}) {{ {name}(orderBy: $v) {selection} }}"
                found.append(Site(f"{name}.orderBy.key", document, lambda p: [{str(p): "ASC"}]))
                for key, order_field in named.fields.items():
                    if isinstance(get_named_type(order_field.type), GraphQLEnumType):
                        found.append(
                            Site(
                                f"{name}.orderBy.{key}",
                                document,
                                lambda p, key=key: [{key: p}],
                            )
                        )
            else:
                document = f"query($v: {definition.type}) {{ {name}({argument}: $v) {selection} }}"
                found.append(Site(f"{name}.{argument}", document, _wrapper(definition.type)))
    found.extend(_mutation_sites(schema))
    return found


@dataclass
class Fuzzed:
    client: httpx.AsyncClient
    statements: list[str]
    dsn: str
    sites: list[Site]


@pytest.fixture(scope="module")
async def fuzz_database(server_dsn: str) -> AsyncIterator[tuple[str, str, str]]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=2, users=6, posts=20, comments_per_post=1)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(SENTINEL_SQL)
            tenant, post = await connection.fetchrow(
                "SELECT o.id::text, p.identifier FROM tb_post p "
                "JOIN tb_user u ON u.pk_user = p.fk_user "
                "JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation "
                "WHERE u.identifier = 'alice' LIMIT 1"
            )
        finally:
            await connection.close()
        yield dsn, tenant, post


@pytest.fixture(scope="module")
async def fuzzed(fuzz_database: tuple[str, str, str]) -> AsyncIterator[Fuzzed]:
    dsn, tenant, post = fuzz_database
    MUTATION_INPUTS["updatePost"]["post"] = post
    app = build(dsn)
    schema: Schema = app.state.fraiseql_schema
    statements: list[str] = []
    assert schema.database is not None
    schema.database.observe_statements = True
    schema.database.statement_observers.append(statements.append)
    await schema.open()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers={TENANT_HEADER: tenant}
        ) as client:
            yield Fuzzed(client, statements, dsn, sites(schema.graphql_schema))
    finally:
        await schema.close()


async def _send(fuzzed: Fuzzed, site: Site, payload: object) -> list[str]:
    """Send ``payload`` at ``site``; check the response; the statements it caused."""
    fuzzed.statements.clear()
    # json.dumps escapes lone surrogates as \\ud800: the body is what a client could send.
    body = json.dumps({"query": site.document, "variables": site.variables(payload)})
    response = await fuzzed.client.post(
        "/graphql", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400), (site.name, response.status_code, response.text)
    answer = response.json()
    assert isinstance(answer, dict) and ("data" in answer or "errors" in answer), site.name
    if response.status_code == 400:
        assert "data" not in answer
    for error in answer.get("errors", ()):
        assert isinstance(error["message"], str)
        assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", (
            site.name,
            error,
        )
    executed = list(fuzzed.statements)
    for statement in executed:
        assert MARKER not in statement.lower(), (site.name, statement)
    return executed


async def _sentinel_calls(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM fq_sentinel_log"))
    finally:
        await connection.close()


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SELECT SET_CONFIG")


def _shaping(statements: list[str]) -> set[str]:
    return {s for s in statements if not s.lstrip().upper().startswith(CONTROL)}


async def test_the_sentinel_would_fire(fuzz_database: tuple[str, str, str]) -> None:
    dsn = fuzz_database[0]
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SET LOCAL ROLE blog_app")  # the role requests run as
        assert await connection.fetchval("SELECT fn_sentinel('self-test')") == "fired"
        await connection.execute("RESET ROLE")
        assert await connection.fetchval("SELECT count(*) FROM fq_sentinel_log") == 1
        await transaction.rollback()
    finally:
        await connection.close()
    assert await _sentinel_calls(dsn) == 0


def test_every_argument_kind_is_covered(fuzzed: Fuzzed) -> None:
    names = {site.name for site in fuzzed.sites}
    for expected in [
        "post.id", "post.identifier", "user.id", "user.identifier",
        "posts.limit", "posts.offset", "postsConnection.first", "postsConnection.after",
        "postsConnection.last", "postsConnection.before", "users.after",
        "posts.orderBy.key", "posts.orderBy.title", "comments.orderBy.createdAt",
        "posts.where{title: {icontains: $v}}", "posts.where{categoryPath: {matches: $v}}",
        "posts.where{tags: {overlaps: $v}}", "posts.where{status: {in: $v}}",
        "posts.where{publishedAt: {gte: $v}}", "posts.where{rating: {lt: $v}}",
        "posts.where{author: {name: {startsWith: $v}}}",
        "posts.where{comments: {some: {body: {contains: $v}}}}",
        "users.where{email: {endsWith: $v}}", "users.where{role: {eq: $v}}",
        "organisations.where{identifier: {eq: $v}}",
        "createPost.input.title", "createPost.input.tags", "createPost.input.categoryPath",
        "updatePost.input.expectedVersion", "deletePost.input.post",
    ]:  # fmt: skip
        assert expected in names, expected
    assert any(name.startswith("posts.where{or: [") for name in names)
    assert len(fuzzed.sites) > 150


async def test_every_site_with_every_injection(fuzzed: Fuzzed) -> None:
    reached_sql = 0
    for site in fuzzed.sites:
        per_payload = [_shaping(await _send(fuzzed, site, p)) for p in INJECTIONS[:4]]
        per_payload.append(_shaping(await _send(fuzzed, site, INJECTIONS[-1])))  # 40 000 quotes
        per_payload.append(_shaping(await _send(fuzzed, site, INJECTIONS[-4])))  # NUL
        # One document, one set of statement texts: the values stayed bind parameters.
        union = set().union(*per_payload)
        assert len(union) <= max(len(texts) for texts in per_payload), (site.name, union)
        reached_sql += bool(union)
    # Most sites take a string (or a list of them) and run their SQL with the payload bound;
    # the others (numbers, UUIDs, dates, enums) refuse it while coercing variables.
    assert reached_sql > len(fuzzed.sites) // 2, (reached_sql, len(fuzzed.sites))
    assert await _sentinel_calls(fuzzed.dsn) == 0


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_generated_payloads_at_random_sites(fuzzed: Fuzzed, data: st.DataObject) -> None:
    site = data.draw(st.sampled_from(fuzzed.sites), label="site")
    payload = data.draw(payloads, label="payload")
    await _send(fuzzed, site, payload)


async def test_no_payload_ever_reached_the_sentinel(fuzzed: Fuzzed) -> None:
    assert await _sentinel_calls(fuzzed.dsn) == 0
