"""Quick check (under ~30 s): C vs Python builder on 100 nested rows, with a floor.

    FRAISEQL_BENCH_MIN_RATIO=3.0 python -m bench.quick

Seeds a small example database (see ``bench.common``), renders 100 rows of ``tv_post`` with the
nested selection through both builders (interleaved rounds, fresh copies of the rows as the
executor fetches them, as bytes; medians) and
prints the ratio Python time / C time. Exits 1 when the ratio is below
``FRAISEQL_BENCH_MIN_RATIO`` (default 3.0), 2 when it cannot run (no PostgreSQL, no C core).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys

import asyncpg

from bench.common import (
    Variant,
    bench_database,
    blog_schema,
    calibrate,
    interleave,
    list_query,
    paired_ratio,
    pin_malloc,
    root_plan,
    root_statement,
)

THRESHOLD_ENV = "FRAISEQL_BENCH_MIN_RATIO"
ROUNDS = 31
BATCH_S = 0.02


async def measure(dsn: str, selection: str, rows: int) -> tuple[float, float, float]:
    """(median Python µs, median C µs, paired ratio) for one selection and row count."""
    from fraiseql import _native
    from fraiseql.native.builder import PYTHON_BUILDER
    from fraiseql.native.c_builder import CResponseBuilder

    schema = blog_schema()
    root = root_plan(schema, list_query(selection, rows), prune=False)
    statement = await root_statement(schema, root)
    connection = await asyncpg.connect(dsn)
    try:
        texts = [r[0] for r in await connection.fetch(statement.sql, *statement.params)]
    finally:
        await connection.close()
    c_builder = CResponseBuilder(_native)
    compiled = c_builder.compile(root.field)
    expected = PYTHON_BUILDER.render_rows(root.field, texts).value
    if compiled.native is None or _native.render_rows(compiled.native, texts) != expected:
        raise SystemExit(2)

    def fresh(number: int) -> list[list[bytes]]:
        """New copies of the rows, as the executor fetches them (``bytes``)."""
        return [[bytes(bytearray(t)) for t in texts] for _ in range(number)]

    variants = {
        "python": Variant(lambda r: PYTHON_BUILDER.render_rows(root.field, r), fresh),
        "c": Variant(lambda r: c_builder.render_rows(compiled, r), fresh),
    }
    for variant in variants.values():
        variant.number = calibrate(variant, BATCH_S, 1000)
    samples = interleave(variants, rounds=ROUNDS)
    return (
        statistics.median(samples["python"]) * 1e6,
        statistics.median(samples["c"]) * 1e6,
        paired_ratio(samples["python"], samples["c"]),
    )


async def main_async() -> float:
    pin_malloc()
    async with bench_database(users=100, posts=300) as dsn:
        for selection in ("small", "nested"):
            python_us, c_us, ratio = await measure(dsn, selection, 100)
            print(
                f"{selection} selection, 100 rows: Python {python_us:.0f} µs, C {c_us:.0f} µs, "
                f"C is {ratio:.2f}x faster"
            )
    return ratio  # the nested selection's: the gate


def main() -> int:
    try:
        threshold = float(os.environ.get(THRESHOLD_ENV, "3.0"))
    except ValueError:
        print(f"{THRESHOLD_ENV} must be a number", file=sys.stderr)
        return 2
    try:
        from fraiseql import _native  # noqa: F401
    except ImportError as exc:
        print(f"the C core does not load: {exc}", file=sys.stderr)
        return 2
    try:
        ratio = asyncio.run(main_async())
    except SystemExit as exc:
        if exc.code not in (None, 0, 2):
            print(exc.code, file=sys.stderr)
        return 2
    if ratio < threshold:
        print(f"FAIL: nested/100 ratio {ratio:.2f}x is below {THRESHOLD_ENV}={threshold}")
        return 1
    print(f"OK: nested/100 ratio {ratio:.2f}x >= {threshold}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
