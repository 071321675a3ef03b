"""The test module of a generated model: create, read, update and delete through GraphQL.

``tests/test_<entity>.py`` uses the project's ``graphql`` and ``database_url`` fixtures (a
database of its own with ``db/schema`` loaded). The rows a reference needs (a ``Customer`` for
``customer:Customer``) are made first by the referenced type's generated ``fn_create_*``
function, with sample values for its required columns, read from the DDL generator's own
model of the tables (:func:`fraiseql.codegen.entities.read_entities`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fraiseql.cli.model_spec import FieldSpec, ModelSpec, ModelSpecError, plural
from fraiseql.cli.pylayout import bracketed, docstring, exploded, literal
from fraiseql.codegen.model import Column, EntityGraph
from fraiseql.schema.graphql_types import payload_entity_field
from fraiseql.schema.naming import to_camel_case

_SQL_SAMPLES: dict[str, object] = {
    "text": "first",
    "integer": 1,
    "double precision": 1.5,
    "boolean": True,
    "numeric": "1.00",
    "date": "2024-03-01",
    "timestamptz": "2024-03-01T10:00:00+00:00",
    "time": "10:30:00",
    "uuid": "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "jsonb": {},
    "inet": "127.0.0.1",
    "cidr": "10.0.0.0/8",
    "ltree": "sample.path",
}
"""A valid value for a required column of each type, for the rows a reference needs."""


_MUTATE = (
    "\n\nasync def _mutate(graphql: GraphQL, document: str, field: str, data: Any) -> Any:\n"
    '    """Run a mutation with ``data`` as its input; its payload."""\n'
    '    response = await graphql(document, {"input": data})\n'
    '    return response["data"][field]\n'
)


class Code(str):
    """Python source that :func:`literal` writes as it is (a variable)."""

    __slots__ = ()


def _literal(value: object, indent: str) -> str:
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, dict) and value:
        items = [f"{literal(k)}: {_literal(v, indent + '    ')}" for k, v in value.items()]
        return "{\n" + "".join(f"{indent}    {item},\n" for item in items) + indent + "}"
    return literal(value, indent)


@dataclass(frozen=True, slots=True)
class _Row:
    """A row the test makes through a generated function before the API is called."""

    variable: str
    function: str
    data: dict[str, object]


def _column_sample(column: Column, where: str) -> object:
    if column.enum_values:
        return [column.enum_values[0]] if column.kind == "array" else column.enum_values[0]
    if column.kind == "array":
        return []
    if column.sql_type in _SQL_SAMPLES:
        return _SQL_SAMPLES[column.sql_type]
    raise ModelSpecError(
        f"the generated test needs a {where} row, and has no sample value for its required "
        f"column {column.name} ({column.sql_type}); make that field optional or reference "
        "another type"
    )


def _rows(graph: EntityGraph, entity: str, rows: list[_Row]) -> str:
    """Add the rows ``entity`` needs, then its own; return its variable."""
    variable = f"{entity}_id"
    if any(row.variable == variable for row in rows):
        return variable
    target = graph.entities[entity]
    data: dict[str, object] = {}
    if target.has_identifier:
        data["identifier"] = f"{entity.replace('_', '-')}-1"
    for key in target.foreign_keys:
        if key.field is not None and not key.nullable:
            data[key.field.python_name] = Code(_rows(graph, key.target, rows))
    for column in target.columns:
        if column.required:
            data[column.name] = _column_sample(column, target.type_model.name)
    rows.append(_Row(variable, f"fn_create_{entity}", data))
    return variable


def _value(spec: FieldSpec, index: int, references: dict[str, str]) -> object:
    if spec.reference is not None:
        return Code(references[spec.name])
    assert spec.scalar is not None
    return spec.scalar.samples[index]


def _output(spec: FieldSpec, value: object) -> object:
    if spec.reference is not None and value is not None:
        return {"id": Code(f'values["{to_camel_case(spec.name)}"]')}
    return value


def render_model_test(
    spec: ModelSpec, graph: EntityGraph | None, type_entities: dict[str, str]
) -> str:
    """The text of ``tests/test_<entity>.py`` for ``spec``.

    ``graph`` is the project's entities before this model (``None`` when it has none), and
    ``type_entities`` maps each referenced type name to its entity (``Customer``: ``customer``).
    """
    name, entity = spec.name, spec.entity
    camel, camel_plural = to_camel_case(entity), to_camel_case(plural(entity))
    payload = payload_entity_field(name)
    rows: list[_Row] = []
    references: dict[str, str] = {}
    for item in spec.fields:
        if item.reference is not None:
            assert graph is not None
            references[item.name] = _rows(graph, type_entities[item.reference], rows)
    selection = "".join(
        f"  {to_camel_case(f.name)}{' { id }' if f.reference else ''}\n" for f in spec.fields
    )
    fragment = f"fragment {name}Fields on {name} {{\n  id\n  identifier\n{selection}}}\n"

    def mutation(verb: str, returns: str) -> str:
        field = f"{verb}{name}"
        return (
            f'{verb.upper()} = (\n    """\nmutation ($input: {verb.capitalize()}{name}Input!) {{\n'
            f"  {field}(input: $input) {{\n    status\n    errors {{ field code }}\n"
            f'    {returns}\n  }}\n}}\n"""\n    + FRAGMENT\n)\n'
        )

    create_values: dict[str, object] = {"identifier": f"{entity.replace('_', '-')}-1"}
    create_values |= {f.name: _value(f, 0, references) for f in spec.fields}
    graphql_values = {to_camel_case(k): v for k, v in create_values.items()}
    expected: dict[str, object] = {"id": Code('item["id"]')}
    expected["identifier"] = create_values["identifier"]
    expected |= {to_camel_case(f.name): _output(f, create_values[f.name]) for f in spec.fields}
    changes: dict[str, object] = {}
    for item in spec.fields:
        if item.reference is None:
            changes[to_camel_case(item.name)] = _value(item, 1, references)
        elif item.optional:
            changes[to_camel_case(item.name)] = None
    required = next((f for f in spec.fields if not f.optional), None)

    setup = "".join(
        exploded(
            f"{row.variable} = await _create(",
            ["database_url", f'"{row.function}"', _literal(row.data, "        ")],
            ")",
            "    ",
        )
        + "\n"
        for row in rows
    )
    helpers = ""
    if rows:
        helpers = (
            "\n\n\nasync def _create(database_url: str, function: str, data: dict[str, Any])"
            " -> str:\n"
            + docstring(
                "A row made by its generated function: what the test needs, not what it tests.",
                "    ",
            )
            + "\n    connection = await asyncpg.connect(database_url)\n"
            "    try:\n"
            "        row = await connection.fetchrow(\n"
            '            f"SELECT status, id FROM {function}($1::jsonb)", json.dumps(data)\n'
            "        )\n"
            "    finally:\n"
            "        await connection.close()\n"
            '    assert row is not None and row["status"] == "success", row\n'
            '    return str(row["id"])\n'
        )
    values_function = (
        "\n"
        + bracketed("async def _values(", ["database_url: str"], ") -> dict[str, Any]:")
        + "\n"
        + docstring(f"The input of a new {name} (and the rows it references).", "    ")
        + "\n"
        + ("" if rows else "    del database_url  # nothing to make first\n")
        + setup
        + f"    return {_literal(graphql_values, '    ')}\n"
    )
    lines = [
        docstring(
            f"{name} through the API, against a real PostgreSQL: created, read, updated, deleted."
            "\n\nWritten by `fraiseql generate model` with the model; extend it as the model "
            "grows."
        ),
        "",
        "from __future__ import annotations",
        "",
        *(["import json"] if rows else []),
        "from collections.abc import Awaitable, Callable",
        "from typing import Any",
        "",
        *(["import asyncpg", ""] if rows else []),
        "GraphQL = Callable[..., Awaitable[dict[str, Any]]]",
        '"""The ``graphql`` fixture of ``conftest.py``: ``await graphql(query, variables)``."""',
        "",
        f'FRAGMENT = """\n{fragment}"""',
        "",
        mutation("create", f"{payload} {{ ...{name}Fields }}"),
        f'READ = (\n    """\nquery ($id: UUID!) {{\n  {camel}(id: $id) {{ ...{name}Fields }}\n'
        f'  {camel_plural} {{ id }}\n}}\n"""\n    + FRAGMENT\n)\n',
        mutation("update", f"{payload} {{ ...{name}Fields }}"),
        f'DELETE = """\nmutation ($input: Delete{name}Input!) {{\n'
        f'  delete{name}(input: $input) {{ status id }}\n}}\n"""',
    ]
    text = "\n".join(lines) + ("\n" + helpers if helpers else "\n")
    text += _MUTATE + values_function
    article = "an" if entity[:1] in "aeiou" else "a"
    fixtures = ["graphql: GraphQL", "database_url: str"]

    def test(title: str, body: list[str]) -> str:
        head = bracketed(f"async def test_{title}(", fixtures, ") -> None:")
        return "\n\n" + head + "\n" + "".join(f"    {line}\n" if line else "\n" for line in body)

    def mutate(variable: str, verb: str, value: str) -> str:
        arguments = ["graphql", verb.upper(), f'"{verb}{name}"', value]
        return bracketed(f"{variable} = await _mutate(", arguments, ")", "    ").lstrip()

    text += test(
        f"{article}_{entity}_is_created_read_updated_and_deleted",
        [
            "values = await _values(database_url)",
            mutate("created", "create", "values"),
            'assert created["status"] == "SUCCESS" and created["errors"] == [], created',
            f'item = created["{payload}"]',
            f"assert item == {_literal(expected, '    ')}",
            'read = await graphql(READ, {"id": item["id"]})',
            'assert "errors" not in read, read',
            f'assert read["data"]["{camel}"] == item',
            f'assert read["data"]["{camel_plural}"] == [{{"id": item["id"]}}]',
            "",
            f"changes = {_literal(changes, '    ')}",
            mutate("updated", "update", '{"id": item["id"], **changes}'),
            'assert updated["status"] == "SUCCESS", updated',
            f'assert updated["{payload}"] == item | changes',
            'read = await graphql(READ, {"id": item["id"]})',
            f'assert read["data"]["{camel}"] == item | changes',
            "",
            mutate("deleted", "delete", '{"id": item["id"]}'),
            'assert deleted == {"status": "SUCCESS", "id": item["id"]}',
            'read = await graphql(READ, {"id": item["id"]})',
            f'assert read["data"]["{camel}"] is None',
            f'assert read["data"]["{camel_plural}"] == []',
        ],
    )
    text += test(
        "an_identifier_is_taken_once",
        [
            "values = await _values(database_url)",
            mutate("first", "create", "values"),
            'assert first["status"] == "SUCCESS", first',
            mutate("again", "create", "values"),
            'assert again["status"] == "CONFLICT"',
            'assert again["errors"] == [{"field": "identifier", "code": "unique"}]',
        ],
    )
    if required is not None:
        field = to_camel_case(required.name)
        text += test(
            f"{required.name}_cannot_be_emptied",
            [
                "values = await _values(database_url)",
                mutate("created", "create", "values"),
                mutate(
                    "updated", "update", f'{{"id": created["{payload}"]["id"], "{field}": None}}'
                ),
                'assert updated["status"] == "VALIDATION_ERROR"',
                f'assert updated["errors"] == [{{"field": "{required.name}", "code": "required"}}]',
            ],
        )
    # Two blank lines before each top-level function, as ruff format puts them.
    return re.sub(r"\n+(?=(?:async )?def )", "\n\n\n", text)
