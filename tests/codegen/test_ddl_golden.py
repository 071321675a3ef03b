"""The generated DDL against golden files, its determinism, writing, checking and the CLI.

Regenerate the golden files with ``FRAISEQL_UPDATE_GOLDEN=1 pytest tests/codegen``; any other
difference fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.codegen import sample
from typer.testing import CliRunner

from fraiseql import Schema
from fraiseql.cli.main import app
from fraiseql.codegen import GENERATED_MARK, TenantOptions, check_ddl, generate_ddl, write_ddl
from fraiseql.db.contract import CONTRACT_SQL

GOLDEN = Path(__file__).parent / "golden"
TENANT = TenantOptions(table="tb_organisation", setting="app.tenant_id", role="app")
INDEXES = {"Post": ["status", "author.id", "category.path", "view_count"]}
CASES = {
    "tenant": {"tenant": TENANT, "indexes": INDEXES},
    "single": {},
}
CONTRACT_FILE = "00_common/02_fraiseql_contract.sql"


def _compare(files: dict[str, str], directory: Path) -> None:
    stored = {p.relative_to(directory).as_posix() for p in directory.rglob("*.sql")}
    if os.environ.get("FRAISEQL_UPDATE_GOLDEN") == "1":
        shutil.rmtree(directory, ignore_errors=True)
        for path, text in files.items():
            if path.endswith("_fraiseql_contract.sql"):
                continue
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_text(text, encoding="utf-8")
        return
    generated = {p for p in files if not p.endswith("_fraiseql_contract.sql")}
    assert generated == stored
    for path in sorted(generated):
        assert files[path] == (directory / path).read_text(encoding="utf-8"), path


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_output_matches_the_golden_files(case: str) -> None:
    files = generate_ddl(sample.schema, **CASES[case])  # type: ignore[arg-type]
    _compare(files, GOLDEN / case)


def test_the_contract_is_copied_into_00_common() -> None:
    files = generate_ddl(sample.schema, tenant=TENANT)
    assert files[CONTRACT_FILE].endswith(CONTRACT_SQL.lstrip("\n"))
    assert CONTRACT_FILE not in generate_ddl(sample.schema, contract=False)


def test_the_layout_follows_confiture_folders_in_build_order() -> None:
    files = generate_ddl(sample.schema, tenant=TENANT)
    folders = sorted({path.split("/")[0] for path in files})
    assert folders == [
        "00_common",
        "10_tables",
        "20_read_models",
        "30_views",
        "40_functions",
        "50_security",
    ]
    tables = [path for path in sorted(files) if path.startswith("10_tables/")]
    # Referenced tables first: the tenant, then what the posts reference, then the posts.
    assert tables == [
        "10_tables/01_tb_organisation.sql",
        "10_tables/02_tb_category.sql",
        "10_tables/03_tb_user.sql",
        "10_tables/04_tb_post.sql",
    ]
    assert all(text.startswith(GENERATED_MARK) for text in files.values())
    assert "50_security" not in {path.split("/")[0] for path in generate_ddl(sample.schema)}


def test_two_runs_and_two_schemas_give_the_same_bytes() -> None:
    first = generate_ddl(sample.schema, tenant=TENANT, indexes=INDEXES)
    again = generate_ddl(sample.schema, tenant=TENANT, indexes=INDEXES)
    rebuilt = Schema(types=sample.TYPES, queries=sample.QUERIES, mutations=sample.MUTATIONS)
    assert first == again == generate_ddl(rebuilt.model, tenant=TENANT, indexes=INDEXES)
    assert list(first) == sorted(first)


def test_the_datetime_ordering_index_uses_the_immutable_helper() -> None:
    files = generate_ddl(sample.schema)
    text = files["20_read_models/04_tv_post.sql"]
    assert "ON tv_post ((fraiseql_timestamptz((data->>'created_at'))) DESC NULLS LAST, id);" in text
    without = generate_ddl(sample.schema, auto_indexes=False)["20_read_models/04_tv_post.sql"]
    assert "created_at" not in without


def test_write_then_check_then_drift_on_disk(tmp_path: Path) -> None:
    out = tmp_path / "db" / "schema"
    written = write_ddl(out, sample.schema, tenant=TENANT)
    assert len(written) == len(generate_ddl(sample.schema, tenant=TENANT))
    assert check_ddl(out, sample.schema, tenant=TENANT) == []
    assert write_ddl(out, sample.schema, tenant=TENANT) == []  # nothing changed
    mine = out / "10_tables" / "99_my_own.sql"
    mine.write_text("-- hand written\n", encoding="utf-8")
    (out / "10_tables" / "04_tb_post.sql").write_text("-- edited\n", encoding="utf-8")
    (out / "30_views" / "01_v_tv_organisation.sql").unlink()
    assert check_ddl(out, sample.schema, tenant=TENANT) == [
        "differs 10_tables/04_tb_post.sql",
        "missing 30_views/01_v_tv_organisation.sql",
    ]
    # Without tenancy the security folder is no longer written: its files are stale.
    stale = check_ddl(out, sample.schema)
    assert "stale 50_security/02_policies.sql" in stale
    removed = write_ddl(out, sample.schema)
    assert out / "50_security" / "02_policies.sql" in removed
    assert not (out / "50_security" / "02_policies.sql").exists()
    assert mine.read_text(encoding="utf-8") == "-- hand written\n"  # never touched
    assert check_ddl(out, sample.schema) == []


def test_the_cli_writes_and_checks(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "schema"
    target = "tests.codegen.sample:schema"
    base = ["generate", "ddl", target, "--out", str(out), "--tenant", "tb_organisation"]
    result = runner.invoke(app, [*base, "--check"])
    assert result.exit_code == 1, result.output
    assert "missing 10_tables/01_tb_organisation.sql" in result.output
    result = runner.invoke(app, [*base, "--index", "Post.status"])
    assert result.exit_code == 0, result.output
    assert "files changed under" in result.output
    assert "tv_post_status_idx" in (out / "20_read_models" / "04_tv_post.sql").read_text()
    result = runner.invoke(app, [*base, "--index", "Post.status", "--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    result = runner.invoke(app, [*base, "--check"])
    assert result.exit_code == 1
    assert "differs 20_read_models/04_tv_post.sql" in result.output
    result = runner.invoke(app, [*base, "--index", "Post.nothing"])
    assert result.exit_code == 2
    assert "Post has no field 'nothing'" in result.output
    result = runner.invoke(app, [*base, "--index", "status"])
    assert result.exit_code == 2
    assert "Type.field" in result.output
    result = runner.invoke(app, [*base, "--index", "Post.status", "--upserts"])
    assert result.exit_code == 0, result.output
    assert list((out / "40_functions").glob("*_fn_upsert_post.sql"))
    result = runner.invoke(app, [*base, "--index", "Post.status", "--upserts", "--check"])
    assert result.exit_code == 0, result.output
