"""The searchable types of the search tests, their read models and generated documents."""

from __future__ import annotations

import random
import uuid
from typing import Any

import asyncpg

import fraiseql
from fraiseql import Connection, OrderBy, Search, SearchInput, Where
from fraiseql.codegen import generate_ddl
from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.types.scalars import UUID


@fraiseql.type
class Writer:
    """A value object embedded in a document."""

    name: str


@fraiseql.type(
    sql_source="tv_doc",
    search=Search(
        fields=["title", "body", "writer.name"],
        language="english",
        weights={"title": "A", "body": "B"},
        languages=["simple", "french"],
    ),
)
class Doc:
    """A searchable document whose vector is computed from its text."""

    id: UUID
    identifier: str
    title: str
    body: str | None
    writer: Writer | None
    kind: str
    tenant: str


@fraiseql.type(sql_source="tv_note", search=Search(fields=["text"], column="search"))
class Note:
    """A searchable document whose vector is a stored (generated) column."""

    id: UUID
    identifier: str
    text: str


@fraiseql.query
async def docs(
    info,
    where: Where[Doc] | None = None,
    search: SearchInput | None = None,
    order_by: list[OrderBy[Doc]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Doc]:
    """Documents, searched."""


@fraiseql.query
async def docs_connection(
    info,
    where: Where[Doc] | None = None,
    search: SearchInput | None = None,
    order_by: list[OrderBy[Doc]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Doc]:
    """Documents, searched, a page at a time."""


@fraiseql.query
async def notes(
    info, search: SearchInput | None = None, order_by: list[OrderBy[Note]] | None = None
) -> list[Note]:
    """Notes, searched through their stored vector."""


TYPES = [Doc, Note]
QUERIES = [docs, docs_connection, notes]

# The oracle's vector, written out by hand: the declared fields' vectors concatenated. Weights
# change ranks, never matches; the ranking oracle uses the weighted form.
ORACLE_VECTOR = (
    "(to_tsvector({cfg}, COALESCE(data->>'title', '')) "
    "|| to_tsvector({cfg}, COALESCE(data->>'body', '')) "
    "|| to_tsvector({cfg}, COALESCE(data->'writer'->>'name', '')))"
)
ORACLE_RANKED = (
    "ts_rank(setweight(to_tsvector({cfg}, COALESCE(data->>'title', '')), 'A') "
    "|| setweight(to_tsvector({cfg}, COALESCE(data->>'body', '')), 'B') "
    "|| to_tsvector({cfg}, COALESCE(data->'writer'->>'name', '')), "
    "websearch_to_tsquery({cfg}, $1))"
)

WORDS = [
    "run", "running", "runs", "runner", "cat", "cats", "cat's", "dog", "dogs", "database",
    "databases", "index", "indexes", "indexing", "search", "searching", "Postgres", "POSTGRES",
    "query", "queries", "fast", "faster", "slow", "the", "and", "or", "not", "a", "of",
    "chat", "chats", "maison", "maisons", "été", "über", "naïve", "café", "日本語", "emoji🎉",
    "O'Reilly", "rock&roll", "a|b", "!bang", "pre:fix", "star*", "back\\slash", "semi;colon",
    "hyphen-ated", "under_score", "x1", "42", "3.14", "e-mail@example.com",
]  # fmt: skip
"""The vocabulary of the documents (and of generated queries): stems, stopwords, French,
Unicode, and text search operator characters inside words."""

HOSTILE = [
    "'",
    "''",
    '"',
    "&",
    "|",
    "!",
    ":*",
    "&|!:*",
    "cat & dog | !mouse:*",
    "cat <-> dog",
    "(cat",
    "cat)",
    "'; DROP TABLE tv_doc; --",
    "$1",
    "\\",
    "%_",
    "cat' OR '1'='1",
    "-",
    '"unterminated phrase',
    "OR",
    "- - -",
]
"""Queries that would break SQL or ``to_tsquery`` syntax if they were anything but a value."""


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def documents(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` documents drawn from ``WORDS``, with null bodies and missing writers."""
    rng = random.Random(seed)
    found = []
    for number in range(count):
        document: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "identifier": f"doc-{number:04d}",
            "title": _text(rng, 1, 5),
            "body": None if number % 11 == 0 else _text(rng, 0, 14),
            "kind": rng.choice(["guide", "note", "news"]),
            "tenant": rng.choice(["t1", "t2"]),
        }
        if number % 7:
            document["writer"] = {"name": rng.choice(["Ann Runner", "Bob Cat", "Zoë Café"])}
        found.append(document)
    return found


def read_model_ddl() -> list[str]:
    """The generated ``20_read_models`` files of the test types: tables, vector column, GIN."""
    schema = fraiseql.Schema(types=TYPES, queries=QUERIES)
    files = generate_ddl(schema, auto_indexes=False)
    return [text for path, text in sorted(files.items()) if path.startswith("20_read_models/")]


async def load(dsn: str, docs_count: int = 240) -> list[dict[str, Any]]:
    """Create the read models from the generated DDL and fill them; return the documents."""
    found = documents(docs_count)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(CONTRACT_SQL)
        for text in read_model_ddl():
            await connection.execute(text)
        await connection.executemany(
            "INSERT INTO tv_doc (id, identifier, data) VALUES ($1::uuid, $2, $3::jsonb)",
            [(d["id"], d["identifier"], _json(d)) for d in found],
        )
        await connection.executemany(
            "INSERT INTO tv_note (id, identifier, data) VALUES ($1::uuid, $2, $3::jsonb)",
            [(d["id"], d["identifier"], _json({**d, "text": d["title"]})) for d in found[:60]],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return found


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()
