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
