"""Identifiers are unique per tenant: nothing tells another tenant's entity from a missing one.

With a global ``UNIQUE (identifier)``, ``createPost`` with another organisation's slug answered
CONFLICT (and a slug used nowhere created a post): any tenant could confirm another's slugs.
The example now makes every tenant-owned identifier (and the users' emails) unique per
organisation, and every lookup by reference resolves within the caller's tenant.

Each probe here runs one operation twice as tenant A, once with B's entity and once with one
that exists nowhere, through the example app as served (``blog_app``, the ``X-Tenant-Id``
claim), and requires the two responses to be identical once the generated UUIDs and the probe
itself are replaced by placeholders; B's rows must not change. The database has its own seed
(mutations write to it), in which the first post of every organisation is ``welcome``.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from examples.blog.app import TENANT_HEADER, build
from examples.blog.database import load_schema, seed
from examples.blog.security import APP_ROLE, TENANT_SETTING
from tests.conftest import temporary_database

from fraiseql import Schema

PAYLOAD = "status message id errors { field message code } post { id identifier title }"
CREATE = f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdatePostInput!) {{ updatePost(input: $input) {{ {PAYLOAD} }} }}"
DELETE = f"mutation($input: DeletePostInput!) {{ deletePost(input: $input) {{ {PAYLOAD} }} }}"
BATCH = (
    "status message failedIndex failedCount errors { field message code } "
    "items { index status message id errors { field message code } post { id identifier } }"
)
CREATE_MANY = (
    f"mutation($input: [CreatePostInput!]!) {{ createPosts(input: $input) {{ {BATCH} }} }}"
)
UPDATE_MANY = (
    f"mutation($input: [UpdatePostInput!]!) {{ updatePosts(input: $input) {{ {BATCH} }} }}"
)
POST_BY_IDENTIFIER = "query($x: String) { post(identifier: $x) { id identifier title } }"
POST_BY_ID = "query($x: UUID) { post(id: $x) { id identifier title } }"
USER_BY_IDENTIFIER = "query($x: String) { user(identifier: $x) { id identifier email } }"
USER_BY_ID = "query($x: UUID) { user(id: $x) { id identifier email } }"
POSTS_WHERE = "query($x: String) { posts(where: {identifier: {eq: $x}}) { id identifier } }"
USERS_WHERE = "query($x: String) { users(where: {identifier: {eq: $x}}) { totalCount edges { node { id } } } }"
COMMENTS_OF_POST = (
    "query($x: String) { comments(where: {post: {identifier: {eq: $x}}}) { id identifier } }"
)

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BASE = {"title": "Probe", "body": "probing", "categoryPath": "tech"}

# What B owns, read as the superuser: every row of B's organisation in every table.
_B_ROWS = {
    f"{table}": f"SELECT t::text FROM {table} t WHERE {column} = $1 ORDER BY t::text"
    for table, column in [
        ("tb_user", "fk_organisation"),
        ("tb_post", "fk_organisation"),
        ("tb_comment", "fk_organisation"),
        ("tv_user", "tenant_id::text"),
        ("tv_post", "tenant_id::text"),
        ("tv_comment", "tenant_id::text"),
    ]
}


@dataclass(frozen=True)
class Tenant:
    """An organisation as the probes need it (read as the superuser)."""

    pk: int
    id: str
    author: str  # the identifier of one of its authors
    post_ids: list[str]
    post_identifiers: list[str]  # its posts' identifiers used by no other organisation
    user_ids: list[str]
    user_identifiers: list[str]  # its users' identifiers used by no other organisation


@dataclass(frozen=True)
class World:
    dsn: str
    a: Tenant
    b: Tenant


# The id and identifier of each of an organisation's rows, and whether no other uses the identifier.
_OWNED = """
SELECT t.id::text, t.identifier,
       NOT EXISTS (SELECT 1 FROM tb_{entity} o
                   WHERE o.identifier = t.identifier AND o.fk_organisation <> $1) AS unique_to_it
