"""The response builder alone, and the two ways to project (DESIGN.md §3), on the example data.

For each selection (``nested``: post -> author, post -> comments -> author; ``small``: id and
title) and 1, 20 and 100 rows of ``tv_post``, in one run:

1. builder: Python seconds per call of each way to turn the rows into the list's JSON bytes:
   ``python`` (the fallback), ``c`` (the native core, through the interface the executor calls),
   ``c_bytes`` (the native core given ``bytes`` rows instead of ``str``), ``python_bytes`` (the
   fallback given those ``bytes``), ``orjson_loads`` (only the parsing step of the fallback:
   ``orjson.loads`` of each row, the part of its work that is already C), ``concat_jsonb`` and
   ``concat_json`` (SQL-side projection: Python only joins the rows the projecting SQL returned)
   and ``c_pruned`` (the native core on documents SQL pruned to the selected top-level keys);
2. database: client-side seconds per fetch of the whole documents (``plain``: the executor's
   statement with pruning off, as text: ``data::text``; ``plain_bytes``: the same documents as
   the executor fetches them, ``textsend(data::text)``, as ``bytes``), of the pruning
   statements (``pruned``: ``data - ARRAY[unselected keys]``; ``picked``:
   ``jsonb_build_object`` of the selected keys) and of the projecting statements
   (``sql_jsonb``, ``sql_json``), plus the server-side execution time reported by
   ``EXPLAIN (ANALYZE, TIMING OFF)``;
3. fetch_and_build: a fetch and a build back to back, which is what a request pays between the
   database and the response bytes.

Before timing, every variant's output is checked: C and Python byte-identical, the SQL-side
lists equal to Python's once parsed (and whether their keys keep the selection's order).

    python -m bench.builder [--quick] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench.common import (
    ROW_COUNTS,
    SELECTIONS,
    Variant,
    bench_database,
    blog_schema,
    calibrate,
    calibrate_async,
    interleave,
    interleave_async,
    list_query,
    log,
    machine_info,
    paired_ratio,
    pin_malloc,
    root_plan,
    root_statement,
    spread,
    text_statement,
    write_json,
)
from bench.sql_projection import concat_rows, projected_sql, pruned_sql

SETTINGS = {
    # rounds per comparison, target seconds per timed batch, EXPLAIN repetitions per variant
    "full": {"rounds": 31, "batch_s": 0.01, "db_batch_s": 0.02, "explain": 31},
    "quick": {"rounds": 7, "batch_s": 0.005, "db_batch_s": 0.01, "explain": 7},
}
MAX_BATCH_BYTES = 32 << 20  # fresh copies of the rows made for one timed batch, at most


def fresh_str(rows: list[str]) -> Callable[[int], list[list[str]]]:
    """New string objects with the rows' text, as asyncpg would return them."""

    def make(number: int) -> list[list[str]]:
        return [[row.encode().decode() for row in rows] for _ in range(number)]

    return make


def fresh_bytes(rows: list[bytes]) -> Callable[[int], list[list[bytes]]]:
    """New bytes objects (bytes cache nothing, but the copies keep memory use alike)."""

    def make(number: int) -> list[list[bytes]]:
        return [[bytes(bytearray(row)) for row in rows] for _ in range(number)]

    return make


