"""What one create costs in the database: ``python -m bench.write_cost [--quick]``.

On the side-by-side benchmark's database as it stands (``fraiseql_bench``: 1 000 000 posts; see
``bench.compare.seed``; ``--quick``: the 30 000-post one), one connection times, in interleaved
rounds of 100 writes each, each one its own transaction (durable commit, as the servers run):

- ``fn_create_post``: the example's mutation function, what FraiseQL's ``createPost`` runs
  (the insert into ``tb_post`` and ``fn_sync_tv_post`` rebuilding the post's ``tv_post`` row);
- ``insert``: a plain ``INSERT`` into ``tb_post``, what PostGraphile's create runs.

It prints the median time per write of each and their ratio, then deletes what it wrote.
``docs/benchmarks/RESULTS.md`` quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from bench.compare import scenarios, seed

PREFIX = f"{scenarios.CREATED_PREFIX}write-cost-"
ROUNDS = 9
WRITES = 100


async def main(quick: bool) -> None:
    connection = await seed.connect_as_it_stands("quick" if quick else "full")
    try:
        author, author_pk = await connection.fetchrow(
            "SELECT identifier, pk_user FROM tb_user ORDER BY pk_user LIMIT 1"
        )
        counter = 0

        async def function() -> None:
            nonlocal counter
            counter += 1
            body = {
                "identifier": f"{PREFIX}{counter}",
                "title": "Cost",
                "body": "One write.",
                "author": author,
                "status": "draft",
                "tags": ["bench"],
                "category_path": "bench.cost",
            }
            await connection.fetchval("SELECT (fn_create_post($1::jsonb)).status", json.dumps(body))

        async def insert() -> None:
            nonlocal counter
            counter += 1
            await connection.execute(
                "INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, "
                "status, tags, category_path) SELECT $1, fk_organisation, pk_user, 'Cost', "
                "'One write.', 'draft', '{bench}', 'bench.cost' FROM tb_user WHERE pk_user = $2",
                f"{PREFIX}{counter}",
                author_pk,
            )

        variants = {"fn_create_post": function, "insert": insert}
        times: dict[str, list[float]] = {name: [] for name in variants}
        ratios = []
        for round_ in range(ROUNDS):
            order = list(variants) if round_ % 2 == 0 else list(variants)[::-1]
            took = {}
            for variant in order:
                started = time.perf_counter()
                for _ in range(WRITES):
                    await variants[variant]()
                took[variant] = (time.perf_counter() - started) / WRITES * 1e3
                times[variant].append(took[variant])
            ratios.append(took["fn_create_post"] / took["insert"])
        for variant, values in times.items():
            print(f"{variant:<15} {statistics.median(values):.3f} ms per write (median)")
        print(f"fn_create_post / insert: {statistics.median(ratios):.2f}x (median of rounds)")
    finally:
        await connection.execute("DELETE FROM tv_post WHERE identifier LIKE $1", PREFIX + "%")
        await connection.execute("DELETE FROM tb_post WHERE identifier LIKE $1", PREFIX + "%")
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 30 000-post database")
    asyncio.run(main(parser.parse_args().quick))
