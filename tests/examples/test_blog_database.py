"""The example blog's schema, seed and read models, against a real PostgreSQL.

The read models are checked against an oracle: the documents are rebuilt in Python from the tb_*
rows and must equal what the sync functions stored, value for value.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from examples.blog.database import load_schema, seed
from tests.conftest import temporary_database

# Small enough to be quick, large enough to get every status, null and hostile string.
SMALL = {"organisations": 3, "users": 25, "posts": 80, "comments_per_post": 2, "random_seed": 7}

ENTITIES = ("organisation", "user", "post", "comment")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$")

Documents = dict[uuid.UUID, tuple[str, uuid.UUID, dict[str, Any]]]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def empty_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    async with temporary_database(server_dsn) as dsn:
        yield dsn


@pytest.fixture(scope="module")
async def blog_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database with the blog schema and the SMALL seed, shared by this module's tests.

    Tests must not change it: use ``blog`` for anything that writes.
    """
    async with temporary_database(server_dsn) as dsn:
        await load_schema(dsn)
        await seed(dsn, **SMALL)
        yield dsn


@pytest.fixture
async def blog(blog_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the seeded database inside a transaction that is rolled back."""
    connection = await asyncpg.connect(blog_dsn)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


# --- helpers -----------------------------------------------------------------------------------


def parse(text: str) -> Any:
    """Parse JSON keeping numbers with decimals exact (4.50 stays Decimal('4.50'))."""
    return json.loads(text, parse_float=Decimal)


async def read_models(connection: asyncpg.Connection, entity: str) -> Documents:
    rows = await connection.fetch(f"SELECT id, identifier, tenant_id, data::text FROM tv_{entity}")
    return {row["id"]: (row["identifier"], row["tenant_id"], parse(row["data"])) for row in rows}


async def all_read_models(connection: asyncpg.Connection) -> dict[str, Documents]:
    return {entity: await read_models(connection, entity) for entity in ENTITIES}


def iso(moment: datetime | None) -> str | None:
    """Render a timestamptz the way to_jsonb does with TimeZone = 'UTC'."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "+00:00"


async def expected_read_models(connection: asyncpg.Connection) -> dict[str, Documents]:
    """Build every tv_* row in Python from the tb_* rows: the oracle."""
    orgs = {
        r["pk_organisation"]: r for r in await connection.fetch("SELECT * FROM tb_organisation")
    }
    users = {r["pk_user"]: r for r in await connection.fetch("SELECT * FROM tb_user")}
    posts = {r["pk_post"]: r for r in await connection.fetch("SELECT * FROM tb_post")}
    comments = await connection.fetch("SELECT * FROM tb_comment")

    def org_of(user_pk: int) -> asyncpg.Record:
        return orgs[users[user_pk]["fk_organisation"]]

    result: dict[str, Documents] = {entity: {} for entity in ENTITIES}
    for o in orgs.values():
        result["organisation"][o["id"]] = (
            o["identifier"],
            o["id"],
            {
                "id": str(o["id"]),
                "identifier": o["identifier"],
                "name": o["name"],
                "created_at": iso(o["created_at"]),
            },
        )
    for u in users.values():
        o = orgs[u["fk_organisation"]]
        result["user"][u["id"]] = (
            u["identifier"],
            o["id"],
            {
                "id": str(u["id"]),
                "identifier": u["identifier"],
                "name": u["name"],
                "email": u["email"],
                "role": u["role"],
                "bio": u["bio"],
                "created_at": iso(u["created_at"]),
                "organisation": {
                    "id": str(o["id"]),
                    "identifier": o["identifier"],
                    "name": o["name"],
                },
            },
        )
    comments_of: dict[int, list[asyncpg.Record]] = {}
    for c in comments:
        comments_of.setdefault(c["fk_post"], []).append(c)
        post = posts[c["fk_post"]]
        author = users[c["fk_user"]]
        result["comment"][c["id"]] = (
            c["identifier"],
            org_of(post["fk_user"])["id"],
            {
                "id": str(c["id"]),
                "identifier": c["identifier"],
                "body": c["body"],
                "created_at": iso(c["created_at"]),
                "post": {
                    "id": str(post["id"]),
                    "identifier": post["identifier"],
                    "title": post["title"],
                },
                "author": {
                    "id": str(author["id"]),
                    "identifier": author["identifier"],
                    "name": author["name"],
                },
            },
        )
    for p in posts.values():
        author = users[p["fk_user"]]
        ordered = sorted(
            comments_of.get(p["pk_post"], []), key=lambda c: (c["created_at"], c["id"])
        )
        result["post"][p["id"]] = (
            p["identifier"],
            org_of(p["fk_user"])["id"],
            {
                "id": str(p["id"]),
                "identifier": p["identifier"],
                "title": p["title"],
                "body": p["body"],
                "status": p["status"],
                "tags": list(p["tags"]),
                "rating": p["rating"],
                "view_count": p["view_count"],
                "version": p["version"],
                "published_at": iso(p["published_at"]),
                "created_at": iso(p["created_at"]),
                "category_path": p["category_path"],
                "author": {
                    "id": str(author["id"]),
                    "identifier": author["identifier"],
                    "name": author["name"],
                    "email": author["email"],
                },
                "comments": [
                    {
                        "id": str(c["id"]),
                        "identifier": c["identifier"],
                        "body": c["body"],
                        "created_at": iso(c["created_at"]),
                        "author": {
                            "id": str(users[c["fk_user"]]["id"]),
                            "identifier": users[c["fk_user"]]["identifier"],
                            "name": users[c["fk_user"]]["name"],
                        },
                    }
                    for c in ordered
                ],
            },
        )
    return result


async def count(connection: asyncpg.Connection, table: str) -> int:
    value = await connection.fetchval(f"SELECT count(*) FROM {table}")
    assert isinstance(value, int)
    return value


async def changed_in_this_transaction(connection: asyncpg.Connection, table: str) -> set[uuid.UUID]:
    rows = await connection.fetch(f"SELECT id FROM {table} WHERE xmin = pg_current_xact_id()::xid")
    return {row["id"] for row in rows}


# --- schema ------------------------------------------------------------------------------------

CATALOG = """
SELECT c.relkind::text || ' ' || c.relname FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relname ~ '^(tb|tv|v_tv)_'
UNION ALL
SELECT 'f ' || p.oid::regprocedure::text || ' ' || array_to_string(p.proconfig, ',')
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'fn\\_%'
ORDER BY 1
"""


async def test_schema_loads_twice(empty_dsn: str) -> None:
    await load_schema(empty_dsn)
    connection = await asyncpg.connect(empty_dsn)
    try:
        first = [r[0] for r in await connection.fetch(CATALOG)]
        await seed(empty_dsn, organisations=1, users=2, posts=3, comments_per_post=1)
        assert await count(connection, "tv_post") == 3

        await load_schema(empty_dsn)

        assert [r[0] for r in await connection.fetch(CATALOG)] == first
        assert await count(connection, "tb_post") == 0
        assert await count(connection, "tv_post") == 0
    finally:
        await connection.close()
    for entity in ENTITIES:
        assert f"r tb_{entity}" in first
        assert f"r tv_{entity}" in first
        assert f"v v_tv_{entity}" in first
        assert f"f fn_sync_tv_{entity}(uuid[]) TimeZone=UTC" in first


# --- seed --------------------------------------------------------------------------------------


async def test_seed_counts(blog: asyncpg.Connection) -> None:
    assert await count(blog, "tb_organisation") == SMALL["organisations"]
    assert await count(blog, "tb_user") == SMALL["users"]
    assert await count(blog, "tb_post") == SMALL["posts"]
    not_drafts = await blog.fetchval("SELECT count(*) FROM tb_post WHERE status <> 'draft'")
    assert await count(blog, "tb_comment") == SMALL["comments_per_post"] * not_drafts
    for entity in ENTITIES:
        assert await count(blog, f"tv_{entity}") == await count(blog, f"tb_{entity}")


async def test_seed_spreads_values(blog: asyncpg.Connection) -> None:
    statuses = {r[0] for r in await blog.fetch("SELECT DISTINCT status FROM tb_post")}
    assert statuses == {"draft", "published", "archived"}
    roles = {r[0] for r in await blog.fetch("SELECT DISTINCT role FROM tb_user")}
    assert roles == {"admin", "author", "reader"}
    for column, table in [("bio", "tb_user"), ("rating", "tb_post"), ("published_at", "tb_post")]:
        nulls = await blog.fetchval(f"SELECT count(*) FILTER (WHERE {column} IS NULL) FROM {table}")
        assert 0 < nulls < await count(blog, table), column
    assert await blog.fetchval("SELECT count(*) FROM tb_post WHERE tags = '{}'") > 0
    assert await blog.fetchval("SELECT count(*) FROM tb_post WHERE cardinality(tags) > 1") > 0
    # Authors write posts; commenters belong to the post's organisation.
    assert await blog.fetchval(
        "SELECT bool_and(u.role <> 'reader') FROM tb_post p JOIN tb_user u ON u.pk_user = p.fk_user"
    )
    assert await blog.fetchval(
        """SELECT bool_and(cu.fk_organisation = pu.fk_organisation)
           FROM tb_comment c JOIN tb_user cu ON cu.pk_user = c.fk_user
           JOIN tb_post p ON p.pk_post = c.fk_post JOIN tb_user pu ON pu.pk_user = p.fk_user"""
    )
    first = await blog.fetch("SELECT identifier, email, role FROM tb_user ORDER BY pk_user LIMIT 2")
    assert [tuple(r) for r in first] == [
        ("alice", "alice@acme.example", "admin"),
        ("bob", "bob@globex.example", "author"),
    ]


async def test_seed_repeats_identifiers_across_organisations(blog: asyncpg.Connection) -> None:
    """Identifiers are unique per organisation: the first post of each one is ``welcome``."""
    welcome = await blog.fetch(
        """SELECT p.fk_organisation, p.pk_post,
                  min(q.pk_post) AS first_of_organisation
           FROM tb_post p JOIN tb_post q ON q.fk_organisation = p.fk_organisation
           WHERE p.identifier = 'welcome' GROUP BY p.fk_organisation, p.pk_post"""
    )
    assert len(welcome) == SMALL["organisations"]
    assert all(row["pk_post"] == row["first_of_organisation"] for row in welcome)
    # Every other identifier is unique, and the tenant key is the author's (the post's).
    assert await blog.fetchval(
        "SELECT count(*) = count(DISTINCT identifier) FROM tb_post WHERE identifier <> 'welcome'"
    )
    assert await blog.fetchval(
        """SELECT bool_and(p.fk_organisation = u.fk_organisation)
           FROM tb_post p JOIN tb_user u ON u.pk_user = p.fk_user"""
    )
    assert await blog.fetchval(
        """SELECT bool_and(c.fk_organisation = p.fk_organisation)
           FROM tb_comment c JOIN tb_post p ON p.pk_post = c.fk_post"""
    )


async def test_seed_contains_hostile_strings(blog: asyncpg.Connection) -> None:
    text = "\n".join(
        [r[0] for r in await blog.fetch("SELECT data::text FROM tv_post")]
        + [r[0] for r in await blog.fetch("SELECT data::text FROM tv_user")]
        + [r[0] for r in await blog.fetch("SELECT data::text FROM tv_organisation")]
    )
    # JSON text: quotes, backslashes and control characters appear escaped.
    for needle in ["'; DROP TABLE", '\\"', "\\\\", "\\n", "\\t", "\u2028", "<script>", "日本語"]:
        assert needle in text, needle
    assert any(ord(character) > 0xFFFF for character in text)  # emoji, outside the BMP


DETERMINISTIC = """
SELECT array_agg(row(o.identifier, o.name, o.created_at)::text ORDER BY o.pk_organisation)
FROM tb_organisation o
UNION ALL
SELECT array_agg(row(u.identifier, u.fk_organisation, u.name, u.email, u.role, u.bio, u.created_at)
                 ::text ORDER BY u.pk_user)
FROM tb_user u
UNION ALL
SELECT array_agg(row(p.identifier, p.fk_organisation, p.fk_user, p.title, p.body, p.status, p.tags, p.rating,
                     p.view_count, p.published_at, p.category_path, p.created_at)::text
                 ORDER BY p.pk_post)
FROM tb_post p
UNION ALL
SELECT array_agg(row(c.identifier, c.fk_organisation, c.fk_post, c.fk_user, c.body,
                     c.created_at)::text
                 ORDER BY c.pk_comment)
FROM tb_comment c
"""


async def test_seed_is_deterministic(empty_dsn: str) -> None:
    await load_schema(empty_dsn)
    connection = await asyncpg.connect(empty_dsn)
    try:
        await seed(empty_dsn, **SMALL)
        first = [r[0] for r in await connection.fetch(DETERMINISTIC)]
        first_ids = await connection.fetchval("SELECT array_agg(id ORDER BY pk_post) FROM tb_post")
        await seed(empty_dsn, **SMALL)
        assert [r[0] for r in await connection.fetch(DETERMINISTIC)] == first
        ids = await connection.fetchval("SELECT array_agg(id ORDER BY pk_post) FROM tb_post")
        assert ids != first_ids  # UUIDs are random, everything else is not

        await seed(empty_dsn, **{**SMALL, "random_seed": SMALL["random_seed"] + 1})
        assert [r[0] for r in await connection.fetch(DETERMINISTIC)] != first

        # A post does not depend on how many are seeded after it.
        await seed(empty_dsn, **{**SMALL, "posts": SMALL["posts"] * 2})
        posts = (await connection.fetch(DETERMINISTIC))[2][0]
        assert posts[: SMALL["posts"]] == first[2]
    finally:
        await connection.close()


@pytest.mark.parametrize(
    "arguments",
    [
        {"organisations": 0},
        {"users": -1},
        {"posts": -5},
        {"comments_per_post": -1},
        {"users": 0, "posts": 1},
    ],
)
async def test_seed_rejects_impossible_parameters(arguments: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        await seed("postgresql://unused", **arguments)


# --- read models -------------------------------------------------------------------------------


async def test_read_models_equal_the_oracle(blog: asyncpg.Connection) -> None:
    actual = await all_read_models(blog)
    expected = await expected_read_models(blog)
    for entity in ENTITIES:
        assert actual[entity].keys() == expected[entity].keys(), entity
        for id_, row in expected[entity].items():
            assert actual[entity][id_] == row, (entity, id_)


async def test_read_models_equal_a_fresh_sync(blog: asyncpg.Connection) -> None:
    before = await all_read_models(blog)
    for entity in ENTITIES:
        assert await blog.fetchval(f"SELECT fn_sync_tv_{entity}()") == 0, entity
    assert await all_read_models(blog) == before
    assert not await changed_in_this_transaction(blog, "tv_post")

    await blog.execute("TRUNCATE tv_organisation, tv_user, tv_post, tv_comment")
    for entity in ENTITIES:
        written = await blog.fetchval(f"SELECT fn_sync_tv_{entity}()")
        assert written == len(before[entity])
    assert await all_read_models(blog) == before


ORG_KEYS = {"id", "identifier", "name", "created_at"}
USER_KEYS = {"id", "identifier", "name", "email", "role", "bio", "created_at", "organisation"}
POST_KEYS = {
    "id",
    "identifier",
    "title",
    "body",
    "status",
    "tags",
    "rating",
    "view_count",
    "version",
    "published_at",
    "created_at",
    "category_path",
    "author",
    "comments",
}
COMMENT_KEYS = {"id", "identifier", "body", "created_at", "post", "author"}


def check_uuid(value: object) -> None:
    assert isinstance(value, str)
    assert str(uuid.UUID(value)) == value


def check_timestamp(value: object) -> None:
    assert isinstance(value, str)
    assert TIMESTAMP.match(value), value


async def test_json_shapes(blog: asyncpg.Connection) -> None:
    models = await all_read_models(blog)
    for identifier, tenant_id, data in models["organisation"].values():
        assert data.keys() == ORG_KEYS
        assert data["id"] == str(tenant_id)
        assert data["identifier"] == identifier
        check_timestamp(data["created_at"])
    for identifier, _, data in models["user"].values():
        assert data.keys() == USER_KEYS
        assert data["identifier"] == identifier
        check_uuid(data["id"])
        assert data["role"] in {"admin", "author", "reader"}
        assert data["bio"] is None or isinstance(data["bio"], str)
        check_timestamp(data["created_at"])
        assert data["organisation"].keys() == {"id", "identifier", "name"}
        check_uuid(data["organisation"]["id"])
    comment_counts = set()
    for identifier, _, data in models["post"].values():
        assert data.keys() == POST_KEYS
        assert data["identifier"] == identifier
        assert data["status"] in {"draft", "published", "archived"}
        assert isinstance(data["tags"], list)
        assert all(isinstance(tag, str) for tag in data["tags"])
        if data["rating"] is not None:
            assert isinstance(data["rating"], Decimal)
            assert re.fullmatch(r"\d\.\d\d", str(data["rating"]))
        assert type(data["view_count"]) is int
        assert data["view_count"] >= 0
        if data["published_at"] is not None:
            check_timestamp(data["published_at"])
        check_timestamp(data["created_at"])
        assert re.fullmatch(r"[a-z]+(\.[a-z]+)*", data["category_path"])
        assert data["author"].keys() == {"id", "identifier", "name", "email"}
        assert isinstance(data["comments"], list)
        comment_counts.add(len(data["comments"]))
        for comment in data["comments"]:
            assert comment.keys() == {"id", "identifier", "body", "created_at", "author"}
            check_uuid(comment["id"])
            check_timestamp(comment["created_at"])
            assert comment["author"].keys() == {"id", "identifier", "name"}
        ordered = sorted(data["comments"], key=lambda c: (c["created_at"], uuid.UUID(c["id"])))
        assert data["comments"] == ordered
    assert comment_counts == {0, SMALL["comments_per_post"]}
    for identifier, _, data in models["comment"].values():
        assert data.keys() == COMMENT_KEYS
        assert data["identifier"] == identifier
        assert data["post"].keys() == {"id", "identifier", "title"}
        assert data["author"].keys() == {"id", "identifier", "name"}


async def test_timestamps_are_utc_whatever_the_session_time_zone(
    blog: asyncpg.Connection,
) -> None:
    before = await all_read_models(blog)
    await blog.execute("SET LOCAL TimeZone = 'America/New_York'")
    await blog.execute("TRUNCATE tv_organisation, tv_user, tv_post, tv_comment")
    for entity in ENTITIES:
        await blog.fetchval(f"SELECT fn_sync_tv_{entity}()")
    after = await all_read_models(blog)
    assert after == before
    assert await blog.fetchval("SHOW TimeZone") == "America/New_York"
    text = "".join(r[0] for r in await blog.fetch("SELECT data::text FROM tv_post"))
    assert "-05:00" not in text
    assert "-04:00" not in text
    assert text.count("+00:00") > 2 * SMALL["posts"]


# --- sync --------------------------------------------------------------------------------------


async def post_ids(connection: asyncpg.Connection, limit: int) -> list[uuid.UUID]:
    rows = await connection.fetch(
        "SELECT id FROM tb_post WHERE status <> 'draft' ORDER BY pk_post LIMIT $1", limit
    )
    return [row["id"] for row in rows]


async def test_sync_of_one_id_updates_only_that_row(blog: asyncpg.Connection) -> None:
    first, second = await post_ids(blog, 2)
    before = await read_models(blog, "post")
    await blog.execute(
        "UPDATE tb_post SET title = 'Renamed ' || identifier WHERE id = ANY($1)", [first, second]
    )

    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", [first]) == 1

    after = await read_models(blog, "post")
    assert after[first][2]["title"] == "Renamed " + before[first][0]
    assert after[second] == before[second]  # changed in tb_post, not synced: stale on purpose
    assert {k: v for k, v in after.items() if k != first} == {
        k: v for k, v in before.items() if k != first
    }
    assert await changed_in_this_transaction(blog, "tv_post") == {first}
    # Syncing again changes nothing; nor does syncing an unknown id.
    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", [first]) == 0
    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", [uuid.uuid4()]) == 0
    assert await blog.fetchval("SELECT fn_sync_tv_post('{}')") == 0


async def test_sync_of_many_ids_in_one_call(blog: asyncpg.Connection) -> None:
    ids = [r["id"] for r in await blog.fetch("SELECT id FROM tb_post ORDER BY pk_post")][::2]
    await blog.execute("UPDATE tb_post SET view_count = view_count + 1")

    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", ids) == len(ids)

    assert await changed_in_this_transaction(blog, "tv_post") == set(ids)
    expected = (await expected_read_models(blog))["post"]
    actual = await read_models(blog, "post")
    for id_ in ids:
        assert actual[id_] == expected[id_]


async def test_deleted_comment_leaves_its_post_when_the_post_is_synced(
    blog: asyncpg.Connection,
) -> None:
    (post_id,) = await post_ids(blog, 1)
    comment_id = await blog.fetchval(
        """SELECT c.id FROM tb_comment c JOIN tb_post p ON p.pk_post = c.fk_post
           WHERE p.id = $1 ORDER BY c.created_at, c.id LIMIT 1""",
        post_id,
    )
    before = (await read_models(blog, "post"))[post_id][2]["comments"]
    assert str(comment_id) in [c["id"] for c in before]

    await blog.execute("DELETE FROM tb_comment WHERE id = $1", comment_id)
    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", [post_id]) == 1
    after = (await read_models(blog, "post"))[post_id][2]["comments"]
    assert after == [c for c in before if c["id"] != str(comment_id)]

    # tv_comment keeps the row until it is synced too.
    assert comment_id in await read_models(blog, "comment")
    assert await blog.fetchval("SELECT fn_sync_tv_comment($1)", [comment_id]) == 1
    assert comment_id not in await read_models(blog, "comment")


async def test_deleted_post_is_removed_by_its_sync(blog: asyncpg.Connection) -> None:
    post_id, other = await post_ids(blog, 2)
    comment_ids = [
        r["id"]
        for r in await blog.fetch(
            "SELECT c.id FROM tb_comment c JOIN tb_post p ON p.pk_post = c.fk_post WHERE p.id = $1",
            post_id,
        )
    ]
    await blog.execute("DELETE FROM tb_post WHERE id = ANY($1)", [post_id, other])

    assert await blog.fetchval("SELECT fn_sync_tv_post($1)", [post_id]) == 1
    assert await blog.fetchval("SELECT fn_sync_tv_comment($1)", comment_ids) == len(comment_ids)

    posts = await read_models(blog, "post")
    assert post_id not in posts
    assert other in posts  # deleted too, but not synced
    assert await blog.fetchval("SELECT fn_sync_tv_post()") == 1
    assert other not in await read_models(blog, "post")


async def test_comments_with_the_same_time_are_ordered_by_id(blog: asyncpg.Connection) -> None:
    (post_id,) = await post_ids(blog, 1)
    moment = datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    ids = sorted(uuid.uuid4() for _ in range(4))
    await blog.executemany(
        """INSERT INTO tb_comment (id, identifier, fk_organisation, fk_post, fk_user, body,
                                   created_at)
           SELECT $1, $2, p.fk_organisation, p.pk_post, p.fk_user, 'tie', $3
           FROM tb_post p WHERE p.id = $4""",
        [(id_, f"tie-{n}", moment, post_id) for n, id_ in enumerate(reversed(ids))],
    )
    await blog.fetchval("SELECT fn_sync_tv_post($1)", [post_id])
    comments = (await read_models(blog, "post"))[post_id][2]["comments"]
    assert [c["id"] for c in comments[-4:]] == [str(id_) for id_ in ids]
    assert {c["created_at"] for c in comments[-4:]} == {"2030-01-02T03:04:05.6+00:00"}


async def test_renamed_user_reaches_every_read_model_that_embeds_it(
    blog: asyncpg.Connection,
) -> None:
    user = await blog.fetchrow(
        """SELECT u.pk_user, u.id FROM tb_user u
           WHERE EXISTS (SELECT 1 FROM tb_post p WHERE p.fk_user = u.pk_user)
             AND EXISTS (SELECT 1 FROM tb_comment c WHERE c.fk_user = u.pk_user)
           ORDER BY u.pk_user LIMIT 1"""
    )
    assert user is not None
    await blog.execute(
        """UPDATE tb_user SET name = $2 || E' \\\\ "Jr."' WHERE pk_user = $1""",
        user["pk_user"],
        "Ren'amed",
    )
    await blog.execute("SELECT fn_sync_tv_user($1)", [user["id"]])
    await blog.execute(
        """SELECT fn_sync_tv_post(ARRAY(
               SELECT DISTINCT p.id FROM tb_post p
               LEFT JOIN tb_comment c ON c.fk_post = p.pk_post
               WHERE p.fk_user = $1 OR c.fk_user = $1))""",
        user["pk_user"],
    )
    await blog.execute(
        "SELECT fn_sync_tv_comment(ARRAY(SELECT id FROM tb_comment WHERE fk_user = $1))",
        user["pk_user"],
    )
    assert await all_read_models(blog) == await expected_read_models(blog)
    name = (await read_models(blog, "user"))[user["id"]][2]["name"]
    assert name == 'Ren\'amed \\ "Jr."'
