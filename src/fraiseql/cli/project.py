"""A project laid out as ``fraiseql init`` makes it, found from its directory.

``pyproject.toml`` names the package (``[tool.setuptools] packages``), which holds
``schema.py`` (``schema``: the ``fraiseql.Schema`` without a database); the SQL is in
``db/schema/``, the tests in ``tests/``. :func:`generate_project_ddl` writes ``db/schema/``
with ``fraiseql generate ddl`` in a fresh interpreter, so the project's modules are imported
anew (after a command changed them) and nowhere else.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Project", "ProjectError", "find_project", "generate_project_ddl"]


class ProjectError(Exception):
    """Not a project this command understands, or its DDL could not be generated."""


@dataclass(frozen=True, slots=True)
class Project:
    """A project's directory and its package."""

    root: Path
    package: str

    @property
    def package_dir(self) -> Path:
        """The package's directory."""
        return self.root / self.package

    @property
    def schema_target(self) -> str:
        """The schema as ``module:attribute``, as ``fraiseql generate ddl`` takes it."""
        return f"{self.package}.schema:schema"

    @property
    def schema_dir(self) -> Path:
        """Where the SQL lives (``db/schema``)."""
        return self.root / "db" / "schema"


def _declared_package(root: Path) -> str | None:
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    packages = data.get("tool", {}).get("setuptools", {}).get("packages")
    if not isinstance(packages, list):
        return None
    top = [name for name in packages if isinstance(name, str) and "." not in name]
    return top[0] if len(top) == 1 else None


def find_project(root: Path, package: str | None = None) -> Project:
    """The project in ``root``; ``package`` overrides the one ``pyproject.toml`` names."""
    root = root.resolve()
    name = package or _declared_package(root)
    if name is None:
        raise ProjectError(
            f"{root} is not a project made by 'fraiseql init': its pyproject.toml names no "
            "single package ([tool.setuptools] packages); run this in the project's directory, "
            "or pass --package"
        )
    project = Project(root, name)
    if not (project.package_dir / "schema.py").is_file():
        raise ProjectError(
            f"{project.package_dir / 'schema.py'} is missing: the project declares its schema "
            "there (schema = fraiseql.Schema(...))"
        )
    return project


def generate_project_ddl(project: Project, *, check: bool = False) -> str:
    """Run ``fraiseql generate ddl`` on the project's schema into ``db/schema``; its output.

    Raises :class:`ProjectError` with the command's own message when it fails.
    """
    command = [sys.executable, "-m", "fraiseql", "generate", "ddl", project.schema_target]
    command += ["--out", "db/schema", *(["--check"] if check else [])]
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=project.root, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise ProjectError(
            f"'fraiseql generate ddl' failed in {project.root}:\n" + "\n".join(detail[-15:])
        )
    return result.stdout
