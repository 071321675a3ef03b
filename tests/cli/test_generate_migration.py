"""``fraiseql generate migration``: a field added to a generated model, migrated, no drift.

A project from ``fraiseql init`` with a generated model, its database built by ``fraiseql
migrate build`` and holding rows; a field is added to the model; ``generate migration`` writes
the Confiture migration (and db/schema), ``fraiseql migrate up`` applies it, and ``fraiseql
drift`` finds every read model equal to its view. Dropping the field again is refused
without ``--allow-destructive``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import orjson
from tests.cli.test_generate import fraiseql
from tests.cli.test_init import REPO
from tests.conftest import temporary_database

from fraiseql.cli.init import create_project


def _ok(result: object) -> str:
    code, out, err = (getattr(result, n) for n in ("returncode", "stdout", "stderr"))
    assert code == 0, out + err
    return str(out)


async def test_a_new_field_migrates_and_the_read_models_follow(
    tmp_path: Path, server_dsn: str
) -> None:
    project = await asyncio.to_thread(create_project, "mig-shop", tmp_path, fraiseql_source=REPO)
    run = lambda *args: asyncio.to_thread(fraiseql, project, *args)  # noqa: E731
    _ok(await run("generate", "model", "Customer", "name:str"))
    module = project / "mig_shop" / "models" / "customer.py"
    async with temporary_database(server_dsn) as dsn:
        url = ("--database-url", dsn)
        _ok(await run("migrate", "build", *url))
        connection = await asyncpg.connect(dsn)
        try:
            for identifier in ("ann", "bob"):
                data = orjson.dumps({"identifier": identifier, "name": identifier.title()})
                row = await connection.fetchrow(
                    "SELECT status FROM fn_create_customer($1::jsonb)", data.decode()
                )
                assert row is not None and row["status"] == "success"

            # A new optional field, written by hand in the generated model.
            text = module.read_text()
            module.write_text(
                text.replace("    name: str\n", "    name: str\n    nickname: str | None\n", 1)
            )
            out = _ok(await run("generate", "migration", "add_nickname", *url))
            assert "add_nickname.up.sql" in out and "of db/schema written" in out
            (up,) = (project / "db" / "migrations").glob("*_add_nickname.up.sql")
            (down,) = (project / "db" / "migrations").glob("*_add_nickname.down.sql")
            assert "ADD COLUMN nickname TEXT" in up.read_text()
            assert up.read_text().rstrip().endswith("SELECT fn_sync_tv_customer();")
            assert "DROP COLUMN nickname" in down.read_text()
            _ok(await run("generate", "ddl", "mig_shop.schema:schema", "--check"))

            out = _ok(await run("migrate", "up", *url))
            assert "applied 1 migration" in out
            assert _ok(await run("drift", "mig_shop.schema:schema", *url)).splitlines() == [
                "tv_customer: no drift",
                "tv_note: no drift",
            ]
            documents = await connection.fetch("SELECT data FROM tv_customer ORDER BY identifier")
            assert [orjson.loads(r["data"])["nickname"] for r in documents] == [None, None]
            assert "in sync" in _ok(await run("migrate", "diff", *url))

            # Taking it out again drops a column: refused, then allowed explicitly.
            module.write_text(text)
            result = await run("generate", "migration", "drop_nickname", *url)
            assert result.returncode == 3, result.stdout + result.stderr
            assert "nickname" in result.stderr
            assert not list((project / "db" / "migrations").glob("*drop_nickname*"))
            args = ("generate", "migration", "drop_nickname", *url, "--allow-destructive")
            _ok(await run(*args))
            _ok(await run("migrate", "up", *url))
            assert "no drift" in _ok(await run("drift", "mig_shop.schema:schema", *url))
            columns = await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'tb_customer'"
            )
            assert "nickname" not in {r[0] for r in columns}
        finally:
            await connection.close()


def test_nothing_to_generate_is_an_error(tmp_path: Path) -> None:
    project = create_project("mig-none", tmp_path, fraiseql_source=REPO)
    result = fraiseql(project, "generate", "migration", "nothing")
    assert result.returncode == 2
    assert "no database: pass --database-url or set FRAISEQL_DATABASE_URL" in result.stderr
