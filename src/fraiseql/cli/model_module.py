"""The Python module of a generated model: the type, its inputs, its queries and mutations.

``fraiseql generate model Invoice number:str customer:Customer`` writes
``<package>/models/invoice.py``: ``@fraiseql.type(sql_source="tv_invoice") class Invoice``,
``CreateInvoiceInput``/``UpdateInvoiceInput``/``DeleteInvoiceInput``, the queries ``invoice``
(by ``id`` or ``identifier``) and ``invoices`` (filtered, ordered, paged), and the auto
mutations ``create_invoice``/``update_invoice``/``delete_invoice`` that call the generated
``fn_*`` functions. A reference is an object field in the type and, in the inputs, a text
taking the referenced row's id or identifier.
"""

from __future__ import annotations

from collections.abc import Mapping

from fraiseql.cli.model_spec import FieldSpec, ModelSpec
from fraiseql.cli.pylayout import bracketed, docstring, import_line

MARK = "Written by `fraiseql generate model`"
"""In the docstring of every generated model module (how ``--force`` knows its own)."""


def _article(word: str) -> str:
    return "An" if word[:1] in "AEIOU" else "A"


def _input_annotation(spec: FieldSpec, *, optional: bool, default: bool = True) -> str:
    base = "str" if spec.reference is not None else spec.annotation.removesuffix(" | None")
    if not optional:
        return base
    return f"{base} | None = None" if default else f"{base} | None"


def _class(decorator: str, name: str, doc: str, lines: list[str]) -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return f"{decorator}\nclass {name}:\n{docstring(doc, '    ')}\n\n{body}"


def _function(decorator: str, name: str, params: list[str], returns: str, doc: str) -> str:
    head = bracketed(f"async def {name}(", params, f") -> {returns}:")
    return f"{decorator}\n{head}\n{docstring(doc, '    ')}\n"


def _imports(spec: ModelSpec, references: Mapping[str, str]) -> str:
    scalars = {"UUID"} | {f.scalar.scalar_import for f in spec.fields if f.scalar}
    names = {name for name in scalars if name is not None}
    lines = [
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "import fraiseql",
        "from fraiseql import OrderBy, Where",
        import_line("fraiseql.types.scalars", names),
    ]
    by_module: dict[str, set[str]] = {}
    for item in spec.fields:
        if item.reference is not None:
            by_module.setdefault(references[item.reference], set()).add(item.reference)
    if by_module:
        lines.append("")
        for module in sorted(by_module):
            names = by_module[module]
            lines.append(import_line(module, names))
    return "\n".join(lines) + "\n"


def render_model_module(spec: ModelSpec, references: Mapping[str, str]) -> str:
    """The text of ``<package>/models/<entity>.py``.

    ``references`` maps each referenced type name to the module declaring it.
    """
    name, entity, plural = spec.name, spec.entity, spec.plural
    required = [f for f in spec.fields if not f.optional]
    optional = [f for f in spec.fields if f.optional]
    reference_note = "".join(
        f" ``{f.name}`` takes a {f.reference}'s id or identifier."
        for f in spec.fields
        if f.reference
    )
    head = docstring(
        f"{name}: a type of the API with its inputs, queries and mutations.\n\n"
        f"{MARK}. The SQL of {name} in ``db/schema/`` (``tb_{entity}``, ``tv_{entity}``, "
        f"``fn_create_{entity}``...) is generated from this module by ``make ddl``: change a "
        "field here, then run it, or ``fraiseql generate migration NAME`` for a database that "
        "has the previous schema."
    )
    parts = [
        _class(
            f'@fraiseql.type(sql_source="tv_{entity}")',
            name,
            f"{_article(name)} {name}, named by its Trinity identifiers ``id`` and ``identifier``.",
            ["id: UUID", "identifier: str", *(f"{f.name}: {f.annotation}" for f in spec.fields)],
        ),
        _class(
            "@fraiseql.input",
            f"Create{name}Input",
            f"What ``create{name}`` takes.{reference_note}",
            [
                "identifier: str",
                *(f"{f.name}: {_input_annotation(f, optional=False)}" for f in required),
                *(f"{f.name}: {_input_annotation(f, optional=True)}" for f in optional),
            ],
        ),
        _class(
            "@fraiseql.input",
            f"Update{name}Input",
            f"The {name} ``update{name}`` changes, by id: the fields given change, not the others.",
            [
                "id: UUID",
                # No defaults: a field left out is not sent, so it keeps its value.
                "identifier: str | None",
                *(
                    f"{f.name}: {_input_annotation(f, optional=True, default=False)}"
                    for f in spec.fields
                ),
            ],
        ),
        _class(
            "@fraiseql.input",
            f"Delete{name}Input",
            f"The {name} ``delete{name}`` deletes, by id.",
            ["id: UUID"],
        ),
        _function(
            "@fraiseql.query",
            entity,
            ["info: Any", "id: UUID | None = None", "identifier: str | None = None"],
            f"{name} | None",
            f"One {name}, by ``id`` or ``identifier``, answered from ``tv_{entity}``.",
        ),
        _function(
            "@fraiseql.query",
            plural,
            [
                "info: Any",
                f"where: Where[{name}] | None = None",
                f"order_by: list[OrderBy[{name}]] | None = None",
                "limit: int | None = None",
                "offset: int | None = None",
            ],
            f"list[{name}]",
            f"The {name} rows, filtered, ordered and paged.",
        ),
    ]
    for verb in ("create", "update", "delete"):
        parts.append(
            _function(
                "@fraiseql.mutation",
                f"{verb}_{entity}",
                ["info: Any", f"input: {verb.capitalize()}{name}Input"],
                name,
                f"Calls ``fn_{verb}_{entity}(input jsonb)``, then reads the {name} back.",
            )
        )
    mutations = [f"{verb}_{entity}" for verb in ("create", "update", "delete")]
    lists = [
        bracketed("TYPES: list[type] = [", [name], "]", hug=False),
        bracketed("QUERIES: list[Any] = [", [entity, plural], "]", hug=False),
        bracketed("MUTATIONS: list[Any] = [", mutations, "]", hug=False),
    ]
    parts.append("\n".join(lists) + "\n")
    return f"{head}\n\n{_imports(spec, references)}\n\n" + "\n\n".join(parts)
