"""The response cache against a real PostgreSQL: hits skip the database, and nobody is served
an entry another tenant or role stored, or one a change made out of date."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cache.items import EDITOR, READER, TENANTS, load, schema
from tests.conftest import temporary_database

import fraiseql
from fraiseql.cache import MemoryCache
from fraiseql.execution.outcome import GraphQLRequest


@pytest.fixture(scope="module")
async def items_db(server_dsn: str) -> AsyncIterator[tuple[str, dict[str, list[str]]]]:
    async with temporary_database(server_dsn) as dsn:
        owned = await load(dsn)
        yield dsn, owned


@pytest.fixture
async def editor(items_db: tuple[str, Any]) -> AsyncIterator[fraiseql.Schema]:
    opened = schema(items_db[0])
    await opened.open()
    assert opened.listener is not None
    await asyncio.wait_for(opened.listener.connected.wait(), 5)
    try:
        yield opened
    finally:
        await opened.close()


async def run(
    target: fraiseql.Schema, query: str, variables: dict[str, Any] | None = None, **context: Any
) -> tuple[dict[str, Any], str | None, int]:
    """The decoded response, how the cache answered, and how many statements ran."""
    statements: list[str] = []
    assert target.database is not None
    target.database.statement_observers.append(statements.append)
    try:
        request = GraphQLRequest(query, variables, None)
        response = await target.execute(target.prepare(request), request, context)
    finally:
        target.database.statement_observers.remove(statements.append)
    return orjson.loads(response.body), response.headers.get("X-FraiseQL-Cache"), len(statements)


ITEMS = "query($n: Int) { items(limit: $n) { id title } }"


async def test_a_hit_is_served_without_the_database(editor: fraiseql.Schema) -> None:
    first, how, statements = await run(editor, ITEMS, {"n": 3}, tenant=TENANTS[0])
    assert how == "miss" and statements >= 1 and len(first["data"]["items"]) == 3
    second, how, statements = await run(editor, ITEMS, {"n": 3}, tenant=TENANTS[0])
    assert (second, how, statements) == (first, "hit", 0)
    assert editor.cache is not None and editor.cache.hits >= 1


async def test_texts_that_differ_only_in_layout_share_an_entry(editor: fraiseql.Schema) -> None:
    await run(editor, "{ items(limit: 2) { id } }", tenant=TENANTS[0])
    _, how, statements = await run(
        editor, "query {\n  items( limit : 2 ) ,{ id } # same\n}", tenant=TENANTS[0]
    )
    assert (how, statements) == ("hit", 0)


async def test_other_variables_tenants_and_denied_fields_are_other_entries(
    editor: fraiseql.Schema,
) -> None:
    await run(editor, ITEMS, {"n": 4}, tenant=TENANTS[0])
    assert (await run(editor, ITEMS, {"n": 5}, tenant=TENANTS[0]))[1] == "miss"
    assert (await run(editor, ITEMS, {"n": 4}, tenant=TENANTS[1]))[1] == "miss"
    nobody, how, _ = await run(editor, ITEMS, {"n": 4})
    assert how == "miss" and nobody["data"]["items"] == []


async def test_errors_are_never_cached(editor: fraiseql.Schema) -> None:
    for _ in range(2):
        body, how, _ = await run(editor, "{ failing }", tenant=TENANTS[0])
        assert body["errors"] and how == "miss"
    body, how, _ = await run(editor, "{ item { id } }", tenant=TENANTS[0])
    assert body["errors"] and how == "miss"  # a field error: "needs exactly one of..."
    assert (await run(editor, "{ item { id } }", tenant=TENANTS[0]))[1] == "miss"


async def test_operations_with_an_uncached_field_are_not_cached(editor: fraiseql.Schema) -> None:
    query = "{ items(limit: 1) { id } uncachedItems(limit: 1) }"
    for _ in range(2):
        _, how, statements = await run(editor, query, tenant=TENANTS[0])
        assert how is None and statements >= 1


async def test_private_policies_key_by_user_and_skip_anonymous_requests(
    editor: fraiseql.Schema,
) -> None:
    assert (await run(editor, "{ whoami }", user_id="ann"))[:2] == (
        {"data": {"whoami": "ann"}},
        "miss",
    )
    assert (await run(editor, "{ whoami }", user_id="ann"))[:2] == (
        {"data": {"whoami": "ann"}},
        "hit",
    )
    assert (await run(editor, "{ whoami }", user_id="bob"))[0] == {"data": {"whoami": "bob"}}
    assert (await run(editor, "{ whoami }"))[1] is None


async def test_a_database_event_evicts_what_read_the_rows(
    editor: fraiseql.Schema, items_db: tuple[str, dict[str, list[str]]]
) -> None:
    dsn, owned = items_db
    item_id = owned[TENANTS[0]][1]
    by_id = "query($id: UUID) { item(id: $id) { title } }"
    other_id = owned[TENANTS[0]][2]
    await run(editor, by_id, {"id": item_id}, tenant=TENANTS[0])
    await run(editor, by_id, {"id": other_id}, tenant=TENANTS[0])
    await run(editor, ITEMS, {"n": 6}, tenant=TENANTS[0])
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "UPDATE tv_item SET data = jsonb_set(data, '{title}', '\"changed\"') WHERE id = $1",
            item_id,
        )
    finally:
        await connection.close()
    await _eventually(lambda: _fresh(editor, by_id, {"id": item_id}))
    body, how, _ = await run(editor, by_id, {"id": item_id}, tenant=TENANTS[0])
    assert body == {"data": {"item": {"title": "changed"}}}
    assert (await run(editor, by_id, {"id": other_id}, tenant=TENANTS[0]))[1] == "hit"
    listed, how, _ = await run(editor, ITEMS, {"n": 6}, tenant=TENANTS[0])
    assert how == "miss" and {"id": item_id, "title": "changed"} in listed["data"]["items"]
    assert editor.cache is not None and editor.cache.lag_count >= 1


async def _fresh(target: fraiseql.Schema, query: str, variables: dict[str, Any]) -> bool:
    _, how, _ = await run(target, query, variables, tenant=TENANTS[0])
    return how == "miss"


async def _eventually(check: Any, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "not evicted in time"
        await asyncio.sleep(0.02)


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql (Debian postgresql-client) absent")
async def test_a_direct_update_in_psql_evicts_through_the_trigger(
    editor: fraiseql.Schema, items_db: tuple[str, dict[str, list[str]]]
) -> None:
    dsn, owned = items_db
    item_id = owned[TENANTS[0]][3]
    by_id = "query($id: UUID) { item(id: $id) { title } }"
    await run(editor, by_id, {"id": item_id}, tenant=TENANTS[0])
    assert (await run(editor, by_id, {"id": item_id}, tenant=TENANTS[0]))[1] == "hit"
    sql = (
        f"UPDATE tv_item SET data = jsonb_set(data, '{{title}}', '\"psql\"') WHERE id = '{item_id}'"
    )
    await asyncio.to_thread(
        subprocess.run,
        ["psql", dsn, "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        timeout=30,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    await _eventually(lambda: _fresh(editor, by_id, {"id": item_id}))
    body, _, _ = await run(editor, by_id, {"id": item_id}, tenant=TENANTS[0])
    assert body == {"data": {"item": {"title": "psql"}}}


async def test_a_mutation_evicts_before_it_answers_without_waiting_for_events(
    items_db: tuple[str, dict[str, list[str]]],
) -> None:
    dsn, owned = items_db
    target = schema(dsn)
    target.listener = None  # no events at all: only the mutation's own eviction can help
    await target.open()
    try:
        item_id = owned[TENANTS[1]][0]
        by_id = "query($id: UUID) { item(id: $id) { title } }"
        await run(target, by_id, {"id": item_id}, tenant=TENANTS[1])
        rename = (
            'mutation($id: UUID!) { renameItem(input: {id: $id, title: "renamed"}) { status } }'
        )
        body, _, _ = await run(target, rename, {"id": item_id}, tenant=TENANTS[1])
        assert body == {"data": {"renameItem": {"status": "SUCCESS"}}}
        read, how, _ = await run(target, by_id, {"id": item_id}, tenant=TENANTS[1])
        assert (read, how) == ({"data": {"item": {"title": "renamed"}}}, "miss")
    finally:
        await target.close()


async def test_stale_entries_are_served_while_one_request_refreshes_them(
    items_db: tuple[str, Any],
) -> None:
    target = schema(items_db[0])
    target.listener = None
    await target.open()
    try:
        policy = fraiseql.CachePolicy(ttl=0.2, stale_while_revalidate=30)
        for root in target.model.queries.values():
            if root.cache is not None:
                root.cache = policy
        query = "{ items(limit: 1) { rank } }"
        assert (await run(target, query, tenant=TENANTS[0]))[1] == "miss"
        await asyncio.sleep(0.3)
        body, how, statements = await run(target, query, tenant=TENANTS[0])
        assert (how, statements) == ("stale", 0) and body["data"]["items"]
        await asyncio.sleep(0.1)  # the background refresh stored a fresh entry
        assert (await run(target, query, tenant=TENANTS[0]))[1] == "hit"
    finally:
        await target.close()


# -- generated: two tenants, two roles, one shared backend, never a foreign entry -----------

QUERIES = [
    ("query($n: Int) { items(limit: $n) { id title } }", lambda n, ids: {"n": n}),
    ("query($n: Int) { itemsPage(first: $n) { edges { node { id } } } }", lambda n, ids: {"n": n}),
    ("query($id: UUID) { item(id: $id) { id title } }", lambda n, ids: {"id": ids[n % len(ids)]}),
    (
        "query($i: String) { item(identifier: $i) { id } }",
        lambda n, ids: {"i": f"{TENANTS[n % 2][:4]}-{n % 6}"},
    ),
]


@pytest.fixture(scope="module")
async def shared(
    items_db: tuple[str, dict[str, list[str]]],
) -> AsyncIterator[dict[str, fraiseql.Schema]]:
    """Cached editor and reader schemas sharing one backend, and their uncached twins."""
    dsn, _ = items_db
    backend = MemoryCache()
    schemas = {
        EDITOR: schema(dsn, EDITOR, cache=backend),
        READER: schema(dsn, READER, cache=backend),
        "plain " + EDITOR: schema(dsn, EDITOR),
        "plain " + READER: schema(dsn, READER),
    }
    for name in ("plain " + EDITOR, "plain " + READER):
        schemas[name].cache = None
        schemas[name].executor.cache = None
        schemas[name].listener = None
    for opened in schemas.values():
        await opened.open()
    try:
        yield schemas
    finally:
        for opened in schemas.values():
            await opened.close()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([EDITOR, READER]),
            st.sampled_from([*TENANTS, None]),
            st.integers(0, len(QUERIES) - 1),
            st.integers(1, 6),
        ),
        min_size=2,
        max_size=6,
    )
)
async def test_no_tenant_or_role_is_ever_served_anothers_entry(
    shared: dict[str, fraiseql.Schema],
    items_db: tuple[str, dict[str, list[str]]],
    steps: list[tuple[str, str | None, int, int]],
) -> None:
    all_ids = [i for ids in items_db[1].values() for i in ids]
    for role, tenant, which, n in steps:
        query, variables = QUERIES[which]
        values = variables(n, all_ids)
        context = {"tenant": tenant} if tenant else {}
        cached, _, _ = await run(shared[role], query, values, **context)
        expected, _, _ = await run(shared["plain " + role], query, values, **context)
        assert cached == expected, (role, tenant, query, values)
    assert shared[EDITOR].cache is not None
    _HITS.append(shared[EDITOR].cache.hits + shared[READER].cache.hits)  # type: ignore[union-attr]


_HITS: list[int] = []


def test_the_generated_requests_did_hit_the_cache() -> None:
    """Guards the property above against passing with an empty cache."""
    assert _HITS and _HITS[-1] >= 20
