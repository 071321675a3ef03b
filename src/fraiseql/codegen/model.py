"""The entities the DDL generator writes: names, columns, keys and relations, and quoting.

:mod:`fraiseql.codegen.entities` reads them from the schema model; the SQL writers print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from fraiseql.schema.model import FieldModel, TypeModel
from fraiseql.schema.refs import SchemaDefinitionError


class DDLDefinitionError(SchemaDefinitionError):
    """The declared types cannot be turned into DDL; the message names the type and field."""


@dataclass(frozen=True, slots=True)
class TenantOptions:
    """Multi-tenancy for the generated DDL, with row-level security.

    ``table`` is the write table of the tenant entity (a declared type: ``tb_organisation``
    for ``@fraiseql.type(sql_source="tv_organisation")``). Every other ``tb_*`` table gets a
    ``fk_<tenant>`` column (an object field of the tenant's type is that column), identifiers
    become unique per tenant, every ``tv_*`` table gets the ``column`` (the tenant's id), and
    forced policies compare rows with the request's ``setting``. ``role`` is granted what the
    generated functions need (``create_role`` also creates it, NOLOGIN, without BYPASSRLS).
    """

    table: str = "tb_organisation"
    setting: str = "app.tenant_id"
    role: str | None = "app"
    column: str = "tenant_id"
    create_role: bool = True


SCALAR_TYPES: dict[str, str] = {
    "UUID": "uuid",
    "String": "text",
    "ID": "text",
    "EmailAddress": "text",
    "Int": "integer",
    "Float": "double precision",
    "Boolean": "boolean",
    "DateTime": "timestamptz",
    "Date": "date",
    "Time": "time",
    "Decimal": "numeric",
    "JSON": "jsonb",
    "LTree": "ltree",
    "IPAddress": "inet",
    "CIDR": "cidr",
}
"""The column type of each built-in scalar; a custom scalar's column has its ``sql_type``."""

NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
SQL_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_ ]*(\([0-9, ]+\))?$")
_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast
    check collate collation column concurrently constraint create cross current_catalog
    current_date current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full grant
    group having ilike in initially inner intersect into is isnull join lateral leading left like
    limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric table
    tablesample then to trailing true union unique user using variadic verbose when where window
    with""".split()  # noqa: SIM905 - the list PostgreSQL prints, kept readable
)
MAX_NAME = 63


def ident(name: str) -> str:
    """An identifier as SQL: bare when it is a plain lower-case name, else double-quoted."""
    if NAME_PATTERN.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string constant from metadata (never a user value)."""
    return "'" + text.replace("'", "''") + "'"


ColumnKind = Literal["scalar", "enum", "json", "array"]


@dataclass(slots=True)
class Column:
    """A column of a write table that holds one field."""

    name: str
    sql_type: str
    nullable: bool
    kind: ColumnKind
    field: FieldModel
    element_type: str = ""
    enum_values: tuple[str, ...] = ()
    default: str | None = None

    @property
    def required(self) -> bool:
        """Whether a create must give it (non-null, without a default)."""
        return not self.nullable and self.default is None


@dataclass(slots=True)
class ForeignKey:
    """``fk_<target>``: a reference to another entity (``field`` None: the added tenant key)."""

    column: str
    target: str
    nullable: bool
    field: FieldModel | None = None
    is_tenant: bool = False


@dataclass(slots=True)
class Relation:
    """A list field of another entity: the rows of ``child`` whose ``child_fk`` is this row."""

    field: FieldModel
    child: str
    child_fk: str


@dataclass(slots=True)
class Entry:
    """One key of the read model's document, in declaration order."""

    key: str
    kind: Literal["id", "identifier", "column", "object", "list"]
    column: Column | None = None
    foreign_key: ForeignKey | None = None
    relation: Relation | None = None


@dataclass(slots=True)
class Entity:
    """One entity and the names around it."""

    name: str
    type_model: TypeModel
    columns: list[Column] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    document: list[Entry] = field(default_factory=list)
    has_identifier: bool = True
    is_tenant: bool = False

    @property
    def table(self) -> str:
        """The write table."""
        return f"tb_{self.name}"

    @property
    def read_model(self) -> str:
        """The read model (the type's ``sql_source``)."""
        return f"tv_{self.name}"

    @property
    def view(self) -> str:
        """The view defining the read model."""
        return f"v_tv_{self.name}"

    @property
    def pk(self) -> str:
        """The internal integer key."""
        return f"pk_{self.name}"

    @property
    def tenant_key(self) -> ForeignKey | None:
        """The foreign key to the tenant, when tenancy is on."""
        return next((fk for fk in self.foreign_keys if fk.is_tenant), None)

    def foreign_key_to(self, target: str) -> ForeignKey | None:
        """The foreign key referencing ``target``, if any."""
        return next((fk for fk in self.foreign_keys if fk.target == target), None)


@dataclass(slots=True)
class EntityGraph:
    """Every entity of a schema, by name, in the order their tables can be created."""

    entities: dict[str, Entity]
    order: list[str]
    tenant: TenantOptions | None
    tenant_entity: str | None

    def ordered(self) -> list[Entity]:
        """The entities, referenced tables before referencing ones."""
        return [self.entities[name] for name in self.order]

    def embedding(self, name: str) -> list[tuple[Entity, ForeignKey]]:
        """Entities whose documents embed ``name`` as an object, with the key they join on."""
        found = []
        for entity in self.ordered():
            for entry in entity.document:
                key = entry.foreign_key if entry.kind == "object" else None
                if key is not None and key.target == name:
                    found.append((entity, key))
        return found

    def listing(self, name: str) -> list[tuple[Entity, ForeignKey]]:
        """Entities whose documents list ``name``, with ``name``'s key to them."""
        child = self.entities[name]
        found = []
        for entity in self.ordered():
            for relation in entity.relations:
                if relation.child == name:
                    key = next(fk for fk in child.foreign_keys if fk.column == relation.child_fk)
                    found.append((entity, key))
        return found
