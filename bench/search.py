"""Does the generated GIN index serve FraiseQL's searches? ``python -m bench.search``.

Creates a throw-away database on ``FRAISEQL_BENCH_DATABASE_URL`` (else the local server) with
the read models the DDL generator writes for two searchable types: ``tv_article`` (the vector
computed from the document, indexed on that expression) and ``tv_stored_article`` (the same
documents with a stored, generated ``tsvector`` column, indexed on it). Fills them set-based
with ``--rows`` documents (default 1 000 000), then, for the statements FraiseQL's planner
writes for a few searches, prints PostgreSQL's ``EXPLAIN ANALYZE`` execution time: on the
expression without its index (dropped for the occasion), with it, and on the stored column
with its index. It writes nothing else; ``docs/guides/search.md`` quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import time
from typing import Any

import asyncpg

import fraiseql
from bench.common import root_plan, root_statement, server_url, with_database
from fraiseql import Connection, OrderBy, Search, SearchInput
from fraiseql.codegen import generate_ddl
from fraiseql.types.scalars import UUID

_WEIGHTS = {"title": "A", "body": "B"}


@fraiseql.type(sql_source="tv_article", search=Search(fields=["title", "body"], weights=_WEIGHTS))
class Article:
    """A searchable article; its vector is computed from the document."""

    id: UUID
    identifier: str
    title: str
    body: str


@fraiseql.type(
    sql_source="tv_stored_article",
    search=Search(fields=["title", "body"], weights=_WEIGHTS, column="search"),
)
class StoredArticle:
    """The same article with a stored vector column."""

    id: UUID
    identifier: str
    title: str
    body: str


@fraiseql.query
async def articles(
    info,
    search: SearchInput | None = None,
    order_by: list[OrderBy[Article]] | None = None,
    limit: int | None = None,
) -> list[Article]:
    """Articles, searched."""


@fraiseql.query
async def articles_page(
    info, search: SearchInput | None = None, first: int | None = None
) -> Connection[Article]:
    """Articles, searched, one page with the total."""


@fraiseql.query
async def stored_articles(
    info,
    search: SearchInput | None = None,
    order_by: list[OrderBy[StoredArticle]] | None = None,
    limit: int | None = None,
) -> list[StoredArticle]:
    """Stored articles, searched."""


@fraiseql.query
async def stored_articles_page(
    info, search: SearchInput | None = None, first: int | None = None
) -> Connection[StoredArticle]:
    """Stored articles, searched, one page with the total."""


TYPES = [Article, StoredArticle]
QUERIES = [articles, articles_page, stored_articles, stored_articles_page]

VOCABULARY = [
    a + b + c
    for a in ("ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "sa")
    for b in ("bar", "den", "fol", "gim", "hus", "jor", "kel", "lum", "mor", "nat")
    for c in ("a", "e", "i", "o", "u", "ing", "er", "ed", "s", "y")
]
"""1 000 made-up words; each document holds 3 in its title and 8 in its body."""

RARE = "needle"
"""A word in the title of one document in 10 000."""

FILL_SQL = """
INSERT INTO tv_article (id, identifier, data)
SELECT md5(i::text)::uuid, 'a' || i, jsonb_build_object(
    'id', md5(i::text)::uuid, 'identifier', 'a' || i,
    'title', w[1 + i * 7 % 1000] || ' ' || w[1 + i * 13 % 997] || ' ' || w[1 + i * 31 % 991]
             || CASE WHEN i % 10000 = 0 THEN ' needle' ELSE '' END,
    'body', w[1 + i * 17 % 983] || ' ' || w[1 + i * 19 % 977] || ' ' || w[1 + i * 23 % 971]
            || ' ' || w[1 + i * 29 % 967] || ' ' || w[1 + i * 37 % 953]
            || ' ' || w[1 + i * 41 % 947] || ' ' || w[1 + i * 43 % 941]
            || ' ' || w[1 + i * 47 % 937])
FROM (SELECT $1::text[] AS w) AS v, generate_series(1, $2::integer) AS i
"""
"""Set-based documents: word positions are multiples of small primes, so every word occurs."""

_SCAN = re.compile(r"((?:Parallel )?[A-Za-z ]*Scan(?: using \S+)? on \S+)")

SEARCHES = {
    "rare word (1 row in 10 000)": RARE,
    "common word (about 1 row in 90)": VOCABULARY[0],
    "two words": f"{VOCABULARY[0]} {VOCABULARY[17]}",
    "phrase": f'"{VOCABULARY[17]} {VOCABULARY[19]}"',
    "word or word": f"{RARE} or {VOCABULARY[1]}",
}


def schema() -> Any:
    """The benchmark's schema (no database: only its plans and statements are used)."""
    return fraiseql.Schema(types=TYPES, queries=QUERIES)


def read_model_ddl() -> list[str]:
    """The generated ``20_read_models`` files of the benchmark's types."""
    files = generate_ddl(schema(), auto_indexes=False)
    return [text for path, text in sorted(files.items()) if path.startswith("20_read_models/")]


