"""Pruning unselected top-level keys in SQL, end to end in process: pruned vs whole documents.

Two ``Schema`` objects over the same example database and the same single connection, alike
but for ``prune_documents``. Each call is a whole request minus HTTP: ``Schema.prepare`` (the
document cache), ``Schema.execute`` (the cached plan, the statement, the response builder of
``FRAISEQL_IMPL``) down to the response bytes. For each query and 1, 20 and 100 rows, the two
sides are interleaved round by round; a ratio is the median of per-round ratios (pruned time /
whole time: below 1 is faster).

Queries: ``small`` (``id title``), ``author`` (``id title author { id name }``), ``nested``
(the selection of ``bench.builder``, which leaves out only scalars: both sides run the same
statement, so its ratio shows the noise of the run), ``no_author`` (the nested selection
without the post's author: pruned by the rule, though little is removed) and ``connection``
(``id title`` of ``postsConnection`` nodes). Before timing, both sides must answer with the
same bytes, and the pruned side's statement must prune exactly when the planner's rule says so.

    python -m bench.pruning [--quick] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.common import (
    NESTED_FIELDS,
    ROW_COUNTS,
    bench_database,
    calibrate_async,
    interleave_async,
    log,
    machine_info,
    paired_ratio,
    pin_malloc,
    spread,
    write_json,
)

SETTINGS = {
    "full": {"rounds": 21, "batch_s": 0.05, "warmup": 50},
    "quick": {"rounds": 5, "batch_s": 0.01, "warmup": 10},
}

ORDER = "orderBy: [{identifier: ASC}]"
# The nested selection without the post's author: the rule prunes (a composite is left out),
# though what it removes (author, body, version) is a small part of the document.
NESTED_NO_AUTHOR = NESTED_FIELDS.replace("author { id name email } ", "")
QUERIES = {
    # name: (query with N for the row count, whether the planner prunes it)
    "small": (f"{{ posts(limit: N, {ORDER}) {{ id title }} }}", True),
    "author": (f"{{ posts(limit: N, {ORDER}) {{ id title author {{ id name }} }} }}", True),
    "nested": (f"{{ posts(limit: N, {ORDER}) {{ {NESTED_FIELDS} }} }}", False),
    "no_author": (f"{{ posts(limit: N, {ORDER}) {{ {NESTED_NO_AUTHOR} }} }}", True),
    "connection": (
        f"{{ postsConnection(first: N, {ORDER}) {{ edges {{ node {{ id title }} }} }} }}",
        True,
    ),
}


async def measure(
    sides: dict[str, Any], statements: list[str], query: str, prunes: bool, settings: dict[str, Any]
) -> dict[str, Any]:
    from fraiseql.execution.outcome import GraphQLRequest

    request = GraphQLRequest(query)

    def call(schema: Any) -> Any:
        async def run() -> bytes:
            prepared = schema.prepare(request)
            return (await schema.execute(prepared, request, {})).body  # type: ignore[no-any-return]

        return run

    calls = {name: call(schema) for name, schema in sides.items()}
    statements.clear()
    bodies = {name: await run() for name, run in calls.items()}
    if bodies["pruned"] != bodies["whole"] or b'"errors"' in bodies["whole"]:
        raise SystemExit(f"pruning: the two sides differ on {query}")
    pruned_sql, whole_sql = [s for s in statements if "tv_" in s]
    if ("- ARRAY[" in pruned_sql) != prunes or "- ARRAY[" in whole_sql:
        raise SystemExit(f"pruning: unexpected statements for {query}: {statements}")
    for _ in range(settings["warmup"]):  # the connection's statement cache, the CPU's caches
        for run in calls.values():
            await run()
    numbers = {name: await calibrate_async(run, settings["batch_s"]) for name, run in calls.items()}
    samples = await interleave_async(calls, rounds=settings["rounds"], numbers=numbers)
    return {
        "median_us": {name: statistics.median(s) * 1e6 for name, s in samples.items()},
        "spread": {name: round(spread(s), 4) for name, s in samples.items()},
        "pruned_vs_whole": paired_ratio(samples["pruned"], samples["whole"]),
        "response_bytes": len(bodies["whole"]),
    }


async def document_bytes(dsn: str, query: str) -> dict[str, int]:
    """How many bytes of document text each side's statement returns for ``query``."""
    import asyncpg

    from bench.common import blog_schema, root_plan, root_statement

    schema = blog_schema()
    connection = await asyncpg.connect(dsn)
    try:
        sizes = {}
        for name, prune in (("pruned", True), ("whole", False)):
            statement = await root_statement(schema, root_plan(schema, query, prune=prune))
            rows = await connection.fetch(statement.sql, *statement.params)
            sizes[name] = sum(len(row[0]) for row in rows)  # bytes: textsend(...)
        return sizes
    finally:
        await connection.close()


async def run(dsn: str, *, quick: bool = False) -> dict[str, Any]:
    from examples.blog.schema import QUERIES as ROOTS
    from examples.blog.schema import TYPES

    from fraiseql import Schema, native_info
    from fraiseql.db.pool import Database, PoolSettings

    settings = SETTINGS["quick" if quick else "full"]
    malloc_pinned = pin_malloc()
    # One connection for both sides (see bench.builder: two backends on 2 cores are scheduled
    # differently, which alone moves round trips by tens of microseconds).
    database = Database(PoolSettings(dsn=dsn, min_size=1, max_size=1), observe_statements=True)
    statements: list[str] = []
    database.statement_observers.append(statements.append)
    await database.open()
    sides = {
        "pruned": Schema(types=TYPES, queries=ROOTS, database=database),
        "whole": Schema(types=TYPES, queries=ROOTS, database=database, prune_documents=False),
    }
    cases = []
    try:
        for name, (template, prunes) in QUERIES.items():
            for rows in ROW_COUNTS:
                query = template.replace("N", str(rows), 1)
                log(f"pruning: {name}, {rows} rows")
                result = await measure(sides, statements, query, prunes, settings)
                result["document_bytes"] = await document_bytes(dsn, query)
                cases.append({"query": name, "rows": rows, **result})
                print_case(cases[-1])
    finally:
        await database.close()
    return {
        "implementation": native_info()["implementation"],
        "settings": settings,
        "malloc_pinned": malloc_pinned,
        "queries": {name: template for name, (template, _) in QUERIES.items()},
        "cases": cases,
    }


def print_case(case: dict[str, Any]) -> None:
    us, noise, sizes = case["median_us"], case["spread"], case["document_bytes"]
    print(
        f"{case['query']:>10} {case['rows']:>3} rows | µs: whole {us['whole']:.0f}"
        f"  pruned {us['pruned']:.0f} | pruned/whole {case['pruned_vs_whole']:.2f}"
        f" | documents bytes: whole {sizes['whole']}  pruned {sizes['pruned']}"
        f" | noise ±{noise['whole']:.0%}, ±{noise['pruned']:.0%}",
        flush=True,
    )


async def main_async(arguments: argparse.Namespace) -> dict[str, Any]:
    async with bench_database() as dsn:
        machine = await machine_info(dsn)
        result = await run(dsn, quick=arguments.quick)
    machine["load_average_at_end"] = os.getloadavg()
    return {"machine": machine, "pruning": result}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--output", type=Path, help="write the results as JSON to this file")
    arguments = parser.parse_args(argv)
    result = asyncio.run(main_async(arguments))
    if arguments.output is not None:
        write_json(arguments.output, result)


if __name__ == "__main__":
    sys.exit(main())
