"""``fraiseql generate resolver NAME``: a custom query resolver module and its test.

In a project made by ``fraiseql init`` it writes ``<package>/resolvers/<name>.py``: a
``@fraiseql.query`` function **with a body** (a custom resolver, see
``docs/guides/custom-resolvers.md``) that checks its argument (a ``FraiseQLError`` the client
sees), runs its own SQL on the request's connection and transaction
(``info.repository.session.use()``) and returns the result; it is listed in
``<package>/resolvers/__init__.py`` and added to the schema's queries by ``schema.py`` (once).
``tests/test_<name>.py`` calls it through GraphQL against a real PostgreSQL. No SQL is
generated: a resolver has no read model.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Annotated

import typer

from fraiseql.cli.generate_model import _Writes, add_subpackage, load_project_schema
from fraiseql.cli.model_spec import ModelSpecError
from fraiseql.cli.project import Project, ProjectError, find_project
from fraiseql.cli.pylayout import docstring
from fraiseql.cli.register import RegisterError, register_in_schema, subpackage_init
from fraiseql.schema.naming import to_camel_case

MARK = "Written by `fraiseql generate resolver`"
_NAME = re.compile(r"[a-z](?:[a-z0-9]|_(?=[a-z0-9]))*\Z")
_MAX_NAME = 40


def check_resolver_name(name: str) -> None:
    """``name`` as a resolver's (a root field's) Python name, or :class:`ModelSpecError`."""
    if not _NAME.match(name) or len(name) > _MAX_NAME:
        raise ModelSpecError(
            f"invalid resolver name {name!r}: use snake_case (such as invoice_total), a "
            f"lower-case letter then lower-case letters, digits and single underscores, at most "
            f"{_MAX_NAME} characters"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in ("info", "schema"):
        raise ModelSpecError(f"invalid resolver name {name!r}: a reserved word; choose another")


def render_resolver(name: str) -> str:
    """The text of ``<package>/resolvers/<name>.py``."""
    field = to_camel_case(name)
    return (
        docstring(
            f"The custom query ``{field}``: a resolver with a body, run by FraiseQL's executor."
            f"\n\n{MARK}. It gets the same ``info``, request transaction and error handling as "
            "the auto queries: raise ``FraiseQLError`` for an error the client should see "
            "(any other exception is masked), and use ``info.repository`` to read the read "
            "models or, as here, its session's connection for SQL of your own."
        )
        + "\n\nfrom __future__ import annotations\n\nfrom typing import Any\n\n"
        "import fraiseql\nfrom fraiseql import FraiseQLError, Info\n\n\n"
        "@fraiseql.query\n"
        f"async def {name}(info: Info, text: str) -> str:\n"
        + docstring("``text`` in capitals, as PostgreSQL's ``upper()`` writes it.", "    ")
        + "\n    if not text.strip():\n"
        '        raise FraiseQLError("text must not be blank", field="text")\n'
        "    async with info.repository.session.use() as connection:\n"
        '        answer: str = await connection.fetchval("SELECT upper($1::text)", text)\n'
        "    return answer\n\n\n"
        f"QUERIES: list[Any] = [{name}]\n"
    )


def render_resolver_test(name: str) -> str:
    """The text of ``tests/test_<name>.py``."""
    field = to_camel_case(name)
    return (
        docstring(
            f"The custom query ``{field}`` through the API, against a real PostgreSQL.\n\n"
            f"{MARK} with the resolver; change it with the resolver."
        )
        + "\n\nfrom __future__ import annotations\n\n"
        "from collections.abc import Awaitable, Callable\nfrom typing import Any\n\n"
        "GraphQL = Callable[..., Awaitable[dict[str, Any]]]\n"
        '"""The ``graphql`` fixture of ``conftest.py``: ``await graphql(query, variables)``."""\n\n'
        f'QUERY = "query ($text: String!) {{ {field}(text: $text) }}"\n\n\n'
        f"async def test_{name}_answers_from_the_database(graphql: GraphQL) -> None:\n"
        '    response = await graphql(QUERY, {"text": "Hello, world"})\n'
        f'    assert response == {{"data": {{"{field}": "HELLO, WORLD"}}}}\n\n\n'
        f"async def test_{name}_refuses_a_blank_text(graphql: GraphQL) -> None:\n"
        '    response = await graphql(QUERY, {"text": "  "})\n'
        '    assert response["data"] is None\n'
        '    (error,) = response["errors"]\n'
        '    assert error["message"] == "text must not be blank"\n'
        '    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "text"}\n'
    )


def generate_resolver(project: Project, name: str, *, force: bool = False) -> list[Path]:
    """Write resolver ``name`` and its test into ``project``; the files written."""
    check_resolver_name(name)
    schema = load_project_schema(project)
    field = to_camel_case(name)
    module = project.package_dir / "resolvers" / f"{name}.py"
    own = f"{project.package}.resolvers.{name}"
    taken = schema.model.queries.get(field)
    if taken is not None and (not force or taken.definition.function.__module__ != own):
        where = taken.definition.function.__module__
        hint = "pass --force to write it again" if where == own else "choose another name"
        raise ModelSpecError(f"the query {field} exists already ({where}): {hint}")
    if module.exists() and (not force or MARK not in module.read_text(encoding="utf-8")):
        raise ModelSpecError(
            f"{module} exists already; --force replaces it only if this command wrote it"
        )
    writes = _Writes()
    init = module.parent / "__init__.py"
    schema_py = project.package_dir / "schema.py"
    try:
        writes.write(module, render_resolver(name))
        current = init.read_text(encoding="utf-8") if init.exists() else None
        writes.write(
            init,
            subpackage_init(
                current, f"{project.package}.resolvers", name, ("QUERIES",), "resolver"
            ),
        )
        text = schema_py.read_text(encoding="utf-8")
        registered = register_in_schema(text, project.package, schema_py, "resolvers", ("QUERIES",))
        if registered is not None:
            writes.write(schema_py, registered)
        add_subpackage(project, "resolvers", writes)
        writes.write(project.root / "tests" / f"test_{name}.py", render_resolver_test(name))
        load_project_schema_fresh(project)
    except BaseException:
        writes.undo()
        raise
    return list(writes.before)


def load_project_schema_fresh(project: Project) -> None:
    """Check the project's schema still builds with the new module (a fresh interpreter)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "fraiseql", "schema", project.schema_target]
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=project.root, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise ProjectError(f"the schema no longer builds:\n{result.stderr.strip()[-2000:]}")


def resolver_command(
    name: Annotated[
        str, typer.Argument(help="The resolver's name, in snake_case (invoice_total).")
    ],
    directory: Annotated[Path, typer.Option("--dir", help="The project's directory.")] = Path(),
    package: Annotated[
        str | None, typer.Option(help="The project's package (default: from pyproject.toml).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write again a resolver this command wrote before.")
    ] = False,
) -> None:
    """Write a custom query resolver NAME (a @fraiseql.query with a body) and its test."""
    try:
        project = find_project(directory, package)
        written = generate_resolver(project, name, force=force)
    except (ModelSpecError, RegisterError, ProjectError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(f"wrote {path.relative_to(project.root)}")
    typer.echo("Next: make test (the new test runs against a real PostgreSQL)")
