"""``fraiseql init``: a new project passes its own test command; bad names and places are refused."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from tests.conftest import temporary_database
from typer.testing import CliRunner

import fraiseql
from fraiseql.cli.init import InitError, create_project, fraiseql_requirement, package_name
from fraiseql.cli.main import app

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]

EXPECTED_FILES = {
    ".ci/run",
    ".gitignore",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "my_notes/__init__.py",
    "my_notes/app.py",
    "my_notes/schema.py",
    "my_notes/types.py",
    "db/schema/00_common/01_fraiseql_contract.sql",
    "db/schema/10_tables/01_tb_note.sql",
    "db/schema/10_tables/90_tb_note_checks.sql",
    "db/schema/20_read_models/01_tv_note.sql",
    "db/schema/30_views/01_v_tv_note.sql",
    "db/schema/40_functions/01_fn_sync_tv_note.sql",
    "db/schema/40_functions/02_fn_note.sql",
    "tests/conftest.py",
    "tests/test_notes.py",
}


def _init(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["init", *args])
    return result.exit_code, result.output


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would steer a nested pytest or make."""
    skipped = ("PYTEST_", "COV_CORE_", "COVERAGE_", "MAKE", "MFLAGS")
    env = {key: value for key, value in os.environ.items() if not key.startswith(skipped)}
    return env | extra


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made by ``fraiseql init my-notes`` on this checkout."""
    parent = tmp_path_factory.mktemp("init")
    code, output = _init("my-notes", "--dir", str(parent), "--fraiseql-source", str(REPO))
    assert code == 0, output
    assert "make demo" in output and "make test" in output
    return parent / "my-notes"


def test_the_project_has_its_files(project: Path) -> None:
    found = {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and ".venv" not in p.parts and "__pycache__" not in p.parts
    }
    assert found == EXPECTED_FILES
    assert os.access(project / ".ci" / "run", os.X_OK)
    assert (project / ".ci" / "run").read_text().rstrip().endswith("make test")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my-notes"
    assert pyproject["project"]["dependencies"] == [f"fraiseql[embedded] @ {REPO.as_uri()}"]
    readme = (project / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme and "{{" not in readme
    types = (project / "my_notes" / "types.py").read_text()
    assert '@fraiseql.type(sql_source="tv_note")' in types


async def test_its_test_command_passes_against_postgresql(project: Path, server_dsn: str) -> None:
    """``.ci/run`` → ``make test`` (the DDL check, then pytest), with this venv's tools."""
    if shutil.which("make") is None or not (BIN / "fraiseql").exists():
        pytest.skip("needs make and the fraiseql script beside this interpreter")
    # The venv `make test` would create: this one, already installed.
    stamp = project / ".venv" / ".installed-stamp"
    stamp.parent.mkdir(exist_ok=True)
    stamp.touch()

    async with temporary_database(server_dsn) as dsn:
        env = _clean_env(
            FRAISEQL_TEST_DATABASE_URL=dsn, MAKEFLAGS=f"BIN={BIN}", PYTHONDONTWRITEBYTECODE="1"
        )
        result = await asyncio.to_thread(
            subprocess.run,
            [str(project / ".ci" / "run")],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "db/schema is up to date" in output
    assert "3 passed" in output


def test_its_code_is_lint_clean(project: Path) -> None:
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_it_builds_as_a_wheel(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: the build leaves build/ and *.egg-info behind
    shutil.copytree(project, source, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    result = subprocess.run(
        [*PIP_WHEEL, "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("my_notes-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read("my_notes-0.1.0.dist-info/METADATA").decode()
    assert {f"my_notes/{name}.py" for name in ("__init__", "app", "schema", "types")} <= names
    assert not any(name.startswith(("tests/", "db/")) for name in names)
    assert f"Requires-Dist: fraiseql[embedded] @ {REPO.as_uri()}" in metadata


def test_a_release_dependency_by_default() -> None:
    assert fraiseql_requirement(None) == f"fraiseql[embedded]>={fraiseql.__version__}"


@pytest.mark.parametrize(
    ("name", "package"),
    [("my-notes", "my_notes"), ("Blog", "blog"), ("shop_2", "shop_2")],
)
def test_package_names(name: str, package: str) -> None:
    assert package_name(name) == package


@pytest.mark.parametrize(
    "name", ["9lives", "my notes", "x!", "a.b", "", "class", "json", "fraiseql", "tests"]
)
def test_an_invalid_name_is_refused(name: str, tmp_path: Path) -> None:
    code, output = _init(name, "--dir", str(tmp_path))
    assert code == 2, output
    assert "invalid project name" in output
    assert list(tmp_path.iterdir()) == []


def test_a_directory_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("a file")
    for name in ("taken", "file"):
        code, output = _init(name, "--dir", str(tmp_path))
        assert code == 2, output
        assert "already exists and is not empty" in output
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def test_an_empty_directory_is_filled(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    root = create_project("empty", tmp_path, generate=False)
    assert (root / "empty" / "types.py").is_file()
    with pytest.raises(InitError, match="not empty"):
        create_project("empty", tmp_path, generate=False)


def test_every_template_ships_in_the_wheel() -> None:
    """The package data of pyproject.toml names every template (``**/*.tmpl``)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["fraiseql"]
    assert "cli/templates/project/**/*.tmpl" in patterns
    templates = REPO / "src" / "fraiseql" / "cli" / "templates" / "project"
    files = [p for p in templates.rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".tmpl" for p in files)
    assert not any(p.name.startswith(".") for p in templates.rglob("*"))