def ordered(value: Any) -> Any:
    """A parsed JSON value with its objects as lists of pairs: equality then checks key order."""
    if isinstance(value, dict):
        return [(key, ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


def summarize(samples: dict[str, list[float]], reference: str) -> dict[str, Any]:
    """Medians (µs), noise, and each variant's time relative to ``reference`` (paired ratios).

    ``time_vs_<reference>`` below 1 means faster than the reference: 0.25 is 4x faster.
    """
    return {
        "median_us": {name: statistics.median(s) * 1e6 for name, s in samples.items()},
        "spread": {name: round(spread(s), 4) for name, s in samples.items()},
        f"time_vs_{reference}": {
            name: paired_ratio(s, samples[reference]) for name, s in samples.items()
        },
    }


async def measure_case(
    schema: Any,
    connection: asyncpg.Connection,
    selection: str,
    rows: int,
    settings: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    from fraiseql import _native
    from fraiseql.native.builder import PYTHON_BUILDER
    from fraiseql.native.c_builder import CResponseBuilder

    c_builder = CResponseBuilder(_native)
    root = root_plan(schema, list_query(selection, rows), prune=False)
    compiled = c_builder.compile(root.field)
    if compiled.native is None:
        raise SystemExit(f"{selection}: the C core does not cover this plan")
    executor_statement = await root_statement(schema, root)
    statement = text_statement(executor_statement)
    stored_keys = [f.python_name for f in root.model.target.fields.values() if f.resolver is None]
    sql = {
        "plain": statement.sql,
        "sql_jsonb": projected_sql(statement.sql, root.shape.item, "jsonb"),
        "sql_json": projected_sql(statement.sql, root.shape.item, "json"),
        "pruned": pruned_sql(statement.sql, root.shape.item, stored_keys, "delete"),
        "picked": pruned_sql(statement.sql, root.shape.item, stored_keys, "pick"),
    }
    params = statement.params
    prepared = {name: await connection.prepare(text) for name, text in sql.items()}
    prepared["plain_bytes"] = await connection.prepare(executor_statement.sql)
    fetched = {name: [r[0] for r in await p.fetch(*params)] for name, p in prepared.items()}
    plain = fetched["plain"]
    assert len(plain) == rows, (selection, rows, len(plain))

    # -- the variants must agree before they are timed -------------------------------------------
    python_out = PYTHON_BUILDER.render_rows(root.field, plain).value
    native_out = _native.render_rows(compiled.native, plain)
    if native_out is None:
        raise SystemExit(f"{selection}/{rows}: the C core gave up on the example rows")
    reference = orjson.loads(python_out)
    checks = {
        "c_identical_to_python": native_out == python_out,
        "c_on_pruned_identical_to_python": _native.render_rows(compiled.native, fetched["pruned"])
        == python_out,
        "c_on_picked_identical_to_python": _native.render_rows(compiled.native, fetched["picked"])
        == python_out,
        "c_bytes_identical_to_python": _native.render_rows(compiled.native, fetched["plain_bytes"])
        == python_out,
        "python_on_bytes_identical_to_python": PYTHON_BUILDER.render_rows(
            root.field, fetched["plain_bytes"]
        ).value
        == python_out,
    }
    for flavour in ("jsonb", "json"):
        produced = orjson.loads(concat_rows(fetched[f"sql_{flavour}"]))
        checks[f"sql_{flavour}_equal_when_parsed"] = produced == reference
        checks[f"sql_{flavour}_keeps_key_order"] = ordered(produced) == ordered(reference)
    failed = [
        name for name, ok in checks.items() if not ok and not name.endswith("keeps_key_order")
    ]
    if failed:
        raise SystemExit(f"{selection}/{rows}: outputs differ: {failed}")

    sizes = {
        "response_bytes": len(python_out),
        "document_bytes_fetched": sum(len(r.encode()) for r in plain),
        "sql_jsonb_bytes": len(concat_rows(fetched["sql_jsonb"])),
        "sql_json_bytes": len(concat_rows(fetched["sql_json"])),
    }

    # -- 1. the builder alone --------------------------------------------------------------------
    field = root.field
    variants = {
        "python": Variant(lambda r: PYTHON_BUILDER.render_rows(field, r), fresh_str(plain)),
        "c": Variant(lambda r: c_builder.render_rows(compiled, r), fresh_str(plain)),
        "c_bytes": Variant(
            lambda r: c_builder.render_rows(compiled, r), fresh_bytes(fetched["plain_bytes"])
        ),
        "python_bytes": Variant(
            lambda r: PYTHON_BUILDER.render_rows(field, r), fresh_bytes(fetched["plain_bytes"])
        ),
        "orjson_loads": Variant(lambda r: [orjson.loads(row) for row in r], fresh_str(plain)),
        "c_pruned": Variant(
            lambda r: c_builder.render_rows(compiled, r), fresh_str(fetched["pruned"])
        ),
        "concat_jsonb": Variant(concat_rows, fresh_str(fetched["sql_jsonb"])),
        "concat_json": Variant(concat_rows, fresh_str(fetched["sql_json"])),
    }
    batch_bytes = max(1, sizes["document_bytes_fetched"], sizes["sql_json_bytes"])
    max_number = max(1, MAX_BATCH_BYTES // batch_bytes)
    for variant in variants.values():
        variant.number = calibrate(variant, settings["batch_s"], max_number)
    samples = interleave(variants, rounds=settings["rounds"])
    builder = summarize(samples, "python")
    builder["speedup_over_python"] = {
        name: paired_ratio(samples["python"], s) for name, s in samples.items()
    }
    # both builders fed bytes; the C core against the parsing step alone of the Python builder
    builder["speedup_bytes_over_python_bytes"] = paired_ratio(
        samples["python_bytes"], samples["c_bytes"]
    )
    builder["c_vs_orjson_loads"] = {
        name: paired_ratio(samples[name], samples["orjson_loads"]) for name in ("c", "c_bytes")
    }
    builder["numbers"] = {name: v.number for name, v in variants.items()}
    builder["checks"] = checks
    builder["sizes"] = sizes

    # -- 2. the database -------------------------------------------------------------------------
    def fetcher(name: str) -> Callable[[], Any]:
        statement = prepared[name]
        return lambda: statement.fetch(*params)

    fetches = {
        name: fetcher(name)
        for name in ("plain", "plain_bytes", "pruned", "picked", "sql_jsonb", "sql_json")
    }
    numbers = {
        name: await calibrate_async(call, settings["db_batch_s"]) for name, call in fetches.items()
    }
    database = summarize(
        await interleave_async(fetches, rounds=settings["rounds"], numbers=numbers), "plain"
    )
    database["explain_execution_ms"] = await explain_times(
        connection, sql, params, settings["explain"]
    )

    # -- 3. fetch and build ----------------------------------------------------------------------
    async def plain_python() -> object:
        return PYTHON_BUILDER.render_rows(
            field, [r[0] for r in await prepared["plain"].fetch(*params)]
        )

    async def plain_c() -> object:
        return c_builder.render_rows(
            compiled, [r[0] for r in await prepared["plain"].fetch(*params)]
        )

    async def bytes_c() -> object:
        rows_ = [r[0] for r in await prepared["plain_bytes"].fetch(*params)]
        return c_builder.render_rows(compiled, rows_)

    async def pruned_c() -> object:
        rows_ = [r[0] for r in await prepared["pruned"].fetch(*params)]
        return c_builder.render_rows(compiled, rows_)

    async def picked_c() -> object:
        rows_ = [r[0] for r in await prepared["picked"].fetch(*params)]
        return c_builder.render_rows(compiled, rows_)

    async def sql_jsonb_concat() -> object:
        return concat_rows([r[0] for r in await prepared["sql_jsonb"].fetch(*params)])

    async def sql_json_concat() -> object:
        return concat_rows([r[0] for r in await prepared["sql_json"].fetch(*params)])

    pipelines = {
        "plain+python": plain_python,
        "plain+c": plain_c,
        "plain_bytes+c": bytes_c,
        "pruned+c": pruned_c,
        "picked+c": picked_c,
        "sql_jsonb+concat": sql_jsonb_concat,
        "sql_json+concat": sql_json_concat,
    }
    numbers = {
        name: await calibrate_async(call, settings["db_batch_s"])
        for name, call in pipelines.items()
    }
    combined = summarize(
        await interleave_async(pipelines, rounds=settings["rounds"], numbers=numbers), "plain+c"
    )
    return {"builder": builder, "database": database, "fetch_and_build": combined}


async def explain_times(
    connection: asyncpg.Connection, sql: dict[str, str], params: list[Any], repetitions: int
) -> dict[str, Any]:
    """Server-side execution time (ms) of each statement, medians of interleaved EXPLAINs."""
    explains = {
        name: await connection.prepare(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {text}")
        for name, text in sql.items()
    }
    times: dict[str, list[float]] = {name: [] for name in explains}
    for repetition in range(repetitions + 1):
        for name, statement in explains.items():
            result = await statement.fetchval(*params)
            plan = json.loads(result) if isinstance(result, str) else result
            if repetition:  # the first round warms up
                times[name].append(float(plan[0]["Execution Time"]))
    return {
        "median_ms": {name: statistics.median(t) for name, t in times.items()},
        "ratio_vs_plain": {name: paired_ratio(t, times["plain"]) for name, t in times.items()},
    }


async def run(dsn: str, *, quick: bool = False) -> dict[str, Any]:
    settings = SETTINGS["quick" if quick else "full"]
    malloc_pinned = pin_malloc()
    schema = blog_schema()
    # One connection for every variant: on a 2-core machine two connections' backends may be
    # scheduled differently, which alone changed round-trip times by tens of microseconds.
    connection = await asyncpg.connect(dsn)
    cases = []
    try:
        for selection in SELECTIONS:
            for rows in ROW_COUNTS:
                log(f"builder: {selection} selection, {rows} rows")
                result = await measure_case(schema, connection, selection, rows, settings)
                cases.append({"selection": selection, "rows": rows, **result})
                print_case(cases[-1])
    finally:
        await connection.close()
    return {
        "settings": settings,
        "malloc_pinned": malloc_pinned,
        "selections": {
            name: list_query(name, 0).replace("limit: 0", "limit: N") for name in SELECTIONS
        },
        "cases": cases,
    }


def print_case(case: dict[str, Any]) -> None:
    b, d, f = case["builder"], case["database"], case["fetch_and_build"]
    us = b["median_us"]
    print(
        f"{case['selection']:>6} {case['rows']:>3} rows | builder µs: python {us['python']:.1f}"
        f"  c {us['c']:.1f}  c_bytes {us['c_bytes']:.1f}  concat_jsonb {us['concat_jsonb']:.1f}"
        f" | C speedup {b['speedup_over_python']['c']:.2f}x"
    )
    dm, fm = d["median_us"], f["median_us"]
    print(
        f"{'':>15}| fetch µs: plain {dm['plain']:.0f}  sql_jsonb {dm['sql_jsonb']:.0f}"
        f"  sql_json {dm['sql_json']:.0f} | fetch+build µs: plain+c {fm['plain+c']:.0f}"
        f"  plain+python {fm['plain+python']:.0f}  sql_jsonb+concat {fm['sql_jsonb+concat']:.0f}",
        flush=True,
    )


async def main_async(arguments: argparse.Namespace) -> dict[str, Any]:
    async with bench_database() as dsn:
        machine = await machine_info(dsn)
        builder = await run(dsn, quick=arguments.quick)
    return {"machine": machine, "builder": builder}


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
