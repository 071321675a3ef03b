"""Two replicas of one cached API, each its own process: a write through one, or straight into
the table, stops the other serving the old value within a bound, and the writer never does.

Each replica is a uvicorn process (``tests/cache/replica_app.py``) with its own FraiseQL schema
on the same database: both sharing one ``RedisCache`` (the writer evicts there before it
answers), or each with its own ``MemoryCache`` (the other evicts when the database event
reaches its listener). The delays measured are printed (``pytest -s``) and, with
``FRAISEQL_BENCH=1``, written to ``bench/results/cache-replicas.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tests.cache.items import TENANTS, load
from tests.conftest import temporary_database
from tests.processes import PROJECT_ROOT, AppProcess

RESULTS = PROJECT_ROOT / "bench" / "results" / "cache-replicas.json"
BOUND_S = 2.0
POLL_S = 0.010
MIN_B_READS = 10
TENANT = TENANTS[0]
BY_ID = "query($id: UUID) { item(id: $id) { id title } }"
LISTED = "{ items(limit: 6) { id title } }"
RENAME = "mutation($id: UUID!, $t: String!) { renameItem(input: {id: $id, title: $t}) { status } }"


class Replica(AppProcess):
    """One replica's process and its HTTP client."""

    def __init__(self, name: str, dsn: str, env: dict[str, str], log_dir: Path) -> None:
        super().__init__(
            name, "tests.cache.replica_app:create", {**env, "FRAISEQL_REPLICA_DSN": dsn}, log_dir
        )

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> tuple[Any, str]:
        """The decoded answer and how the cache answered (``-`` when it did not say)."""
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"X-Tenant-Id": TENANT},
        )
        assert response.status_code == 200, response.text
        return response.json(), response.headers.get("x-fraiseql-cache", "-")

    async def titles(self, item_id: str) -> tuple[str, str]:
        """The item's title as the by-id query and as the list query serve it."""
        (by_id, _), (listed, _) = await asyncio.gather(
            self.post(BY_ID, {"id": item_id}), self.post(LISTED)
        )
        (in_list,) = [i["title"] for i in listed["data"]["items"] if i["id"] == item_id]
        return by_id["data"]["item"]["title"], in_list


@pytest.fixture(scope="module")
async def items_db(server_dsn: str) -> AsyncIterator[tuple[str, dict[str, list[str]]]]:
    async with temporary_database(server_dsn) as dsn:
        yield dsn, await load(dsn)


@pytest.fixture(scope="module")
def measured() -> Iterator[dict[str, Any]]:
    """The delays of the module's tests, written to ``RESULTS`` with ``FRAISEQL_BENCH=1``."""
    found: dict[str, Any] = {}
    yield found
    if found and os.environ.get("FRAISEQL_BENCH") == "1":
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "nproc": os.cpu_count(),
            "poll_interval_ms": POLL_S * 1e3,
            "bound_s": BOUND_S,
            "variants": found,
        }
        RESULTS.write_text(json.dumps(payload, indent=2) + "\n")


@contextlib.asynccontextmanager
async def replicas(
    dsn: str, cache: str, tmp: Path, redis_url: str = ""
) -> AsyncIterator[tuple[Replica, Replica]]:
    prefix = f"fraiseql:test-replicas:{secrets.token_hex(4)}:"
    env = {
        "FRAISEQL_REPLICA_CACHE": cache,
        "FRAISEQL_REPLICA_REDIS_URL": redis_url,
        "FRAISEQL_REPLICA_REDIS_PREFIX": prefix,
    }
    a, b = Replica("A", dsn, env, tmp), Replica("B", dsn, env, tmp)
    try:
        await asyncio.gather(a.ready(), b.ready())
        yield a, b
    finally:
        await asyncio.gather(a.close(), b.close())
        if cache == "redis":
            from fraiseql.cache.redis import RedisCache

            backend = RedisCache(url=redis_url, prefix=prefix)
            try:
                await backend.clear()
            finally:
                await backend.close()


