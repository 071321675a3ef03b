"""Batch mutations against one request per item (``python -m bench.batch_mutations``).

Each round creates ``--items`` posts three ways, interleaved: one ``createPosts`` request (all
or nothing), one ``updatePosts``-style partial batch of the same size (``createPostsPartial``,
the same function in partial mode), and one ``createPost`` request per item. Requests go
through ``Schema.run`` in-process (no HTTP), each in its own transaction, against a throw-away
database (see ``bench/README.md``). Prints the median time per item of each and the median of
the per-round ratios; numbers are for this machine and run only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time

from examples.blog.schema import MUTATIONS, QUERIES, TYPES, CreatePostInput, Post

import fraiseql
from bench.common import bench_database, log, paired_ratio, spread


@fraiseql.mutation(sql_function="fn_create_post", batch="partial")
async def create_posts_partial(info, input: list[CreatePostInput]) -> list[Post]:
    """createPosts in partial mode."""


BATCH = "mutation($p: [CreatePostInput!]!) { %s(input: $p) { status items { post { id } } } }"
SINGLE = "mutation($p: CreatePostInput!) { createPost(input: $p) { status post { id } } }"


async def main(items: int, rounds: int) -> None:
    counter = itertools.count()

    def posts(n: int) -> list[dict[str, str]]:
        return [
            {
                "identifier": f"bench-{next(counter)}",
                "title": "A benchmark post",
                "author": "alice",
                "categoryPath": "tech.databases",
            }
            for _ in range(n)
        ]

    async with bench_database(organisations=2, users=20, posts=200, comments_per_post=1) as dsn:
        schema = fraiseql.Schema(
            types=TYPES,
            queries=QUERIES,
            mutations=[*MUTATIONS, create_posts_partial],
            database_url=dsn,
        )
        await schema.open()
        try:

            async def atomic() -> None:
                result = await schema.run(BATCH % "createPosts", {"p": posts(items)})
                assert result["data"]["createPosts"]["status"] == "SUCCESS", result

            async def partial() -> None:
                result = await schema.run(BATCH % "createPostsPartial", {"p": posts(items)})
                assert result["data"]["createPostsPartial"]["status"] == "SUCCESS", result

            async def single() -> None:
                for post in posts(items):
                    result = await schema.run(SINGLE, {"p": post})
                    assert result["data"]["createPost"]["status"] == "SUCCESS", result

            variants = {"batch atomic": atomic, "batch partial": partial, "one per item": single}
            samples: dict[str, list[float]] = {name: [] for name in variants}
            await atomic()  # warm the document cache and the connections
            await single()
            for r in range(rounds):
                names = list(variants)
                for name in names[r % 3 :] + names[: r % 3]:
                    started = time.perf_counter()
                    await variants[name]()
                    samples[name].append((time.perf_counter() - started) / items)
        finally:
            await schema.close()
    log(f"{items} posts per round, {rounds} rounds, in-process, median time per post:")
    for name, values in samples.items():
        median = statistics.median(values) * 1e6
        log(f"  {name:14} {median:9.1f} µs  (±{spread(values) * 100:.0f}%)")
    ratio = paired_ratio(samples["one per item"], samples["batch atomic"])
    log(f"  one request per item / atomic batch: {ratio:.1f}x")
    ratio = paired_ratio(samples["batch partial"], samples["batch atomic"])
    log(f"  partial / atomic batch: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.items, arguments.rounds))
