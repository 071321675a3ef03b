"""The generation cases the TypeScript tests share: golden files, compiled output, npm setup.

Each case is a schema, its documents and options; ``golden/<case>.ts`` is what it must
generate (``FRAISEQL_UPDATE_GOLDEN=1`` rewrites them). The compiled tests copy the output into
``js/src/generated/``, where the ``.ts`` files of ``js/src`` import it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from examples.blog.schema import printable_schema
from tests.codegen.typescript import kitchen

from fraiseql import Schema
from fraiseql.codegen.typescript import TypeScriptOptions, generate_typescript

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
DOCUMENTS = HERE / "documents"
JS = HERE / "js"
GENERATED = JS / "src" / "generated"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT = 180.0
NO_NODE = "no node/npm on PATH (Node 20+ compiles and runs the generated TypeScript)"

KITCHEN_SCALARS = {"Color": "`#${string}`", "JSON": "Record<string, unknown>"}


@dataclass(frozen=True)
class Case:
    """One generated module: the schema, the documents and the options."""

    name: str
    target: str
    documents: str
    options: TypeScriptOptions

    def schema(self) -> Schema:
        """The case's schema."""
        return printable_schema() if self.target.startswith("examples.") else kitchen.schema()

    def generate(self) -> str:
        """The module the case generates now (document paths relative to this directory)."""
        return generate_typescript(
            self.schema(), [f"{DOCUMENTS.relative_to(Path.cwd())}/{self.documents}"], self.options
        )


BLOG = "examples.blog.schema:printable_schema"
CASES = {
    case.name: case
    for case in (
        Case("blog", BLOG, "blog", TypeScriptOptions(source=BLOG)),
        Case(
            "blog_hooks",
            BLOG,
            "blog",
            TypeScriptOptions(source=BLOG, react_query=True, fetcher="../fetcher.js"),
        ),
        Case(
            "kitchen",
            "tests.codegen.typescript.kitchen:schema",
            "kitchen",
            TypeScriptOptions(
                source="tests.codegen.typescript.kitchen:schema", scalars=KITCHEN_SCALARS
            ),
        ),
    )
}


def write_generated() -> None:
    """Generate every case into ``js/src/generated``."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    for case in CASES.values():
        (GENERATED / f"{case.name}.ts").write_text(case.generate(), encoding="utf-8")


def _stale(modules: Path, lock: Path) -> bool:
    marker = modules / ".package-lock.json"  # written by npm at each install
    return not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime


def install_js() -> Path:
    """``js/`` with its ``node_modules`` installed from the lock file (skip when impossible)."""
    if NODE is None or NPM is None:
        pytest.skip(NO_NODE)
    modules, lock = JS / "node_modules", JS / "package-lock.json"
    if _stale(modules, lock):
        command = [NPM, "ci", "--no-audit", "--no-fund", "--prefix", str(JS)]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm ci did not finish within {INSTALL_TIMEOUT:.0f} s")
        except subprocess.CalledProcessError as failed:
            output = (failed.stdout + failed.stderr).decode(errors="replace")
            pytest.skip(f"npm ci failed (exit {failed.returncode}): {output[-800:]}")
    if not (modules / ".bin" / "tsc").exists():
        pytest.skip("npm ci did not install tsc")
    return JS
