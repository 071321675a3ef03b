"""Document errors, scalar options, naming, the CLI and the --watch loop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from examples.blog.schema import printable_schema
from graphql import build_schema
from typer.testing import CliRunner

from fraiseql.cli.codegen import TypeScriptJob
from fraiseql.cli.main import app
from fraiseql.codegen.typescript import (
    DEFAULT_SCALARS,
    DocumentError,
    ScalarOptionError,
    TypeScriptOptions,
    generate_typescript,
    parse_scalar_options,
)
from fraiseql.codegen.typescript.watch import WatchPlan
from fraiseql.types.scalars import BUILTIN_SCALARS

pytestmark = pytest.mark.filterwarnings("error")

BLOG = "examples.blog.schema:printable_schema"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_builtin_scalar_has_a_default() -> None:
    assert {s.name for s in BUILTIN_SCALARS} <= DEFAULT_SCALARS.keys()
    assert DEFAULT_SCALARS["Decimal"] == "string" and DEFAULT_SCALARS["JSON"] == "unknown"


def test_scalar_options() -> None:
    assert parse_scalar_options(["DateTime=Date", "JSON = Record<string, unknown>"]) == {
        "DateTime": "Date",
        "JSON": "Record<string, unknown>",
    }
    for bad in ("DateTime", "=Date", "Date Time=x", "DateTime="):
        with pytest.raises(ScalarOptionError):
            parse_scalar_options([bad])
    text = generate_typescript(
        printable_schema(), options=TypeScriptOptions(scalars={"DateTime": "Date"})
    )
    assert "  DateTime: Date;" in text and "  UUID: string;" in text


def test_invalid_documents_name_file_line_and_column(tmp_path: Path) -> None:
    _write(tmp_path / "a.graphql", "query A {\n  posts { nope }\n}\n")
    _write(tmp_path / "b.graphql", "query B {\n  posts {\n")
    _write(tmp_path / "c.graphql", "{ posts { id } }\n")
    with pytest.raises(DocumentError) as raised:
        generate_typescript(printable_schema(), [tmp_path])
    problems = raised.value.problems
    # Validation waits until every file parses (a fragment may live in the broken one).
    assert problems[0].startswith(f"{tmp_path / 'b.graphql'}:3:1: Syntax Error: Expected Name")
    assert (
        problems[1]
        == f"{tmp_path / 'c.graphql'}:1:1: name the operation: its name names the generated types"
    )
    _write(tmp_path / "b.graphql", "query B { posts { id } }\n")
    (tmp_path / "c.graphql").unlink()
    with pytest.raises(DocumentError) as raised:
        generate_typescript(printable_schema(), [tmp_path])
    assert raised.value.problems == [
        f"{tmp_path / 'a.graphql'}:2:11: Cannot query field 'nope' on type 'Post'."
    ]


def test_anonymous_operations_and_name_clashes(tmp_path: Path) -> None:
    _write(tmp_path / "c.graphql", "{ posts { id } }\n")
    with pytest.raises(DocumentError, match=r"c.graphql:1:1: name the operation"):
        generate_typescript(printable_schema(), [tmp_path / "c.graphql"])
    _write(
        tmp_path / "d.graphql", "query Post { posts { id } }\nquery PostQuery { posts { id } }\n"
    )
    with pytest.raises(DocumentError, match="same TypeScript name"):
        generate_typescript(printable_schema(), [tmp_path / "d.graphql"])
    _write(tmp_path / "e.graphql", "query A { a }\n")
    clashing = build_schema("type Query { a: Int, b: AQuery }\ntype AQuery { x: Int }")
    with pytest.raises(DocumentError, match="AQuery is also a schema type"):
        generate_typescript(clashing, [tmp_path / "e.graphql"])
    with pytest.raises(ValueError, match="clash with the generated module"):
        generate_typescript(build_schema("type Query { a: Scalars }\ntype Scalars { x: Int }"))
    with pytest.raises(DocumentError, match="no such file"):
        generate_typescript(printable_schema(), [tmp_path / "missing.graphql"])


def test_cli_writes_checks_and_fails_on_invalid_documents(tmp_path: Path) -> None:
    runner = CliRunner()
    docs = _write(tmp_path / "q.graphql", "query Few { posts(limit: 2) { id title } }\n")
    out = tmp_path / "gen" / "graphql.ts"
    args = [
        "codegen",
        "typescript",
        BLOG,
        "-d",
        str(docs),
        "-o",
        str(out),
        "--scalar",
        "UUID=`${string}-${string}`",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "export type FewQuery = {" in out.read_text(encoding="utf-8")
    assert "UUID: `${string}-${string}`;" in out.read_text(encoding="utf-8")
    assert runner.invoke(app, [*args, "--check"]).exit_code == 0
    out.write_text("stale", encoding="utf-8")
    assert runner.invoke(app, [*args, "--check"]).exit_code == 1
    _write(docs, "query Few { posts(limit: 2) { id titel } }\n")
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert (
        f"{docs}:1:34: Cannot query field 'titel' on type 'Post'. Did you mean 'title'?"
        in result.output
    )
    stdout = runner.invoke(app, ["codegen", "typescript", BLOG])
    assert stdout.exit_code == 0 and "export interface Post {" in stdout.output
    hooks = runner.invoke(app, ["codegen", "typescript", BLOG, "--react-query"])
    assert hooks.exit_code == 2 and "--fetcher" in hooks.output
    bad = runner.invoke(app, ["codegen", "typescript", BLOG, "--scalar", "nope"])
    assert bad.exit_code == 2


SCHEMA_MODULE = """
import fraiseql

