"""``fraiseql schema``: prints the SDL of a schema named as ``module:attribute``."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from examples.blog.schema import printable_schema
from typer.testing import CliRunner

from fraiseql.cli.main import app
from fraiseql.cli.target import load_schema

runner = CliRunner()


def test_prints_the_sdl_of_a_schema_factory() -> None:
    result = runner.invoke(app, ["schema", "examples.blog.schema:printable_schema"])
    assert result.exit_code == 0, result.output
    assert result.output == printable_schema().print_schema() + "\n"
    assert "type Query" in result.output


def test_writes_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = runner.invoke(
        app, ["schema", "examples.blog.schema:printable_schema", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "type Post" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon", "expected 'module:attribute'"),
        ("no_such_module_xyz:app", "cannot import"),
        ("examples.blog.app:missing", "has no attribute"),
        ("examples.blog.schema:TYPES", "is not a fraiseql.Schema"),
        ("examples.blog.app:build", "calling 'examples.blog.app:build' failed: no database URL"),
    ],
)
def test_bad_references_are_clear_usage_errors(reference: str, message: str) -> None:
    with pytest.raises(typer.BadParameter, match=message):
        load_schema(reference)
    assert runner.invoke(app, ["schema", reference]).exit_code == 2


def test_check_passes_against_itself_and_fails_on_a_removed_field(tmp_path: Path) -> None:
    saved = tmp_path / "saved.graphql"
    sdl = printable_schema().print_schema()
    saved.write_text(sdl, encoding="utf-8")
    ok = runner.invoke(
        app, ["schema", "examples.blog.schema:printable_schema", "--check", str(saved)]
    )
    assert ok.exit_code == 0, ok.output
    assert "no breaking change" in ok.output
    # The saved schema had a field the current one lacks: a client of it would break.
    saved.write_text(
        sdl.replace("type Post {", "type Post {\n  legacyScore: Int!", 1), encoding="utf-8"
    )
    broken = runner.invoke(
        app, ["schema", "examples.blog.schema:printable_schema", "--check", str(saved)]
    )
    assert broken.exit_code == 1
    assert "breaking: field_removed: Field Post.legacyScore was removed." in broken.output
    # A value added to an enum of the current schema is only a warning.
    saved.write_text(sdl.replace("  ARCHIVED\n", "", 1), encoding="utf-8")
    warned = runner.invoke(
        app, ["schema", "examples.blog.schema:printable_schema", "--check", str(saved)]
    )
    assert warned.exit_code == 0 and "warning: value_added_to_enum" in warned.output


def test_check_refuses_a_file_that_is_not_a_schema(tmp_path: Path) -> None:
    saved = tmp_path / "saved.graphql"
    saved.write_text("type {", encoding="utf-8")
    result = runner.invoke(
        app, ["schema", "examples.blog.schema:printable_schema", "--check", str(saved)]
    )
    assert result.exit_code == 2 and "is not a GraphQL schema" in result.output
