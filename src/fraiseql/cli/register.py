"""Register generated models with a project: ``<package>/models/__init__.py`` and ``schema.py``.

``models/__init__.py`` imports each generated module and joins their ``TYPES``, ``QUERIES``
and ``MUTATIONS``; it is rewritten from the modules it already imports plus the new one.
``schema.py`` (as ``fraiseql init`` writes it: module-level ``TYPES``, ``QUERIES`` and
``MUTATIONS`` lists, then ``schema = fraiseql.Schema(...)``) gets, once, ``from <package>
import models`` and the three lists extended with the models' before the schema is built.
The edits are made on the text, at places found with :mod:`ast`, so the rest stays as written.
"""

from __future__ import annotations

import ast
from pathlib import Path

from fraiseql.cli.pylayout import bracketed, docstring, import_line

__all__ = ["RegisterError", "models_init", "register_in_schema"]

LISTS = ("TYPES", "QUERIES", "MUTATIONS")
_ANNOTATIONS = {"TYPES": "list[type]", "QUERIES": "list[Any]", "MUTATIONS": "list[Any]"}


class RegisterError(Exception):
    """A ``schema.py`` or ``models/__init__.py`` this command cannot extend; says what to add."""


def _imported(text: str, package: str) -> list[str]:
    """The modules ``from <package> import a, b`` names in a subpackage's ``__init__.py``."""
    found: list[str] = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.ImportFrom) and node.module == package:
            found += [alias.name for alias in node.names]
    return found


def models_init(current: str | None, package: str, module: str) -> str:
    """The text of ``models/__init__.py`` importing the modules it did and ``module``."""
    return subpackage_init(current, f"{package}.models", module, LISTS, "model")


def subpackage_init(
    current: str | None, subpackage: str, module: str, kinds: tuple[str, ...], what: str
) -> str:
    """The ``__init__.py`` of ``subpackage`` joining the ``kinds`` lists of its modules."""
    modules = set(_imported(current, subpackage) if current else []) | {module}
    names = sorted(modules)
    lists = [
        bracketed(
            f"{name}: {_ANNOTATIONS[name]} = [", [f"*{m}.{name}" for m in names], "]", hug=False
        )
        for name in kinds
    ]
    joined = ", ".join(kind.lower() for kind in kinds)
    typing = "from typing import Any\n\n" if any(k != "TYPES" for k in kinds) else ""
    return (
        docstring(
            f"The {what}s `fraiseql generate {what}` wrote, one module each; schema.py adds "
            f"their {joined} to the schema.\n\nThis file lists them: "
            f"`fraiseql generate {what}` rewrites it."
        )
        + f"\n\nfrom __future__ import annotations\n\n{typing}"
        + import_line(subpackage, set(names))
        + "\n\n"
        + "\n".join(lists)
        + "\n"
    )


def _assigned(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign):
        target = node.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


def register_in_schema(
    text: str,
    package: str,
    path: Path,
    subpackage: str = "models",
    kinds: tuple[str, ...] = LISTS,
) -> str | None:
    """``schema.py``'s text with ``subpackage`` registered; ``None`` when it already is."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise RegisterError(f"{path} does not parse: {error}") from None
    body = tree.body
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module == package:  # noqa: SIM102
            if any(alias.name == subpackage for alias in node.names):
                return None
    schema_at = next((i for i, n in enumerate(body) if _assigned(n) == "schema"), None)
    missing = [name for name in kinds if not any(_assigned(n) == name for n in body)]
    if schema_at is None or schema_at == 0 or missing:
        what = f"the lists {', '.join(missing)}" if missing else "schema = fraiseql.Schema(...)"
        raise RegisterError(
            f"cannot register the model in {path}: it has no module-level {what}. Add "
            f"`from {package} import {subpackage}` and pass "
            + ", ".join(f"{subpackage}.{kind}" for kind in kinds)
            + " to the schema yourself"
        )
    lines = text.splitlines(keepends=True)
    before_schema = body[schema_at - 1].end_lineno
    assert before_schema is not None
    extend = "".join(f"{name} += {subpackage}.{name}\n" for name in kinds)
    lines.insert(before_schema, extend)
    imports = [n for n in body[:schema_at] if isinstance(n, ast.Import | ast.ImportFrom)]
    if not imports:
        raise RegisterError(f"cannot register the model in {path}: it imports nothing")
    own = [
        n
        for n in imports
        if isinstance(n, ast.ImportFrom)
        and (n.module == package or (n.module or "").startswith(f"{package}."))
    ]
    statement = f"from {package} import {subpackage}\n"
    sibling = next((n for n in own if n.module == package), None)
    if sibling is not None:  # from pkg import models: join it, names sorted
        names = sorted({alias.name for alias in sibling.names} | {subpackage})
        start, end = sibling.lineno - 1, sibling.end_lineno
        assert end is not None
        lines[start:end] = [import_line(package, set(names)) + "\n"]
    elif own:  # sorted first among the package's own imports, as isort puts it
        lines.insert(own[0].lineno - 1, statement)
    else:
        end = imports[-1].end_lineno
        assert end is not None
        lines.insert(end, f"\n{statement}")
    return "".join(lines)
