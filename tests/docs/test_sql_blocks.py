"""Every ```sql block of docs/ runs against a real PostgreSQL.

Options of the marker before a block (``<!-- docs-test: sql OPTION=VALUE ... -->``; without a
marker a block runs with the defaults):

- ``db=empty`` (default) or ``db=blog``: an empty database, or one with the example blog's
  schema and a small seed (``tests.conftest.BLOG_SEED``);
- ``setup="SQL"``: statements run first, in the same transaction;
- ``wrap=plpgsql``: the block is a PL/pgSQL fragment, run in a ``DO`` block (``declare="..."``
  gives its DECLARE section);
- ``expect=SQLSTATE``: the block must fail with that SQLSTATE;
- ``excerpt=PATH``: the block is an excerpt (``...`` stands for left-out lines): its lines must
  appear in that order in PATH, which must be part of what ``db=`` or ``load=DIR`` loads (DIR's
  ``.sql`` files after ``CONTRACT_SQL``, in path order, in a database of its own).

A block with ``$1``-style parameters is prepared (parsed, analysed and planned against the
schema) instead of executed. A block runs in a transaction that is rolled back; one with its
own BEGIN/COMMIT runs in a copy of the database, dropped afterwards.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from examples.blog.database import SCHEMA_FILES, load_schema, seed
from tests.conftest import BLOG_SEED, temporary_database
from tests.docs.blocks import ROOT, Block, blocks

from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.db.locate import with_database

SQL_BLOCKS = blocks("sql")
_PARAMETER = re.compile(r"\$\d+")
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\s*;", re.IGNORECASE | re.MULTILINE)
OPTIONS = {"db", "setup", "wrap", "declare", "expect", "excerpt", "load"}


@pytest.fixture(scope="module")
async def databases(server_dsn: str) -> AsyncIterator[dict[str, str]]:
    """An empty database and one with the blog (schema and small seed), for this module."""
    async with temporary_database(server_dsn) as empty, temporary_database(server_dsn) as blog:
        await load_schema(blog)
        await seed(blog, **BLOG_SEED)
        yield {"empty": empty, "blog": blog}


async def _copy(server_dsn: str, template_dsn: str) -> str:
    name = f"fraiseql_docs_{secrets.token_hex(6)}"
    template = template_dsn.rsplit("/", 1)[1].split("?")[0]
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    return name


async def _drop(server_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _excerpt_lines(block: Block) -> list[str]:
    return [
        line.strip()
        for line in block.text.splitlines()
        if line.strip() and line.strip() != "..." and not line.strip().startswith("-- ")
    ]


def _check_excerpt(block: Block, path: Path) -> None:
    remaining = iter(line.strip() for line in path.read_text().splitlines())
    for line in _excerpt_lines(block):
        assert any(line == candidate for candidate in remaining), (
            f"{block.where}: {line!r} is not in {path.relative_to(ROOT)} (in this order)"
        )


async def _load_directory(server_dsn: str, directory: Path) -> str:
    name = f"fraiseql_docs_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    files = [file.read_text() for file in sorted(directory.rglob("*.sql"))]  # noqa: ASYNC240
    connection = await asyncpg.connect(with_database(server_dsn, name))
    try:
        async with connection.transaction():
            await connection.execute(CONTRACT_SQL)
            for text in files:
                await connection.execute(text)
    finally:
        await connection.close()
    return name


def _statement(block: Block) -> str:
    text = block.text
    if block.options.get("wrap") == "plpgsql":
        declare = block.options.get("declare")
        head = f"DECLARE {declare}; " if declare else ""
        text = f"DO $docs$ {head}BEGIN\n{text}\nEND $docs$;"
    elif block.options.get("wrap"):
        raise AssertionError(f"{block.where}: unknown wrap {block.options['wrap']!r}")
    return text


async def _run(connection: asyncpg.Connection, block: Block) -> None:
    text = _statement(block)
    if block.options.get("setup"):
        await connection.execute(block.options["setup"])
    if _PARAMETER.search(text) and block.options.get("wrap") is None:
        await connection.prepare(text)
    else:
        await connection.execute(text)


@pytest.mark.parametrize("block", SQL_BLOCKS, ids=[b.where for b in SQL_BLOCKS])
async def test_sql_block(block: Block, databases: dict[str, str], server_dsn: str) -> None:
    assert block.mode in (None, "sql"), f"{block.where}: unknown docs-test mode {block.mode!r}"
    unknown = set(block.options) - OPTIONS
    assert not unknown, f"{block.where}: unknown options {sorted(unknown)}"
    database = block.options.get("db", "empty")
    assert database in databases, f"{block.where}: unknown db {database!r}"
    if "excerpt" in block.options:
        path = ROOT / block.options["excerpt"]
        _check_excerpt(block, path)
        if "load" in block.options:
            directory = ROOT / block.options["load"]
            assert path.is_relative_to(directory), f"{block.where}: {path} is not under {directory}"
            await _drop(server_dsn, await _load_directory(server_dsn, directory))
        else:
            assert database == "blog" and path in SCHEMA_FILES, (
                f"{block.where}: an excerpt must come from a file the test database loads"
            )
        return
    copy = await _copy(server_dsn, databases[database]) if _TRANSACTION.search(block.text) else None
    dsn = with_database(server_dsn, copy) if copy else databases[database]
    connection = await asyncpg.connect(dsn)
    try:
        expected = block.options.get("expect")
        try:
            if copy:
                await _run(connection, block)
            else:
                transaction = connection.transaction()
                await transaction.start()
                try:
                    await _run(connection, block)
                finally:
                    await transaction.rollback()
        except asyncpg.PostgresError as error:
            if expected is None or error.sqlstate != expected:
                raise AssertionError(f"{block.where}: {error.sqlstate} {error}") from error
        else:
            assert expected is None, f"{block.where}: expected SQLSTATE {expected}, it ran"
    finally:
        await connection.close()
        if copy:
            await _drop(server_dsn, copy)
