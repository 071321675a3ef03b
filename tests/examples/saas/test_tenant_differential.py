"""A generated tenant-differential test: every query and mutation, as tenant A and as tenant B.

The operations are not listed by hand: they are read from the app's GraphQL schema (its Query
and Mutation fields), their selections built from their return types (every field that needs
no argument, three levels deep) and their inputs from their input types. A new query or
mutation is covered without editing this file.

For each direction (acme's owner against globex's data, and globex's owner against acme's):

- queries: a list query must return no id of the other tenant, and ids of the caller's; with
  ``where: {id: {in: [other tenant's ids]}}`` it returns nothing; a lookup by each of the
  other tenant's ids and identifiers returns null, or the caller's own row when the caller
  has one with that identifier (identifiers are unique per tenant only);
- mutations: every reference field (named after an entity: ``project``, ``member``...) is set
  to the other tenant's id, then to an id nobody has, then to the other tenant's identifier,
  then to an identifier nobody has: the answers must be identical pairwise, i.e. another
  tenant's entity answers exactly like an unknown one. Mutations without references run as
  generated. After every call, the other tenant's rows in every ``tb_*`` and ``tv_*`` table
  are byte for byte what they were, and no response carries any of its ids.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from examples.saas.database import seed_uuid
from examples.saas.schema import printable_schema
from examples.saas.security import ENTITIES
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)

from .conftest import Client

SCHEMA = printable_schema()
GRAPHQL = SCHEMA.graphql_schema
assert GRAPHQL.query_type is not None and GRAPHQL.mutation_type is not None
QUERY_FIELDS = dict(GRAPHQL.query_type.fields)
MUTATION_FIELDS = dict(GRAPHQL.mutation_type.fields)

READ_MODELS = {
    name: model.definition.sql_source
    for name, model in SCHEMA.model.types.items()
    if model.definition.sql_source
}
"""GraphQL type name → its read model (``Project`` → ``tv_project``)."""
REFERENCE_FIELDS = {name[0].lower() + name[1:]: name for name in READ_MODELS}
"""Input fields naming an entity (``project``) → the entity's type (``Project``)."""

DIRECTIONS = [("acme", "globex"), ("globex", "acme")]
"""(the caller's organisation, the other one); the caller is each one's owner, alice."""

UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UNKNOWN_ID = str(uuid.UUID(int=0xDEAD))
UNKNOWN_IDENTIFIER = "no-such-thing-anywhere"

TABLES = (
    "tb_organisation",
    "tb_member",
    "tb_project",
    "tb_invoice",
    "tb_invoice_line",
    "tb_invitation",
    *(f"tv_{entity}" for entity in ENTITIES),
)


def test_the_schema_has_what_the_generated_tests_cover() -> None:
    # A sanity floor: the enumeration found the operations (it is not vacuously empty).
    assert len(QUERY_FIELDS) >= 10
    assert len(MUTATION_FIELDS) >= 12
    assert set(READ_MODELS.values()) == {f"tv_{entity}" for entity in ENTITIES}


# --- Documents built from the schema ---------------------------------------------------------