FROM tb_{entity} t WHERE t.fk_organisation = $1 ORDER BY t.pk_{entity}
"""


async def _tenant(connection: asyncpg.Connection, identifier: str) -> Tenant:
    pk, id_ = await connection.fetchrow(
        "SELECT pk_organisation, id::text FROM tb_organisation WHERE identifier = $1", identifier
    )
    author = await connection.fetchval(
        "SELECT identifier FROM tb_user WHERE fk_organisation = $1 AND role <> 'reader' "
        "ORDER BY pk_user LIMIT 1",
        pk,
    )
    posts = await connection.fetch(_OWNED.format(entity="post"), pk)
    users = await connection.fetch(_OWNED.format(entity="user"), pk)
    return Tenant(
        pk=pk,
        id=id_,
        author=author,
        post_ids=[row["id"] for row in posts],
        post_identifiers=[row["identifier"] for row in posts if row["unique_to_it"]],
        user_ids=[row["id"] for row in users],
        user_identifiers=[row["identifier"] for row in users if row["unique_to_it"]],
    )


@pytest.fixture(scope="module")
async def world(server_dsn: str) -> AsyncIterator[World]:
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, organisations=3, users=12, posts=60, comments_per_post=1)
        connection = await asyncpg.connect(dsn)
        try:
            a, b = await _tenant(connection, "acme"), await _tenant(connection, "globex")
        finally:
            await connection.close()
        assert a.post_identifiers and len(b.post_identifiers) > 3 and len(b.user_identifiers) > 2
        yield World(dsn, a, b)


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = build(world.dsn)
    schema: Schema = app.state.fraiseql_schema
    await schema.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await schema.close()


async def _run(
    client: httpx.AsyncClient, tenant: Tenant, query: str, **variables: object
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={TENANT_HEADER: tenant.id},
    )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def _normalised(value: object, probe: str) -> object:
    """``value`` with every UUID and every occurrence of ``probe`` replaced by a placeholder."""
    if isinstance(value, dict):
        return {key: _normalised(item, probe) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item, probe) for item in value]
    if isinstance(value, str):
        return UUID_TEXT.sub("<uuid>", value.replace(probe, "<probe>"))
    return value


@asynccontextmanager
async def _b_unchanged(world: World) -> AsyncIterator[None]:
    """Fail if any row of B's organisation, in any tb_* or tv_* table, changes inside."""

    async def snapshot() -> dict[str, list[str]]:
        connection = await asyncpg.connect(world.dsn)
        try:
            snapshot: dict[str, list[str]] = {}
            for table, sql in _B_ROWS.items():
                key = world.b.id if table.startswith("tv_") else world.b.pk
                snapshot[table] = [row[0] for row in await connection.fetch(sql, key)]
            return snapshot
        finally:
            await connection.close()

    before = await snapshot()
    assert before["tb_post"] and before["tv_post"]
    yield
    assert await snapshot() == before


async def _same_answer(
    client: httpx.AsyncClient,
    world: World,
    query: str,
    variables: Callable[[str], dict[str, object]],
    theirs: str,
    unknown: str,
) -> dict[str, Any]:
    """Run ``query`` as A with B's reference, then with an unknown one: the same answer."""
    async with _b_unchanged(world):
        with_theirs = await _run(client, world.a, query, **variables(theirs))
        with_unknown = await _run(client, world.a, query, **variables(unknown))
    assert _normalised(with_theirs, theirs) == _normalised(with_unknown, unknown)
    return with_theirs


def _fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


# --- writes -------------------------------------------------------------------------------------


async def test_create_with_another_tenants_identifier_is_a_plain_create(
    client: httpx.AsyncClient, world: World
) -> None:
    theirs = world.b.post_identifiers[-1]  # (the other tests leave this one to B alone)
    answer = await _same_answer(
        client,
        world,
        CREATE,
        lambda x: {"input": {**BASE, "identifier": x, "author": world.a.author}},
        theirs,
        _fresh("nowhere"),
    )
    payload = answer["data"]["createPost"]
    assert payload["status"] == "SUCCESS" and payload["errors"] == []
    assert payload["post"]["identifier"] == theirs
    # A now has a post with B's identifier: both organisations keep theirs.
    mine = await _run(client, world.a, POST_BY_IDENTIFIER, x=theirs)
    assert mine["data"]["post"]["id"] == payload["id"]
    assert mine["data"]["post"]["id"] not in world.b.post_ids
    theirs_seen = await _run(client, world.b, POST_BY_IDENTIFIER, x=theirs)
    assert theirs_seen["data"]["post"]["id"] in world.b.post_ids


