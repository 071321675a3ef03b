"""``fraiseql generate model NAME field:type ...``: a new type with its SQL and its test.

In a project made by ``fraiseql init`` it writes ``<package>/models/<entity>.py`` (the
``@fraiseql.type``, its inputs, queries and mutations: :mod:`fraiseql.cli.model_module`),
lists it in ``<package>/models/__init__.py`` (added to the schema by ``schema.py``, once:
:mod:`fraiseql.cli.register`) and ``tests/test_<entity>.py`` (create, read, update and delete
through GraphQL: :mod:`fraiseql.cli.model_test`), then runs ``fraiseql generate ddl`` on the
project, so ``db/schema/`` gets ``tb_<entity>``, ``tv_<entity>``, ``v_tv_<entity>``,
``fn_sync_tv_<entity>`` and the ``fn_*`` write functions from the one DDL generator.

Nothing is written when the name, a field or a type is refused (exit 2); when the DDL
generator refuses the result, the files are put back as they were.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from fraiseql.cli.model_module import MARK, render_model_module
from fraiseql.cli.model_spec import ModelSpec, ModelSpecError, parse_model
from fraiseql.cli.model_test import render_model_test
from fraiseql.cli.project import Project, ProjectError, find_project, generate_project_ddl
from fraiseql.cli.register import RegisterError, models_init, register_in_schema
from fraiseql.cli.target import load_schema
from fraiseql.codegen.entities import read_entities
from fraiseql.codegen.model import DDLDefinitionError, EntityGraph
from fraiseql.schema.naming import to_camel_case
from fraiseql.schema.schema import Schema

_FIELDS_HELP = (
    "The fields, each name:type; ? makes one optional (paid:bool?). Types: str, int, float, "
    "bool, decimal, date, datetime, time, uuid, json, email, or a type with a read model "
    "(customer:Customer)."
)
_DIR_HELP = "The project's directory (default: the current one)."


class ModelExistsError(Exception):
    """The name, its module, its read model or its root fields are taken."""


def load_project_schema(project: Project) -> Schema:
    """The project's schema, imported from its directory."""
    if str(project.root) not in sys.path:
        sys.path.insert(0, str(project.root))
    return load_schema(project.schema_target)


def _entities(schema: Schema) -> tuple[dict[str, str], dict[str, str]]:
    """Types with a ``tv_*`` read model: their module and their entity, by type name."""
    modules, entities = {}, {}
    for model in schema.model.types.values():
        source = model.definition.sql_source
        if model.definition.kind == "object" and source and source.startswith("tv_"):
            modules[model.name] = model.cls.__module__
            entities[model.name] = source.removeprefix("tv_")
    return modules, entities


def _check_free(spec: ModelSpec, schema: Schema, project: Project, *, force: bool) -> None:
    own_module = f"{project.package}.models.{spec.entity}"
    model = schema.model
    existing = model.types.get(spec.name)
    if existing is not None:
        if existing.cls.__module__ != own_module:
            raise ModelExistsError(
                f"{spec.name} exists already, in {existing.cls.__module__}; --force only "
                "replaces a model that 'fraiseql generate model' wrote"
            )
        if not force:
            raise ModelExistsError(
                f"{spec.name} exists already ({own_module}): pass --force to write it again"
            )
    for other in model.types.values():
        if other.definition.sql_source == f"tv_{spec.entity}" and other.name != spec.name:
            raise ModelExistsError(
                f"tv_{spec.entity} is already the read model of {other.name}: choose another name"
            )
    roots = {to_camel_case(spec.entity), to_camel_case(spec.plural)}
    mutations = {to_camel_case(f"{verb}_{spec.entity}") for verb in ("create", "update", "delete")}
    for taken, names in ((model.queries, roots), (model.mutations, mutations)):
        for name in sorted(names & set(taken)):
            if taken[name].definition.function.__module__ != own_module:
                raise ModelExistsError(
                    f"the root field {name} of {spec.name} is taken (by "
                    f"{taken[name].definition.function.__module__}): choose another name"
                )
    module = project.package_dir / "models" / f"{spec.entity}.py"
    if (
        module.exists()
        and existing is None
        and (not force or MARK not in module.read_text(encoding="utf-8"))
    ):
        raise ModelExistsError(
            f"{module} exists already; --force replaces it only if this command wrote it"
        )