async def prime(replica: Replica, item_id: str) -> str:
    """Read both queries until the second read of each says ``hit``; the title served."""
    for query, variables in ((BY_ID, {"id": item_id}), (LISTED, None)):
        await replica.post(query, variables)
        _, how = await replica.post(query, variables)
        assert how == "hit", (replica.name, query, how)
    by_id, in_list = await replica.titles(item_id)
    assert by_id == in_list
    return by_id


async def _write_through_b_and_directly(
    dsn: str, item_id: str, a: Replica, b: Replica
) -> dict[str, float]:
    old = await prime(a, item_id)
    assert await prime(b, item_id) == old
    new = f"renamed-{secrets.token_hex(3)}"

    body, _ = await b.post(RENAME, {"id": item_id, "t": new})
    answered = time.perf_counter()
    assert body == {"data": {"renameItem": {"status": "SUCCESS"}}}
    # read-your-writes: from its answer on, B never serves the old title (checked on every
    # poll, at least MIN_B_READS of them), while A catches up; A's delay runs until the answer
    # of the first poll showing the new title (that poll's round trip included)
    b_reads, mutation_delay = 0, None
    while mutation_delay is None or b_reads < MIN_B_READS:
        (a_titles, b_titles) = await asyncio.gather(a.titles(item_id), b.titles(item_id))
        b_reads += 1
        assert b_titles == (new, new), f"B served {b_titles} after its own mutation answered"
        if mutation_delay is None and old not in a_titles:
            assert a_titles == (new, new)
            mutation_delay = time.perf_counter() - answered
        elif mutation_delay is not None:
            assert a_titles == (new, new), f"A served {a_titles} again"
        assert mutation_delay is not None or time.perf_counter() - answered < BOUND_S, (
            f"A still serves {old!r}: {a_titles}"
        )
        await asyncio.sleep(POLL_S)

    assert await prime(a, item_id) == new and await prime(b, item_id) == new
    direct = f"direct-{secrets.token_hex(3)}"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "UPDATE tv_item SET data = jsonb_set(data, '{title}', to_jsonb($2::text)) "
            "WHERE id = $1::uuid",
            item_id,
            direct,
        )
    finally:
        committed = time.perf_counter()
        await connection.close()
    delays: dict[str, float] = {}
    while len(delays) < 2:
        waiting = [replica for replica in (a, b) if replica.name not in delays]
        served = await asyncio.gather(*(replica.titles(item_id) for replica in waiting))
        for replica, titles in zip(waiting, served, strict=True):
            if titles == (direct, direct):
                delays[replica.name] = time.perf_counter() - committed
        assert time.perf_counter() - committed < BOUND_S, f"not evicted everywhere: {delays}"
        await asyncio.sleep(POLL_S)
    return {
        "mutation_through_b_to_a_ms": round(mutation_delay * 1e3, 1),
        "b_reads_after_its_mutation": b_reads,
        "direct_update_to_a_ms": round(delays["A"] * 1e3, 1),
        "direct_update_to_b_ms": round(delays["B"] * 1e3, 1),
    }


@pytest.mark.parametrize("cache", ["memory", "redis"])
async def test_a_write_stops_every_replica_serving_the_old_value(
    cache: str,
    items_db: tuple[str, dict[str, list[str]]],
    measured: dict[str, Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    url = request.getfixturevalue("redis_url") if cache == "redis" else ""
    dsn, owned = items_db
    item_id = owned[TENANT][0 if cache == "memory" else 2]
    async with replicas(dsn, cache, tmp_path, url) as (a, b):
        found = await _write_through_b_and_directly(dsn, item_id, a, b)
    label = {"memory": "each its own MemoryCache", "redis": "one shared RedisCache"}[cache]
    print(f"\n[cache replicas, {label}] {found}")
    measured[cache] = {"caches": label, **found}
    assert found["mutation_through_b_to_a_ms"] < BOUND_S * 1e3