@pytest.mark.parametrize("by", ["identifier", "id"])
async def test_another_tenants_author_does_not_exist(
    client: httpx.AsyncClient, world: World, by: str
) -> None:
    theirs = world.b.user_identifiers[0] if by == "identifier" else world.b.user_ids[0]
    unknown = _fresh("nobody") if by == "identifier" else str(uuid.uuid4())
    answer = await _same_answer(
        client,
        world,
        CREATE,
        lambda x: {"input": {**BASE, "identifier": "probe-author", "author": x}},
        theirs,
        unknown,
    )
    payload = answer["data"]["createPost"]
    assert payload["status"] == "VALIDATION_ERROR" and payload["post"] is None
    assert [error["field"] for error in payload["errors"]] == ["author"]


@pytest.mark.parametrize("by", ["identifier", "id"])
@pytest.mark.parametrize("mutation", ["updatePost", "updatePostVersioned", "deletePost"])
async def test_another_tenants_post_cannot_be_changed_or_deleted(
    client: httpx.AsyncClient, world: World, mutation: str, by: str
) -> None:
    theirs = world.b.post_identifiers[1] if by == "identifier" else world.b.post_ids[1]
    unknown = _fresh("no-such-post") if by == "identifier" else str(uuid.uuid4())
    query, field, extra = {
        "updatePost": (UPDATE, "updatePost", {"title": "Taken over"}),
        "updatePostVersioned": (UPDATE, "updatePost", {"title": "Taken", "expectedVersion": 1}),
        "deletePost": (DELETE, "deletePost", {}),
    }[mutation]
    answer = await _same_answer(
        client, world, query, lambda x: {"input": {"post": x, **extra}}, theirs, unknown
    )
    payload = answer["data"][field]
    assert payload["status"] == "NOT_FOUND" and payload["post"] is None
    assert payload["id"] is None


async def test_batches_treat_another_tenants_references_as_unknown(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await _same_answer(
        client,
        world,
        CREATE_MANY,
        lambda x: {"input": [{**BASE, "identifier": "probe-batch", "author": x}]},
        world.b.user_identifiers[1],
        _fresh("nobody"),
    )
    assert created["data"]["createPosts"]["items"][0]["status"] == "VALIDATION_ERROR"
    updated = await _same_answer(
        client,
        world,
        UPDATE_MANY,
        lambda x: {"input": [{"post": x, "title": "Taken over"}]},
        world.b.post_ids[2],
        str(uuid.uuid4()),
    )
    assert updated["data"]["updatePosts"]["items"][0]["status"] == "NOT_FOUND"


# --- reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        (POST_BY_IDENTIFIER, "post identifier"),
        (POST_BY_ID, "post id"),
        (POSTS_WHERE, "post identifier"),
        (COMMENTS_OF_POST, "post identifier"),
        (USER_BY_IDENTIFIER, "user identifier"),
        (USER_BY_ID, "user id"),
        (USERS_WHERE, "user identifier"),
    ],
)
async def test_lookups_of_another_tenants_entities_find_nothing(
    client: httpx.AsyncClient, world: World, query: str, kind: str
) -> None:
    theirs, unknown = {
        "post identifier": (world.b.post_identifiers[0], _fresh("no-such-post")),
        "post id": (world.b.post_ids[0], str(uuid.uuid4())),
        "user identifier": (world.b.user_identifiers[0], _fresh("nobody")),
        "user id": (world.b.user_ids[0], str(uuid.uuid4())),
    }[kind]
    answer = await _same_answer(client, world, query, lambda x: {"x": x}, theirs, unknown)
    assert "errors" not in answer
    (value,) = answer["data"].values()
    assert value in (None, [], {"totalCount": 0, "edges": []})
    # B itself finds it: the probe was not vacuous.
    (found,) = (await _run(client, world.b, query, x=theirs))["data"].values()
    assert found not in (None, [], {"totalCount": 0, "edges": []})