def search_index_sql(table: str) -> str:
    """The generated ``CREATE INDEX <table>_search_idx`` statement."""
    for text in read_model_ddl():
        start = text.find(f"CREATE INDEX {table}_search_idx")
        if start >= 0:
            return text[start : text.index(";", start) + 1]
    raise LookupError(table)


async def fill(connection: asyncpg.Connection, rows: int) -> None:
    """Create both read models as generated and fill them with ``rows`` documents each."""
    await connection.execute("SET maintenance_work_mem = '256MB'")
    for text in read_model_ddl():
        await connection.execute(text)
    await connection.execute("DROP INDEX tv_article_search_idx, tv_stored_article_search_idx")
    await connection.execute(FILL_SQL, VOCABULARY, rows)
    await connection.execute(
        "INSERT INTO tv_stored_article (id, identifier, data) "
        "SELECT id, identifier, data FROM tv_article"
    )
    for table in ("tv_article", "tv_stored_article"):
        await connection.execute(search_index_sql(table))
    await connection.execute("ANALYZE tv_article, tv_stored_article")


async def statement_of(query: str) -> Any:
    """The statement FraiseQL's planner writes for ``query`` (same code path, not run)."""
    built = schema()
    return await root_statement(built, root_plan(built, query))


def list_query(field: str, text: str) -> str:
    """A search of 20 rows, best first (the default order of a search)."""
    return f"{{ {field}(search: {{query: {_quoted(text)}}}, limit: 20) {{ id }} }}"


def by_id_query(field: str, text: str) -> str:
    """A search of 20 rows ordered by id alone, which lets PostgreSQL walk the primary key."""
    return (
        f"{{ {field}(search: {{query: {_quoted(text)}}}, orderBy: [{{id: ASC}}], limit: 20) "
        "{ id } }"
    )


def page_query(field: str, text: str) -> str:
    """A connection page of 20 with its ``totalCount`` (which counts every match)."""
    return (
        f"{{ {field}(search: {{query: {_quoted(text)}}}, first: 20) "
        "{ totalCount edges { node { id } } } }"
    )


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def explain(connection: asyncpg.Connection, statement: Any) -> tuple[float, bool, str]:
    """Execution time (ms), whether a search index served it, and the top scan node."""
    rows = await connection.fetch(
        f"EXPLAIN (ANALYZE, COSTS OFF) {statement.sql}", *statement.params
    )
    lines = [row[0] for row in rows]
    timing = next(line for line in lines if "Execution Time" in line)
    scans = [found.group(1).strip() for line in lines if (found := _SCAN.search(line))]
    used = any(scan.startswith("Bitmap Index Scan on") and "_search_idx" in scan for scan in scans)
    shown = next((scan for scan in scans if "_search_idx" in scan), scans[0] if scans else "")
    return float(timing.split(":")[1].split()[0]), used, shown


async def measure(dsn: str, rounds: int) -> None:
    """Print the timings of every search, without and with the index, and on the column."""
    connection = await asyncpg.connect(dsn)
    try:
        for name, text in SEARCHES.items():
            matches = await connection.fetchval(
                "SELECT count(*) FROM tv_stored_article "
                "WHERE search @@ websearch_to_tsquery('english', $1)",
                text,
            )
            print(f"## {name}: {text!r}, {matches:,} matching rows")
            shapes = (("list of 20", list_query), ("page + total", page_query))
            if text == RARE:
                shapes += (("20 by id", by_id_query),)
            for shape, query in shapes:
                page = shape.startswith("page")
                plain = await statement_of(query("articlesPage" if page else "articles", text))
                stored = await statement_of(
                    query("storedArticlesPage" if page else "storedArticles", text)
                )
                results = []
                await connection.execute("DROP INDEX IF EXISTS tv_article_search_idx")
                results.append(("no index", await explain(connection, plain)))
                await connection.execute(search_index_sql("tv_article"))
                await explain(connection, plain)  # warm
                best = min([await explain(connection, plain) for _ in range(rounds)])
                results.append(("expression index", best))
                await explain(connection, stored)
                best = min([await explain(connection, stored) for _ in range(rounds)])
                results.append(("stored column + index", best))
                for label, (ms, used, scan) in results:
                    print(
                        f"    {shape:13} {label:22} {ms:10.2f} ms  "
                        f"search index {'used' if used else 'NOT used'}  ({scan})"
                    )
    finally:
        await connection.close()


async def main(rows: int, rounds: int) -> None:
    """Create the database, fill it, measure, drop it."""
    admin_url = server_url()
    name = f"fraiseql_bench_search_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = with_database(admin_url, name)
        connection = await asyncpg.connect(dsn)
        try:
            started = time.perf_counter()
            await fill(connection, rows)
            count = await connection.fetchval("SELECT count(*) FROM tv_article")
            print(f"tv_article, tv_stored_article: {count:,} rows each, filled and indexed in "
                  f"{time.perf_counter() - started:.1f} s\n")  # fmt: skip
        finally:
            await connection.close()
        await measure(dsn, rounds)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="documents per table")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per indexed case")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.rounds))
