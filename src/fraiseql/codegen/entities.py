"""The schema model read as entities: tables, columns, foreign keys and relations.

Every object type whose ``sql_source`` is a ``tv_<entity>`` read model is one entity: a write
table ``tb_<entity>`` with Trinity columns, a read model, its defining view and its functions.
Each declared field becomes a column (scalars, enums, lists of them, embedded value objects),
a foreign key ``fk_<target>`` (an object of another entity) or the other side of a relation
(a list of another entity, read through that entity's foreign key). Everything is decided here,
once, so that the SQL writers only print.
"""

from __future__ import annotations

import enum

from fraiseql.codegen.model import (
    MAX_NAME,
    NAME_PATTERN,
    SCALAR_TYPES,
    SQL_TYPE_PATTERN,
    Column,
    ColumnKind,
    DDLDefinitionError,
    Entity,
    EntityGraph,
    Entry,
    ForeignKey,
    Relation,
    TenantOptions,
    literal,
)
from fraiseql.schema.model import FieldModel, SchemaModel, TypeModel
from fraiseql.schema.refs import TypeRef
from fraiseql.types.definitions import EnumDefinition, TypeDefinition
from fraiseql.types.scalars import ScalarDefinition

__all__ = ["DDLDefinitionError", "TenantOptions", "read_entities"]


def _where(model: TypeModel, item: FieldModel) -> str:
    return f"{model.cls.__qualname__}.{item.python_name}"


def _entity_name(model: TypeModel) -> str | None:
    source = model.definition.sql_source
    if source is None or model.definition.kind != "object":
        return None
    if not source.startswith("tv_") or "." in source or not NAME_PATTERN.match(source):
        raise DDLDefinitionError(
            f"{model.cls.__qualname__}: sql_source {source!r} is not a read model the generator "
            "writes: it needs a lower-case, unqualified tv_<entity> name"
        )
    definition = model.definition
    if definition.data_column != "data" or definition.id_column != "id":
        raise DDLDefinitionError(
            f"{model.cls.__qualname__}: the generator writes read models with the columns "
            "id and data; drop data_column=/id_column= or write this read model by hand"
        )
    return source[3:]


def _scalar_type(definition: ScalarDefinition, where: str) -> str:
    sql_type = SCALAR_TYPES.get(definition.name, definition.sql_type)
    if not SQL_TYPE_PATTERN.match(sql_type):
        raise DDLDefinitionError(
            f"{where}: the scalar {definition.name} has sql_type {sql_type!r}, "
            "which is not a column type the generator can write"
        )
    return sql_type


def _enum_values(definition: EnumDefinition, where: str) -> tuple[str, ...]:
    values = []
    for member in definition.cls:
        if not isinstance(member.value, str):
            raise DDLDefinitionError(
                f"{where}: the enum {definition.name} has a non-string value {member.value!r}; "
                "the generator stores enum values as text"
            )
        values.append(member.value)
    return tuple(values)


def _default(item: FieldModel, kind: ColumnKind) -> str | None:
    """A column DEFAULT from a literal Python default (strings, numbers, booleans, enums)."""
    if not item.has_default or item.default is None or kind not in ("scalar", "enum"):
        return None
    value = item.default
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return literal(value)
    return None


