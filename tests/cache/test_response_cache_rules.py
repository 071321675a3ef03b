"""The response cache's own rules, without a database: keys, races, freshness, bounds."""

from __future__ import annotations

import asyncio

import pytest

from fraiseql.cache import CachePolicy, MemoryCache
from fraiseql.cache.policy import combined
from fraiseql.cache.response_cache import ResponseCache

POLICY = CachePolicy(ttl=60)


def test_keys_differ_by_everything_that_changes_visibility() -> None:
    cache = ResponseCache(MemoryCache())
    base = cache.key("{ a }", {"n": 1}, [("role", "r"), ("app.tenant_id", "t1")], {}, POLICY)
    assert base is not None and base.startswith("fq:")
    others = [
        cache.key("{ b }", {"n": 1}, [("role", "r"), ("app.tenant_id", "t1")], {}, POLICY),
        cache.key("{ a }", {"n": 2}, [("role", "r"), ("app.tenant_id", "t1")], {}, POLICY),
        cache.key("{ a }", {"n": 1}, [("role", "s"), ("app.tenant_id", "t1")], {}, POLICY),
        cache.key("{ a }", {"n": 1}, [("role", "r"), ("app.tenant_id", "t2")], {}, POLICY),
        cache.key("{ a }", {"n": 1}, [("role", "r")], {}, POLICY),
        cache.key("{ a }", {"n": 1}, [("role", "r"), ("app.tenant_id", "t1")], {}, POLICY, [1]),
    ]
    assert len({base, *others}) == 7
    same = cache.key("{ a }", {"n": 1}, [("role", "r"), ("app.tenant_id", "t1")], {"x": 1}, POLICY)
    assert same == base  # the context matters only through settings, refusals and the user


def test_private_keys_need_a_user() -> None:
    cache = ResponseCache(MemoryCache())
    private = CachePolicy(ttl=5, scope="private")
    assert cache.key("{ a }", None, None, {}, private) is None
    ann = cache.key("{ a }", None, None, {"user_id": "ann"}, private)
    bob = cache.key("{ a }", None, None, {"user_id": "bob"}, private)
    assert ann and bob and ann != bob


async def test_a_read_overlapped_by_an_invalidation_of_its_tags_is_not_stored() -> None:
    cache = ResponseCache(MemoryCache())
    since = cache.sequence
    await cache.invalidate(["post"])
    await cache.store("k1", b"old", POLICY, ["post*", "post"], since)
    assert await cache.lookup("k1") is None
    await cache.store("k2", b"unrelated", POLICY, ["user*", "user"], since)
    hit = await cache.lookup("k2")
    assert hit is not None and hit.body == b"unrelated"
    await cache.store("k3", b"new", POLICY, ["post*", "post"], cache.sequence)
    assert (await cache.lookup("k3")) is not None


async def test_stale_entries_are_told_apart_and_counted() -> None:
    cache = ResponseCache(MemoryCache())
    await cache.store("k", b"body", CachePolicy(ttl=0.01, stale_while_revalidate=60), ["t"])
    await asyncio.sleep(0.03)
    hit = await cache.lookup("k")
    assert hit is not None and hit.stale and hit.body == b"body"
    assert (cache.stale_hits, cache.hits, cache.misses) == (1, 0, 0)


async def test_the_memory_backend_stays_within_its_bytes() -> None:
    backend = MemoryCache(max_bytes=10_000)
    for number in range(100):
        await backend.set(f"k{number}", b"x" * 500, 60, ["t"])
    assert backend.stats()["bytes"] <= 10_000
    assert await backend.get("k99") == b"x" * 500
    assert await backend.get("k0") is None
    await backend.set("huge", b"x" * 20_000, 60, ["t"])
    assert await backend.get("huge") is None


def test_policies_are_checked_and_combined_strictly() -> None:
    with pytest.raises(ValueError, match="ttl"):
        CachePolicy(ttl=0)
    with pytest.raises(ValueError, match="stale"):
        CachePolicy(ttl=1, stale_while_revalidate=-1)
    with pytest.raises(ValueError, match="scope"):
        CachePolicy(ttl=1, scope="public")  # type: ignore[arg-type]
    policy = combined([CachePolicy(30, 10), CachePolicy(5, 60, "private")])
    assert policy == CachePolicy(5, 10, "private")