@fraiseql.type
class Thing:
    name: str

@fraiseql.query
def things(info) -> list[Thing]:
    raise NotImplementedError

def schema():
    return fraiseql.Schema(types=[Thing], queries=[things])
"""


def test_watch_plan_decides_what_regenerates(tmp_path: Path) -> None:
    module = _write(tmp_path / "schema_mod.py", "")
    docs = tmp_path / "docs"
    docs.mkdir()
    plan = WatchPlan(frozenset({module.resolve()}), (str(docs),))
    assert plan.roots == [tmp_path.resolve()]
    decision = plan.decide(
        [
            (1, str(module)),
            (2, str(docs / "q.graphql")),
            (2, str(docs / "notes.txt")),
            (2, str(tmp_path / "other.py")),
        ]
    )
    assert decision.schema_files == (module.resolve(),)
    assert decision.document_files == ((docs / "q.graphql").resolve(),)
    assert not plan.decide([(2, str(tmp_path / "out.ts"))])
    glob_plan = WatchPlan(frozenset(), (str(docs / "**" / "*.graphql"),))
    assert glob_plan.roots == [docs.resolve()]
    assert glob_plan.decide([(2, str(docs / "a" / "x.graphql"))]).document_files


def test_watch_regenerates_on_document_and_schema_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    module = _write(tmp_path / "cg_watch_schema.py", SCHEMA_MODULE)
    docs = tmp_path / "docs"
    docs.mkdir()
    query = _write(docs / "q.graphql", "query Things { things { name } }\n")
    out = tmp_path / "out" / "graphql.ts"
    job = TypeScriptJob("cg_watch_schema:schema", [str(docs)], out, TypeScriptOptions())
    assert job.write()
    stop = threading.Event()
    thread = threading.Thread(target=job.watch, args=(stop,), daemon=True)
    thread.start()

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 10
        while text not in out.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, f"{text!r} never appeared"
            time.sleep(0.05)

    try:
        time.sleep(0.3)  # let watchfiles start
        _write(query, "query Things { things { name } }\nquery Names { things { name } }\n")
        wait_for("export type NamesQuery")
        _write(module, SCHEMA_MODULE.replace("    name: str\n", "    name: str\n    size: int\n"))
        wait_for("  size: number;")
        _write(query, "query Things { things { nope } }\n")  # reported, the loop goes on
        time.sleep(0.8)
        _write(query, "query Things { things { size } }\n")
        wait_for("export type ThingsQuery = {\n  things: Array<{\n    size: number;")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