class _Reader:
    def __init__(self, schema: SchemaModel, tenant: TenantOptions | None) -> None:
        self.schema = schema
        self.tenant = tenant
        self.by_type: dict[str, str] = {}
        self.entities: dict[str, Entity] = {}

    def read(self) -> EntityGraph:
        owners: dict[str, TypeModel] = {}
        for model in sorted(self.schema.types.values(), key=lambda m: m.name):
            name = _entity_name(model)
            if name is None:
                continue
            other = owners.get(name)
            if other is not None:
                raise DDLDefinitionError(
                    f"{other.cls.__qualname__} and {model.cls.__qualname__} both map to the "
                    f"table tb_{name} (sql_source tv_{name}); give each type its own read model"
                )
            owners[name] = model
            self.by_type[model.name] = name
        if not owners:
            raise DDLDefinitionError(
                "no type has a tv_<entity> sql_source: there is nothing to write"
            )
        tenant_entity = self._tenant_entity()
        for name in sorted(owners):
            self.entities[name] = self._entity(name, owners[name], tenant_entity)
        for entity in self.entities.values():
            self._relations(entity)
        return EntityGraph(self.entities, self._order(), self.tenant, tenant_entity)

    def _tenant_entity(self) -> str | None:
        if self.tenant is None:
            return None
        table = self.tenant.table
        name = table[3:] if table.startswith("tb_") else ""
        if name not in self.by_type.values():
            raise DDLDefinitionError(
                f"the tenant table {table!r} is not the tb_<entity> of a declared type; declare "
                f"the tenant (@fraiseql.type(sql_source='tv_{name or 'organisation'}')) and "
                "pass it to the schema"
            )
        return name

    def _entity(self, name: str, model: TypeModel, tenant_entity: str | None) -> Entity:
        entity = Entity(name, model, is_tenant=name == tenant_entity)
        entity.has_identifier = model.definition.identifier_column is not None
        for item in model.fields.values():
            if item.resolver is not None:
                continue  # computed in Python, not stored
            self._field(entity, model, item)
        if tenant_entity is not None and not entity.is_tenant:
            key = entity.foreign_key_to(tenant_entity)
            if key is None:
                entity.foreign_keys.insert(
                    0, ForeignKey(f"fk_{tenant_entity}", tenant_entity, False, is_tenant=True)
                )
            else:
                key.is_tenant, key.nullable = True, False
        self._check_names(entity)
        return entity

    def _field(self, entity: Entity, model: TypeModel, item: FieldModel) -> None:
        where = _where(model, item)
        name, ref = item.python_name, item.type_ref
        if name in ("id", "identifier"):
            expected = "UUID" if name == "id" else "String"
            named = ref.named
            if ref.is_list or not isinstance(named, ScalarDefinition) or named.name != expected:
                raise DDLDefinitionError(
                    f"{where}: {name} is a Trinity column ({expected}); declare it as "
                    f"{'UUID' if name == 'id' else 'str'} or rename the field"
                )
            if name == "identifier" and not entity.has_identifier:
                raise DDLDefinitionError(f"{where}: the type has identifier_column=None")
            entity.document.append(Entry(name, name))  # type: ignore[arg-type]
            return
        if name.startswith(("pk_", "fk_")):
            raise DDLDefinitionError(
                f"{where}: pk_* and fk_* are the Trinity key columns of the write table; "
                "rename the field"
            )
        named = ref.innermost()
        if isinstance(named, TypeDefinition) and named.name in self.by_type:
            target = self.by_type[named.name]
            if ref.is_list:
                if ref.item is not None and ref.item.is_list:
                    raise DDLDefinitionError(f"{where}: nested lists cannot be stored")
                entity.relations.append(Relation(item, target, ""))
                entity.document.append(Entry(name, "list", relation=entity.relations[-1]))
                return
            if entity.foreign_key_to(target) is not None:
                other = entity.foreign_key_to(target)
                assert other is not None and other.field is not None
                raise DDLDefinitionError(
                    f"{where}: {model.cls.__qualname__}.{other.field.python_name} already "
                    f"references {named.name} as fk_{target}; the generator writes one foreign "
                    "key per referenced entity"
                )
            key = ForeignKey(f"fk_{target}", target, ref.nullable, field=item)
            entity.foreign_keys.append(key)
            entity.document.append(Entry(name, "object", foreign_key=key))
            return
        column = self._column(item, where)
        entity.columns.append(column)
        entity.document.append(Entry(name, "column", column=column))

    def _column(self, item: FieldModel, where: str) -> Column:
        ref: TypeRef = item.type_ref
        named = ref.innermost()
        if ref.is_list and ref.item is not None and ref.item.is_list:
            raise DDLDefinitionError(f"{where}: nested lists cannot be stored; use JSON")
        if isinstance(named, TypeDefinition):
            if named.kind == "input":
                raise DDLDefinitionError(f"{where}: {named.name} is an input type")
            # A value object without a read model of its own is embedded as JSON.
            return Column(item.python_name, "jsonb", ref.nullable, "json", item)
        if isinstance(named, EnumDefinition):
            values = _enum_values(named, where)
            if ref.is_list:
                return Column(
                    item.python_name, "text[]", ref.nullable, "array", item, "text", values
                )
            column = Column(item.python_name, "text", ref.nullable, "enum", item, "", values)
            column.default = _default(item, "enum")
            return column
        if isinstance(named, ScalarDefinition):
            sql_type = _scalar_type(named, where)
            if sql_type == "jsonb":
                return Column(item.python_name, "jsonb", ref.nullable, "json", item)
            if ref.is_list:
                return Column(
                    item.python_name, f"{sql_type}[]", ref.nullable, "array", item, sql_type
                )
            column = Column(item.python_name, sql_type, ref.nullable, "scalar", item)
            column.default = _default(item, "scalar")
            return column
        what = type(named).__name__.removesuffix("Ref").removesuffix("Definition").lower()
        raise DDLDefinitionError(
            f"{where}: a {what} field cannot be stored in a table; give it a resolver or "
            "change its type"
        )

    def _relations(self, entity: Entity) -> None:
        for relation in entity.relations:
            child = self.entities[relation.child]
            key = child.foreign_key_to(entity.name)
            if key is None:
                raise DDLDefinitionError(
                    f"{_where(entity.type_model, relation.field)}: "
                    f"{child.type_model.name} has no field of type {entity.type_model.name} "
                    f"to join on; add one (it becomes tb_{child.name}.fk_{entity.name})"
                )
            relation.child_fk = key.column

    def _check_names(self, entity: Entity) -> None:
        where = entity.type_model.cls.__qualname__
        taken = {"id", "identifier", entity.pk, *(fk.column for fk in entity.foreign_keys)}
        names = [entity.table, entity.read_model, entity.view, f"fn_sync_tv_{entity.name}"]
        for column in entity.columns:
            if column.name in taken:
                raise DDLDefinitionError(
                    f"{where}.{column.name}: the column {column.name} of {entity.table} is taken "
                    "by a key column"
                )
            taken.add(column.name)
            names.append(f"{entity.table}_{column.name}_check")
        for name in names:
            if len(name) > MAX_NAME:
                raise DDLDefinitionError(
                    f"{where}: the name {name!r} is longer than PostgreSQL's {MAX_NAME} characters"
                )

    def _order(self) -> list[str]:
        """Entities sorted so that each table comes after the tables it references."""
        done: list[str] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                cycle = " -> ".join([*visiting[visiting.index(name) :], name])
                raise DDLDefinitionError(
                    f"the foreign keys form a cycle ({cycle}); the generator cannot order the "
                    "tables: make one side a list, or write that relation by hand"
                )
            visiting.append(name)
            for key in self.entities[name].foreign_keys:
                if key.target != name:
                    visit(key.target)
            visiting.pop()
            done.append(name)

        for name in sorted(self.entities):
            visit(name)
        return done


def read_entities(schema: SchemaModel, tenant: TenantOptions | None = None) -> EntityGraph:
    """The entities of ``schema``; :class:`DDLDefinitionError` names what cannot be written."""
    return _Reader(schema, tenant).read()