class _Writes:
    """Files written by this command, and how to put them back."""

    def __init__(self) -> None:
        self.before: dict[Path, str | None] = {}

    def write(self, path: Path, text: str) -> None:
        if path not in self.before:
            self.before[path] = path.read_text(encoding="utf-8") if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def undo(self) -> None:
        for path, text in self.before.items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text, encoding="utf-8")


def add_subpackage(project: Project, subpackage: str, writes: _Writes) -> None:
    """Ship ``<package>.<subpackage>`` in the project's wheel too (``packages = [...]``)."""
    path = project.root / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    name = f'"{project.package}.{subpackage}"'
    listed = re.compile(r"^(packages = \[[^\]\n]*)\]", re.MULTILINE)
    found = listed.search(text)
    if found is not None and name not in found.group(0):
        writes.write(path, listed.sub(lambda m: f"{m.group(1)}, {name}]", text, count=1))


def generate_model(
    project: Project,
    name: str,
    fields: list[str],
    *,
    force: bool = False,
    test: bool = True,
) -> list[Path]:
    """Write model ``name`` into ``project`` and generate its DDL; the files written.

    Raises :class:`ModelSpecError`, :class:`ModelExistsError`, :class:`RegisterError` or
    :class:`ProjectError`; in every case the project is left as it was.
    """
    schema = load_project_schema(project)
    modules, entities = _entities(schema)
    spec = parse_model(name, fields, set(modules))
    _check_free(spec, schema, project, force=force)
    graph: EntityGraph | None = None
    if any(item.reference for item in spec.fields):
        try:
            graph = read_entities(schema.model)
        except DDLDefinitionError as error:
            raise ProjectError(f"the project's schema cannot be turned into DDL: {error}") from None
    module_text = render_model_module(spec, modules)
    test_text = render_model_test(spec, graph, entities) if test else None

    writes = _Writes()
    models = project.package_dir / "models"
    init = models / "__init__.py"
    schema_py = project.package_dir / "schema.py"
    try:
        writes.write(models / f"{spec.entity}.py", module_text)
        current = init.read_text(encoding="utf-8") if init.exists() else None
        writes.write(init, models_init(current, project.package, spec.entity))
        registered = register_in_schema(
            schema_py.read_text(encoding="utf-8"), project.package, schema_py
        )
        if registered is not None:
            writes.write(schema_py, registered)
        add_subpackage(project, "models", writes)
        if test_text is not None:
            writes.write(project.root / "tests" / f"test_{spec.entity}.py", test_text)
        generate_project_ddl(project)
    except BaseException:
        writes.undo()
        raise
    return list(writes.before)


def model_command(
    name: Annotated[str, typer.Argument(help="The type's name, in PascalCase (Invoice).")],
    fields: Annotated[list[str] | None, typer.Argument(help=_FIELDS_HELP)] = None,
    directory: Annotated[Path, typer.Option("--dir", help=_DIR_HELP)] = Path(),
    package: Annotated[
        str | None, typer.Option(help="The project's package (default: from pyproject.toml).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write again a model this command wrote before.")
    ] = False,
    test: Annotated[
        bool, typer.Option("--test/--no-test", help="Write tests/test_<entity>.py.")
    ] = True,
) -> None:
    """Write a new type NAME: its module, its SQL in db/schema (via generate ddl) and a test."""
    try:
        project = find_project(directory, package)
        written = generate_model(project, name, fields or [], force=force, test=test)
    except (ModelSpecError, ModelExistsError, RegisterError, ProjectError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(f"wrote {path.relative_to(project.root)}")
    typer.echo(f"wrote db/schema/ (fraiseql generate ddl {project.schema_target})")
    typer.echo("Next: make test (the new test runs against a real PostgreSQL)")