# --- identifiers shared by tenants --------------------------------------------------------------


async def test_two_tenants_can_create_the_same_identifier(
    client: httpx.AsyncClient, world: World
) -> None:
    identifier = _fresh("shared")
    ids = []
    for tenant in (world.a, world.b):
        result = await _run(
            client,
            tenant,
            CREATE,
            input={**BASE, "identifier": identifier, "author": tenant.author},
        )
        payload = result["data"]["createPost"]
        assert payload["status"] == "SUCCESS", payload
        ids.append(payload["id"])
    assert ids[0] != ids[1]
    for tenant, id_ in zip((world.a, world.b), ids, strict=True):
        found = await _run(client, tenant, POST_BY_IDENTIFIER, x=identifier)
        assert found["data"]["post"]["id"] == id_


async def test_a_duplicate_within_a_tenant_is_a_conflict_on_identifier(
    client: httpx.AsyncClient, world: World
) -> None:
    identifier = _fresh("twice")
    variables = {"input": {**BASE, "identifier": identifier, "author": world.a.author}}
    first = await _run(client, world.a, CREATE, **variables)
    assert first["data"]["createPost"]["status"] == "SUCCESS"
    async with _b_unchanged(world):
        second = await _run(client, world.a, CREATE, **variables)
    payload = second["data"]["createPost"]
    assert payload["status"] == "CONFLICT" and payload["post"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("identifier", "unique_violation")
    ]
    # The seeded "welcome" post exists in A too: the same conflict.
    welcome = await _run(
        client, world.a, CREATE, input={**BASE, "identifier": "welcome", "author": world.a.author}
    )
    assert welcome["data"]["createPost"]["errors"][0]["field"] == "identifier"


async def test_a_shared_seeded_identifier_names_each_tenants_own_post(
    client: httpx.AsyncClient, world: World
) -> None:
    connection = await asyncpg.connect(world.dsn)
    try:
        welcome = {
            row["fk_organisation"]: row["id"]
            for row in await connection.fetch(
                "SELECT fk_organisation, id::text FROM tb_post WHERE identifier = 'welcome'"
            )
        }
    finally:
        await connection.close()
    assert len(welcome) == 3  # the seed repeats it in every organisation
    for tenant in (world.a, world.b):
        found = await _run(client, tenant, POST_BY_IDENTIFIER, x="welcome")
        assert found["data"]["post"]["id"] == welcome[tenant.pk]
    async with _b_unchanged(world):
        result = await _run(
            client, world.a, UPDATE, input={"post": "welcome", "title": "Welcome to Acme"}
        )
    assert result["data"]["updatePost"]["status"] == "SUCCESS"
    assert result["data"]["updatePost"]["id"] == welcome[world.a.pk]


# --- the functions themselves, as the app role and as the superuser ----------------------------


