"""Should the executor fetch documents as bytes? Fetch + C build, four ways, in one run.

    python -m bench.bytes_feed            # a throw-away example database (see bench.common)

The C core converts a non-ASCII ``str`` row to UTF-8 before reading it; given ``bytes`` it
skips that step. asyncpg returns ``data::text`` as ``str``; it returns bytes for ``bytea``
(``textsend(data::text)``, or ``convert_to(data::text, 'UTF8')``, which is also right when the
server's encoding is not UTF-8), or for ``jsonb`` itself with a binary codec registered on the
connection (which would change what every other jsonb column of the application returns). Each
variant fetches 100 posts (the nested selection of ``bench.common``) and renders them with the C
core, in interleaved rounds; ratios are medians of per-round ratios against ``data::text``.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable

import asyncpg

from bench.common import (
    bench_database,
    blog_schema,
    interleave_async,
    list_query,
    paired_ratio,
    root_plan,
    root_statement,
    spread,
)

ROWS = 100
ROUNDS = 41
CALLS = 10
HEAD = 'SELECT t."data"::text FROM '
VARIANTS = {
    "text": HEAD,
    "textsend": 'SELECT textsend(t."data"::text) FROM ',
    "convert_to": "SELECT convert_to(t.\"data\"::text, 'UTF8') FROM ",
    "jsonb codec": 'SELECT t."data" FROM ',
}


async def measure(dsn: str) -> dict[str, tuple[float, float, float]]:
    """Per variant: median µs of fetch + build, its noise, and its time / the text variant's."""
    from fraiseql import _native
    from fraiseql.native.c_builder import CResponseBuilder

    schema = blog_schema()
    root = root_plan(schema, list_query("nested", ROWS), prune=False)
    statement = await root_statement(schema, root)
    assert statement.sql.startswith(HEAD), statement.sql
    builder = CResponseBuilder(_native)
    compiled = builder.compile(root.field)
    plain = await asyncpg.connect(dsn)
    with_codec = await asyncpg.connect(dsn)
    try:
        await with_codec.set_type_codec(
            "jsonb",
            schema="pg_catalog",
            encoder=lambda value: b"\x01" + value,
            decoder=lambda value: value[1:],  # binary jsonb: a version byte, then the text
            format="binary",
        )
        calls: dict[str, Callable[[], Awaitable[object]]] = {}
        outputs = set()
        for name, head in VARIANTS.items():
            connection = with_codec if name == "jsonb codec" else plain
            prepared = await connection.prepare(head + statement.sql[len(HEAD) :])

            async def call(prepared: asyncpg.prepared_stmt.PreparedStatement = prepared) -> bytes:
                rows = await prepared.fetch(*statement.params)
                return builder.render_rows(compiled, [row[0] for row in rows]).value

            outputs.add(await call())
            calls[name] = call
        if len(outputs) != 1:
            raise SystemExit("the variants render different bytes")
        samples = await interleave_async(calls, rounds=ROUNDS, numbers=dict.fromkeys(calls, CALLS))
    finally:
        await plain.close()
        await with_codec.close()
    return {
        name: (
            statistics.median(times) * 1e6,
            spread(times),
            paired_ratio(times, samples["text"]),
        )
        for name, times in samples.items()
    }


async def main_async() -> None:
    async with bench_database() as dsn:
        results = await measure(dsn)
    print(f"fetch + C build of {ROWS} nested posts, {ROUNDS} interleaved rounds of {CALLS}:")
    for name, (median, noise, ratio) in results.items():
        print(f"  {name:<12} {median:8.1f} µs (±{noise:.0%})  {ratio:.3f}x the text variant")


def main() -> None:
    """Run the comparison and print it."""
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
