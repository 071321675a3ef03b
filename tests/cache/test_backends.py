"""Every cache backend behaves the same: one conformance suite over MemoryCache, RedisCache (a
real server) and PostgresCache (a temporary database), then what only one backend can show:
timeouts against dead servers, prefixes, tag-set lifetimes, the UNLOGGED table and its purge."""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tests.conftest import temporary_database

from fraiseql.cache import CacheBackend, MemoryCache
from fraiseql.cache.errors import CacheUnavailableError
from fraiseql.cache.postgres import PostgresCache
from fraiseql.cache.redis import RedisCache
from fraiseql.db.pool import Database, PoolSettings

MiB = 1 << 20
LONG = 60.0
"""A lifetime no test outlives."""


@pytest.fixture(scope="module")
async def cache_database(server_dsn: str) -> AsyncIterator[str]:
    """One temporary database for the module; each PostgresCache gets a table of its own."""
    async with temporary_database(server_dsn) as dsn:
        yield dsn


def unique(stem: str) -> str:
    return f"{stem}_{secrets.token_hex(4)}"


@pytest.fixture(params=["memory", "redis", "postgres"])
async def backend(
    request: pytest.FixtureRequest, cache_database: str
) -> AsyncIterator[CacheBackend]:
    """A fresh, empty backend of each kind (generous timeouts: these tests are not about them).

    ``redis_url`` is asked for only by the Redis case, so a missing server skips only it.
    """
    cache: CacheBackend
    if request.param == "memory":
        cache = MemoryCache()
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
        cache = RedisCache(url, prefix=unique("fq-test") + ":", op_timeout=5.0)
    else:
        cache = PostgresCache(dsn=cache_database, table=unique("cache"), op_timeout=5.0)
    try:
        yield cache
    finally:
        await cache.clear()
        await cache.close()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 4.0) -> float:
    """Poll ``check`` until it holds (failing after ``seconds``); the time it took."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "condition not reached in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


# -- conformance ---------------------------------------------------------------------------


BINARY_VALUES = [
    b"",
    b"\x00",
    b"\x00\x01\x00\xff\xfe",
    bytes(range(256)) * 3,
    b"\x00" * 1000 + b"end",
]


async def test_round_trip_keeps_bytes_exactly(backend: CacheBackend) -> None:
    for index, value in enumerate(BINARY_VALUES):
        await backend.set(f"k{index}", value, LONG, [])
    big = random.Random(7).randbytes(MiB)
    await backend.set("big", big, LONG, ["t"])
    for index, value in enumerate(BINARY_VALUES):
        assert await backend.get(f"k{index}") == value
    assert await backend.get("big") == big
    assert await backend.get("missing") is None


async def test_set_replaces_value_and_tags(backend: CacheBackend) -> None:
    await backend.set("k", b"old", LONG, ["a"])
    await backend.set("k", b"new", LONG, ["b"])
    assert await backend.get("k") == b"new"
    # The old tag may evict the new entry too (Redis keeps stale memberships), but it can
    # never bring the old value back.
    await backend.invalidate(["a"])
    assert await backend.get("k") in (None, b"new")
    await backend.set("k", b"newer", LONG, ["b"])
    assert await backend.invalidate(["b"]) == 1
    assert await backend.get("k") is None


async def test_entries_expire_after_their_ttl(backend: CacheBackend) -> None:
    started = time.monotonic()
    await backend.set("short", b"s", 0.4, ["t"])
    await backend.set("long", b"l", LONG, ["t"])
    assert await backend.get("short") == b"s"

    async def gone() -> bool:
        return await backend.get("short") is None

    await eventually(gone)
    assert time.monotonic() - started >= 0.35
    assert await backend.get("long") == b"l"
    # An expired entry is not counted by an invalidation; the live one sharing its tag is.
    assert await backend.invalidate(["t"]) == 1
    await backend.set("zero", b"z", 0, [])
    assert await backend.get("zero") is None


async def fill(backend: CacheBackend) -> None:
    await backend.set("a", b"A", LONG, ["t1"])
    await backend.set("b", b"B", LONG, ["t1", "t2"])
    await backend.set("c", b"C", LONG, ["t2", "t3"])
    await backend.set("d", b"D", LONG, [])


async def present(backend: CacheBackend, *keys: str) -> set[str]:
    return {key for key in keys if await backend.get(key) is not None}


async def test_invalidate_one_tag(backend: CacheBackend) -> None:
    await fill(backend)
    assert await backend.invalidate(["t1"]) == 2
    assert await present(backend, "a", "b", "c", "d") == {"c", "d"}
    assert await backend.invalidate(["t1"]) == 0
    assert await backend.invalidate(["t3"]) == 1
    assert await present(backend, "a", "b", "c", "d") == {"d"}


async def test_invalidate_several_tags_counts_shared_entries_once(backend: CacheBackend) -> None:
    await fill(backend)
    assert await backend.invalidate(["t1", "t2", "t3", "nobody"]) == 3
    assert await present(backend, "a", "b", "c", "d") == {"d"}
    assert await backend.invalidate([]) == 0
    assert await backend.invalidate(["nobody"]) == 0


async def test_entries_sharing_a_tag_go_together(backend: CacheBackend) -> None:
    for index in range(50):
        await backend.set(f"e{index}", b"x", LONG, ["shared", f"own{index}"])
    assert await backend.invalidate(["own3"]) == 1
    assert await backend.invalidate(["shared"]) == 49
    assert await present(backend, *(f"e{index}" for index in range(50))) == set()


async def test_clear_removes_everything_and_the_backend_stays_usable(
    backend: CacheBackend,
) -> None:
    for index in range(30):
        await backend.set(f"c{index}", b"v" * index, LONG, [f"t{index % 4}"])
    await backend.clear()
    assert await present(backend, *(f"c{index}" for index in range(30))) == set()
    assert await backend.invalidate(["t0", "t1", "t2", "t3"]) == 0
    assert backend.stats()["entries"] == 0
    await backend.set("after", b"v", LONG, ["t0"])
    assert await backend.get("after") == b"v"
    assert await backend.invalidate(["t0"]) == 1


UNUSUAL = [
    "with space",
    "quote'\"double",
    "glob*?[a-z]\\",
    "percent%_under",
    'comma,{brace},"NULL"',
    "new\nline\ttab",
    "ünïcødé 😀",
    "fq:" + "f" * 64,
    "k" * 1000,
]


async def test_keys_and_tags_with_unusual_characters(backend: CacheBackend) -> None:
    for index, text in enumerate(UNUSUAL):
        await backend.set(text, str(index).encode(), LONG, [text, f"#{index}"])
    for index, text in enumerate(UNUSUAL):
        assert await backend.get(text) == str(index).encode()
    assert await backend.invalidate([UNUSUAL[2]]) == 1  # glob characters match only themselves
    assert await present(backend, *UNUSUAL) == set(UNUSUAL) - {UNUSUAL[2]}
    assert await backend.invalidate(UNUSUAL) == len(UNUSUAL) - 1
    assert await present(backend, *UNUSUAL) == set()


async def test_concurrent_sets_and_invalidations_leave_a_consistent_state(
    backend: CacheBackend,
) -> None:
    """200 operations at once: every entry left is one that was written, and the tags still
    find exactly the entries left."""
    keys = [f"k{index}" for index in range(60)]
    written: dict[str, set[bytes]] = {key: set() for key in keys}
    operations: list[Awaitable[Any]] = []
    for index in range(200):
        if index % 5 == 4:
            groups = [f"g{index % 3}", f"g{(index + 1) % 3}"] if index % 2 else [f"g{index % 3}"]
            operations.append(backend.invalidate(groups))
        else:
            key = keys[index % 60]
            value = f"{key}={index}".encode() * (index % 7 + 1)
            written[key].add(value)
            operations.append(backend.set(key, value, LONG, ["all", f"g{(index % 60) % 3}"]))
    random.Random(3).shuffle(operations)
    results = await asyncio.gather(*operations)
    assert all(isinstance(result, int) and result >= 0 for result in results if result is not None)

    left = {}
    for key in keys:
        value = await backend.get(key)
        if value is not None:
            assert value in written[key]
            left[key] = value
    in_g0 = {key for key in left if int(key[1:]) % 3 == 0}
    assert await backend.invalidate(["g0"]) == len(in_g0)
    assert await backend.invalidate(["all"]) == len(left) - len(in_g0)
    assert await present(backend, *keys) == set()


async def test_stats_count_what_this_process_stored(backend: CacheBackend) -> None:
    assert backend.stats() == {"entries": 0, "bytes": 0}
    values = {"a": b"1" * 100, "b": b"2" * 200, "c": b"3" * 300}
    for key, value in values.items():
        await backend.set(key, value, LONG, ["t"])
    await backend.set("a", b"1" * 50, LONG, ["t"])
    stats = backend.stats()
    assert stats["entries"] == 3
    assert stats["bytes"] >= 550
    await backend.set("brief", b"x", 0.3, [])

    async def brief_forgotten() -> bool:
        return await backend.get("brief") is None and backend.stats()["entries"] == 3

    await eventually(brief_forgotten, seconds=3.0)
    assert await backend.invalidate(["t"]) == 3
    assert backend.stats() == {"entries": 0, "bytes": 0}


# -- Redis ---------------------------------------------------------------------------------


def within(seconds: float) -> Callable[[Awaitable[Any]], Awaitable[float]]:
    async def timed(call: Awaitable[Any]) -> float:
        start = time.monotonic()
        with pytest.raises(OSError) as raised:
            await call
        elapsed = time.monotonic() - start
        assert isinstance(raised.value, CacheUnavailableError)
        assert elapsed < seconds, f"took {elapsed:.2f} s"
        return elapsed

    return timed


async def test_redis_refusing_connections_raises_oserror_quickly() -> None:
    pytest.importorskip("redis")
    cache = RedisCache("redis://127.0.0.1:1/0", op_timeout=0.3)
    timed = within(0.3 + 0.5)
    await timed(cache.get("k"))
    await timed(cache.set("k", b"v", 10, ["t"]))
    await timed(cache.invalidate(["t"]))
    await timed(cache.clear())
    assert cache.stats() == {"entries": 0, "bytes": 0}  # no I/O, so no error
    await cache.close()


async def test_redis_server_that_never_answers_raises_within_op_timeout() -> None:
    """A server that accepts connections and then says nothing (a hung Redis)."""
    pytest.importorskip("redis")
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cache = RedisCache(f"redis://127.0.0.1:{port}/0", op_timeout=0.3)
    try:
        timed = within(0.3 + 0.5)
        assert await timed(cache.get("k")) >= 0.25
        await timed(cache.set("k", b"v", 10, ["t"]))
        await timed(cache.invalidate(["t"]))
    finally:
        await cache.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_redis_clear_leaves_other_prefixes_alone(redis_url: str) -> None:
    token = secrets.token_hex(4)
    globby = RedisCache(redis_url, prefix=f"fq-{token}-[1]*:")  # a pattern if not escaped
    other = RedisCache(redis_url, prefix=f"fq-{token}-1x:")
    try:
        for cache in (globby, other):
            for index in range(700):  # more than one SCAN batch
                await cache.set(f"k{index}", b"v", LONG, [f"t{index % 2}"])
        await globby.clear()
        assert await globby.get("k1") is None
        assert await globby.invalidate(["t0", "t1"]) == 0
        assert await other.get("k1") == b"v"
        assert await other.invalidate(["t0", "t1"]) == 700
    finally:
        await other.clear()
        await globby.close()
        await other.close()


async def test_redis_tag_sets_outlive_their_entries_and_then_expire(redis_url: str) -> None:
    import redis.asyncio

    prefix = unique("fq-test") + ":"
    cache = RedisCache(redis_url, prefix=prefix)
    raw = redis.asyncio.Redis.from_url(redis_url)
    tag_set = prefix + "tag:t"
    try:
        await cache.set("a", b"v", 0.5, ["t"])
        assert 0 < await raw.pttl(tag_set) <= 500
        await cache.set("b", b"v", 30, ["t"])
        assert await raw.pttl(tag_set) > 29_000
        await cache.set("c", b"v", 0.5, ["t"])  # a shorter entry never shortens the set
        assert await raw.pttl(tag_set) > 29_000
        # (read one after the other: the later read may be a millisecond or two shorter)
        assert await raw.pttl(prefix + "b") <= await raw.pttl(tag_set) + 50

        await cache.set("gone", b"v", 0.2, ["brief"])

        async def set_expired() -> bool:
            return not await raw.exists(prefix + "tag:brief")

        await eventually(set_expired)

        async def short_ones_expired() -> bool:
            return not await raw.exists(prefix + "a", prefix + "c")

        await eventually(short_ones_expired)
        assert await cache.invalidate(["t"]) == 1  # a and c expired: only b is counted
        assert not await raw.exists(tag_set)
    finally:
        await cache.clear()
        await cache.close()
        await raw.aclose()


async def test_redis_key_may_not_look_like_a_tag_set(redis_url: str) -> None:
    cache = RedisCache(redis_url, prefix=unique("fq-test") + ":")
    try:
        with pytest.raises(ValueError, match="tag:"):
            await cache.set("tag:x", b"v", 1, [])
    finally:
        await cache.close()


async def test_redis_given_client_is_left_open(redis_url: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    cache = RedisCache(client=client, prefix=unique("fq-test") + ":")
    await cache.set("k", b"v", 5, [])
    await cache.clear()
    await cache.close()
    assert await client.ping()
    await client.aclose()


def test_redis_missing_names_the_cache_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r"fraiseql\[cache\]"):
        RedisCache()


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
async def pg(cache_database: str) -> AsyncIterator[PostgresCache]:
    cache = PostgresCache(dsn=cache_database, table=unique("cache"))
    try:
        yield cache
    finally:
        await cache.close()


@pytest.fixture
async def admin(cache_database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(cache_database)
    try:
        yield connection
    finally:
        await connection.close()


async def test_postgres_table_is_unlogged_with_a_gin_index(
    pg: PostgresCache, admin: asyncpg.Connection
) -> None:
    await pg.set("k", b"v", LONG, ["t"])
    persistence = await admin.fetchval(
        "SELECT relpersistence::text FROM pg_class WHERE oid = to_regclass($1)", pg.table
    )
    assert persistence == "u"  # p: permanent, t: temporary
    definitions = await admin.fetch(
        "SELECT indexdef FROM pg_indexes WHERE tablename = $1", pg.table
    )
    assert any("USING gin (tags)" in row["indexdef"] for row in definitions)
    assert any("(expires_at)" in row["indexdef"] for row in definitions)


async def rows(admin: asyncpg.Connection, table: str) -> int:
    count: int = await admin.fetchval(f'SELECT count(*) FROM "{table}"')
    return count


async def test_postgres_expired_rows_get_purged(
    cache_database: str, admin: asyncpg.Connection
) -> None:
    explicit = PostgresCache(dsn=cache_database, table=unique("cache"), purge_every=1000)
    try:
        for index in range(7):
            await explicit.set(f"brief{index}", b"x" * 100, 0.2, ["t"])
        await asyncio.sleep(0.3)
        assert await rows(admin, explicit.table) == 7  # expired, not served, still there
        assert await explicit.get("brief0") is None
        assert await explicit.purge_expired() == 7
        assert await rows(admin, explicit.table) == 0
    finally:
        await explicit.close()

    # Opportunistically: every purge_every stores start a purge in the background.
    background = PostgresCache(dsn=cache_database, table=unique("cache"), purge_every=5)
    try:
        for index in range(5):  # the 5th store starts a purge: nothing has expired yet
            await background.set(f"brief{index}", b"x", 0.2, [])
        await asyncio.sleep(0.3)
        for index in range(5):  # the 10th store starts one that finds the 5 expired rows
            await background.set(f"kept{index}", b"x", LONG, [])

        async def purged() -> bool:
            return await rows(admin, background.table) == 5

        await eventually(purged)
        assert await background.get("kept4") == b"x"
    finally:
        await background.close()


async def test_postgres_refusing_connections_raises_oserror_quickly() -> None:
    cache = PostgresCache(dsn="postgresql://postgres@127.0.0.1:1/postgres", op_timeout=0.3)
    timed = within(0.3 + 0.5)
    await timed(cache.get("k"))
    await timed(cache.set("k", b"v", 10, ["t"]))
    await timed(cache.invalidate(["t"]))
    assert cache.stats() == {"entries": 0, "bytes": 0}
    await cache.close()


async def test_postgres_blocked_statement_times_out_and_the_pool_recovers(
    cache_database: str, admin: asyncpg.Connection
) -> None:
    cache = PostgresCache(dsn=cache_database, table=unique("cache"), op_timeout=0.3)
    try:
        await cache.set("k", b"v", LONG, ["t"])
        timed = within(0.3 + 0.5)
        async with admin.transaction():
            await admin.execute(f'LOCK TABLE "{cache.table}" IN ACCESS EXCLUSIVE MODE')
            await timed(cache.get("k"))
            await timed(cache.set("k2", b"v", LONG, []))
        assert await cache.get("k") == b"v"
        assert await cache.invalidate(["t"]) == 1
    finally:
        await cache.close()


async def test_postgres_install_quotes_a_qualified_name(
    cache_database: str, admin: asyncpg.Connection
) -> None:
    schema = unique("fq-cache")
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    table = f'{schema}.Entries "x"'
    cache = PostgresCache(Database(PoolSettings(dsn=cache_database)), table=table)
    try:
        await cache.install()
        await cache.install()  # idempotent
        await cache.set("k", b"v", LONG, ["t"])
        stored = await admin.fetchval(f'SELECT value FROM "{schema}"."Entries ""x"""')
        assert stored == b"v"
    finally:
        await cache.close()


async def test_postgres_role_without_create_privilege_uses_an_installed_table(
    cache_database: str, admin: asyncpg.Connection
) -> None:
    owner = PostgresCache(dsn=cache_database, table=unique("cache"))
    await owner.install()
    await owner.close()
    role = unique("fq_cache_app")
    await admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        await admin.execute(f'REVOKE CREATE ON SCHEMA public FROM "{role}", PUBLIC')
        await admin.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{owner.table}" TO "{role}"')
        parts = urlsplit(cache_database)
        netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
        app = PostgresCache(dsn=urlunsplit(parts._replace(netloc=netloc)), table=owner.table)
        try:
            await app.set("k", b"v", LONG, ["t"])
            assert await app.get("k") == b"v"
            assert await app.invalidate(["t"]) == 1
        finally:
            await app.close()
    finally:
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.execute(f'DROP ROLE "{role}"')


def test_postgres_needs_somewhere_to_connect() -> None:
    with pytest.raises(ValueError, match="database or a dsn"):
        PostgresCache()