def selection(type_: Any, depth: int = 0) -> str:
    """Every field of ``type_`` that takes no required argument, ``depth`` levels deep."""
    named = get_named_type(type_)
    assert isinstance(named, GraphQLObjectType), named
    parts = []
    for name, field in named.fields.items():
        if any(is_non_null_type(arg.type) for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif depth < 3:
            parts.append(f"{name} {{ {selection(inner, depth + 1)} }}")
    return " ".join(parts)


def document(kind: str, name: str, field: GraphQLField, arguments: dict[str, Any]) -> str:
    """``query/mutation($a: T) { name(a: $a) { ...selection } }`` for the given arguments."""
    definitions = ", ".join(f"${arg}: {field.args[arg].type}" for arg in arguments)
    passed = ", ".join(f"{arg}: ${arg}" for arg in arguments)
    head = f"{kind}({definitions})" if definitions else kind
    call = f"{name}({passed})" if passed else name
    body = f" {{ {selection(field.type)} }}" if not is_leaf_type(get_named_type(field.type)) else ""
    return f"{head} {{ {call}{body} }}"


_COUNTER = itertools.count(1)


def generated_value(name: str, type_: Any) -> Any:
    """A valid-looking value for an input of ``type_`` (references: see ``with_references``)."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return [generated_value(name, type_.of_type)]
    if isinstance(type_, GraphQLInputObjectType):
        return {key: generated_value(key, field.type) for key, field in type_.fields.items()}
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    n = next(_COUNTER)
    values = {
        "String": f"diff-{n}",
        "EmailAddress": f"diff-{n}@example.org",
        "Decimal": "1.50",
        "Int": 1,
        "Float": 1.5,
        "Boolean": True,
        "Date": "2024-05-01",
        "DateTime": "2024-05-01T10:00:00+00:00",
        "UUID": str(uuid.UUID(int=n)),
    }
    return values[type_.name]


def reference_paths(
    value: Any, path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Where a generated input holds a reference: (path, the entity's type name)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in REFERENCE_FIELDS and isinstance(item, str):
                yield (*path, key), REFERENCE_FIELDS[key]
            else:
                yield from reference_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from reference_paths(item, (*path, index))


def with_references(value: Any, references: dict[tuple[Any, ...], str]) -> Any:
    """A copy of ``value`` with the reference at each path replaced."""
    if not references:
        return value
    if isinstance(value, dict):
        return {
            key: references.get((key,))
            if (key,) in references
            else with_references(item, {p[1:]: r for p, r in references.items() if p[0] == key})
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            with_references(item, {p[1:]: r for p, r in references.items() if p[0] == index})
            for index, item in enumerate(value)
        ]
    return value


# --- The data, as the superuser sees it ------------------------------------------------------


@dataclass
class Tenants:
    """Each seeded organisation's ids and identifiers, by GraphQL type."""

    rows: dict[str, dict[str, list[tuple[str, str]]]]  # organisation → type → (id, identifier)

    def ids(self, organisation: str, type_name: str | None = None) -> set[str]:
        """The ids of an organisation's entities (of one type, or of all)."""
        types = [type_name] if type_name else list(READ_MODELS)
        return {row[0] for t in types for row in self.rows[organisation].get(t, [])}

    def identifiers(self, organisation: str, type_name: str) -> set[str]:
        """The identifiers of an organisation's entities of one type."""
        return {row[1] for row in self.rows[organisation].get(type_name, [])}


async def tenants(dsn: str) -> Tenants:
    """Read every read model's rows, per organisation."""
    names = {str(seed_uuid("organisation", o)): o for o in ("acme", "globex", "initech")}
    rows: dict[str, dict[str, list[tuple[str, str]]]] = {o: {} for o in names.values()}
    connection = await asyncpg.connect(dsn)
    try:
        for type_name, source in READ_MODELS.items():
            for row in await connection.fetch(
                f"SELECT id::text, identifier, tenant_id::text FROM {source} ORDER BY identifier"
            ):
                rows[names[row["tenant_id"]]].setdefault(type_name, []).append(
                    (row["id"], row["identifier"])
                )
    finally:
        await connection.close()
    return Tenants(rows)


async def snapshot(dsn: str, organisation: str) -> dict[str, list[str]]:
    """Every row of ``organisation`` in every tb_* and tv_* table, as JSON text."""
    tenant = seed_uuid("organisation", organisation)
    connection = await asyncpg.connect(dsn)
    try:
        pk = await connection.fetchval(
            "SELECT pk_organisation FROM tb_organisation WHERE id = $1", tenant
        )
        result = {}
        for table in TABLES:
            if table == "tb_organisation":
                condition, value = "pk_organisation = $1", pk
            elif table.startswith("tb_"):
                condition, value = "fk_organisation = $1", pk
            else:
                condition, value = "tenant_id = $1", tenant
            result[table] = [
                row[0]
                for row in await connection.fetch(
                    f"SELECT to_jsonb(t)::text FROM {table} t WHERE {condition} ORDER BY 1", value
                )
            ]
        return result
    finally:
        await connection.close()


def ids_in(value: Any) -> set[str]:
    """Every UUID text anywhere in a response."""
    if isinstance(value, dict):
        return set().union(*(ids_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(ids_in(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) and UUID_TEXT.match(value) else set()


async def run(client: Client, caller: str, text: str, variables: dict[str, Any]) -> Any:
    response = await client.graphql(text, variables, caller=(caller, "alice"))
    assert response.status_code == 200, response.text
    return response.json()


# --- Queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caller", "other"), DIRECTIONS)
@pytest.mark.parametrize("name", sorted(QUERY_FIELDS))
async def test_query_never_returns_the_other_tenant(
    client: Client, saas_db: str, name: str, caller: str, other: str
) -> None:
    field = QUERY_FIELDS[name]
    data = await tenants(saas_db)
    foreign = data.ids(other)
    entity = get_named_type(field.type).name
    lookup = "id" in field.args and "identifier" in field.args
    if lookup:
        own_ids = data.ids(caller, entity)
        for other_id in sorted(data.ids(other, entity)):
            body = await run(
                client, caller, document("query", name, field, {"id": 0}), {"id": other_id}
            )
            assert body == {"data": {name: None}}
        for identifier in sorted(data.identifiers(other, entity)):
            body = await run(
                client, caller, document("query", name, field, {"identifier": 0}),
                {"identifier": identifier},
            )  # fmt: skip
            found = body["data"][name]
            if identifier in data.identifiers(caller, entity):
                assert found is not None and found["id"] in own_ids  # the caller's own row
            else:
                assert found is None
            assert not ids_in(body) & foreign
        # Positive control: the caller's own rows are found.
        for own_id in sorted(own_ids):
            body = await run(
                client, caller, document("query", name, field, {"id": 0}), {"id": own_id}
            )
            assert body["data"][name]["id"] == own_id
        return
    body = await run(client, caller, document("query", name, field, {}), {})
    assert "errors" not in body, body
    returned = ids_in(body)
    assert not returned & foreign
    assert returned & data.ids(caller)  # positive control: it did return the caller's rows
    if "where" in field.args:
        where = {"id": {"in": sorted(data.ids(other, entity))}}
        body = await run(
            client, caller, document("query", name, field, {"where": 0}), {"where": where}
        )
        assert body == {"data": {name: []}}


# --- Mutations -------------------------------------------------------------------------------


@pytest.mark.parametrize(("caller", "other"), DIRECTIONS)
@pytest.mark.parametrize("name", sorted(MUTATION_FIELDS))
async def test_mutation_never_touches_the_other_tenant(
    client: Client, saas_db: str, name: str, caller: str, other: str
) -> None:
    field = MUTATION_FIELDS[name]
    data = await tenants(saas_db)
    foreign = data.ids(other)
    before = await snapshot(saas_db, other)
    arguments = {arg: generated_value(arg, spec.type) for arg, spec in field.args.items()}
    text = document("mutation", name, field, dict.fromkeys(arguments, 0))
    paths = dict(reference_paths(arguments))

    async def attempt(pick: Any) -> Any:
        variables = with_references(arguments, {path: pick(t) for path, t in paths.items()})
        body = await run(client, caller, text, variables)
        assert not ids_in(body) & foreign, body
        assert await snapshot(saas_db, other) == before
        return body

    if not paths:
        await attempt(lambda type_name: "")
        return
    other_id = await attempt(lambda t: sorted(data.ids(other, t))[0])
    unknown_id = await attempt(lambda t: UNKNOWN_ID)
    assert other_id == unknown_id
    # An identifier the caller's organisation does not have, so that only the other one does.
    other_only = {
        t: sorted(data.identifiers(other, t) - data.identifiers(caller, t)) for t in paths.values()
    }
    assert all(other_only.values()), f"the seed needs identifiers of {other} only: {other_only}"
    other_identifier = await attempt(lambda t: other_only[t][0])
    unknown_identifier = await attempt(lambda t: UNKNOWN_IDENTIFIER)
    assert other_identifier == unknown_identifier