async def test_reference_lookups_resolve_within_the_callers_tenant(world: World) -> None:
    """fn_user_pk / fn_post_pk: scoped by RLS as blog_app, and by the claim for anyone."""
    connection = await asyncpg.connect(world.dsn)
    try:
        pks = {
            (kind, row["reference"]): row["pk"]
            for kind, table in (("user", "tb_user"), ("post", "tb_post"))
            for row in await connection.fetch(
                f"SELECT pk_{kind} AS pk, identifier AS reference FROM {table} "
                f"WHERE identifier <> 'welcome' UNION ALL "
                f"SELECT pk_{kind}, id::text FROM {table}"
            )
        }
        own = [("user", world.a.author), ("post", world.a.post_ids[0]), ("post", "welcome")]
        foreign = [
            ("user", world.b.user_identifiers[0]),
            ("user", world.b.user_ids[0]),
            ("post", world.b.post_identifiers[0]),
            ("post", world.b.post_ids[0]),
        ]
        a_welcome = await connection.fetchval(
            "SELECT pk_post FROM tb_post WHERE identifier = 'welcome' AND fk_organisation = $1",
            world.a.pk,
        )

        async def lookup(kind: str, reference: str, *, role: str | None) -> int | None:
            async with connection.transaction():
                await connection.execute(
                    "SELECT set_config($1, $2, true)", TENANT_SETTING, world.a.id
                )
                if role is not None:
                    await connection.execute(f"SET LOCAL ROLE {role}")
                value: int | None = await connection.fetchval(f"SELECT fn_{kind}_pk($1)", reference)
                return value

        for role in (APP_ROLE, None):  # None: the superuser, whom RLS does not confine
            for kind, reference in own:
                expected = a_welcome if reference == "welcome" else pks[(kind, reference)]
                assert await lookup(kind, reference, role=role) == expected, (role, reference)
            for kind, reference in foreign:
                assert await lookup(kind, reference, role=role) is None, (role, reference)

        # RLS alone confines the role: it sees A's posts only, whatever it asks for.
        async with connection.transaction():
            await connection.execute("SELECT set_config($1, $2, true)", TENANT_SETTING, world.a.id)
            await connection.execute(f"SET LOCAL ROLE {APP_ROLE}")
            seen = await connection.fetchval(
                "SELECT array_agg(DISTINCT fk_organisation) FROM tb_post "
                "WHERE identifier = ANY ($1) OR id::text = ANY ($1)",
                [reference for _, reference in foreign + own],
            )
        assert seen == [world.a.pk]

        # Without a claim (the single-tenant app sees every organisation) an identifier that
        # several organisations use names no one, rather than an arbitrary one of them.
        assert await connection.fetchval("SELECT fn_post_pk('welcome')") is None
        assert (
            await connection.fetchval("SELECT fn_user_pk($1)", world.b.user_identifiers[0])
            == (pks[("user", world.b.user_identifiers[0])])
        )
    finally:
        await connection.close()


# --- the schema ---------------------------------------------------------------------------------

UNIQUE_INDEXES = """
SELECT c.relname AS "table", i.indexrelid::regclass::text AS index,
       array_agg(a.attname::text ORDER BY k.n) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, n)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE i.indisunique AND c.relname = ANY ($1)
GROUP BY c.relname, i.indexrelid
"""


async def test_every_unique_slug_is_scoped_by_the_tenant(world: World) -> None:
    tenant_column = {
        "tb_user": "fk_organisation",
        "tb_post": "fk_organisation",
        "tb_comment": "fk_organisation",
        "tv_user": "tenant_id",
        "tv_post": "tenant_id",
        "tv_comment": "tenant_id",
    }
    connection = await asyncpg.connect(world.dsn)
    try:
        rows = await connection.fetch(UNIQUE_INDEXES, list(tenant_column))
        scoped = set()
        for row in rows:
            columns = row["columns"]
            if columns == ["id"] or (len(columns) <= 2 and columns[0].startswith("pk_")):
                continue  # a globally unique key (and the composite foreign keys' targets)
            assert tenant_column[row["table"]] in columns, (row["index"], columns)
            assert columns[0] != tenant_column[row["table"]], row["index"]  # the field named
            scoped.add((row["table"], columns[0]))
        assert scoped == {
            ("tb_user", "identifier"),
            ("tb_user", "email"),
            ("tb_post", "identifier"),
            ("tb_comment", "identifier"),
            ("tv_user", "identifier"),
            ("tv_post", "identifier"),
            ("tv_comment", "identifier"),
        }
        # The denormalized tenant key cannot disagree with the author's (or the post's).
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute(
                "INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, "
                "category_path) SELECT 'misplaced', $1, pk_user, 't', '', 'tech' FROM tb_user "
                "WHERE fk_organisation = $2 LIMIT 1",
                world.a.pk,
                world.b.pk,
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute(
                "INSERT INTO tb_comment (identifier, fk_organisation, fk_post, fk_user, body) "
                "SELECT 'misplaced', $1, p.pk_post, u.pk_user, 'x' FROM tb_post p, tb_user u "
                "WHERE p.fk_organisation = $2 AND u.fk_organisation = $1 LIMIT 1",
                world.a.pk,
                world.b.pk,
            )
    finally:
        await connection.close()
