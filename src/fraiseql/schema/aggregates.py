"""Which fields of a read model each aggregate reads, decided once from the declared types.

- ``sum``/``avg``: numeric scalars (``Int``, ``Float``, ``Decimal`` and custom scalars of the
  ``number`` filter kind). A sum has the field's type; an average of an ``Int`` is a ``Float``.
- ``min``/``max``: orderable scalars (numbers, strings, ``ID``, ``DateTime``/``Date``/``Time``),
  of the field's own type.
- ``groupBy``: scalar and enum fields, and the scalar and enum fields of a nested object one
  level deep. A nested key is named ``<field>_<Nested>``: the parent field's GraphQL name, an
  underscore, then the nested field's GraphQL name with its first letter upper-cased
  (``author.id`` → ``author_Id``, ``author.createdAt`` → ``author_CreatedAt``).

Only stored fields count (no resolvers, no lists, no JSON values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fraiseql.schema.model import SchemaModel, TypeModel
from fraiseql.schema.refs import SchemaDefinitionError, TypeRef
from fraiseql.types.definitions import EnumDefinition, TypeDefinition
from fraiseql.types.scalars import FLOAT, ScalarDefinition

_ORDERABLE_KINDS = frozenset({"number", "string", "id", "temporal"})
_GROUPABLE_KINDS = frozenset({"number", "string", "id", "temporal", "boolean", "uuid"})


@dataclass(frozen=True, slots=True)
class AggregateField:
    """One field an aggregate reads: its GraphQL name, its path in the document and its type.

    ``key`` is the path's Python names joined with ``.``: the key of the value in the
    aggregate's result object.
    """

    graphql_name: str
    path: tuple[str, ...]
    named: ScalarDefinition | EnumDefinition

    @property
    def key(self) -> str:
        """The key of this field's value in the result object (``author.id``)."""
        return ".".join(self.path)

    @property
    def sql_type(self) -> str:
        """The SQL type the document's text is read as (``text`` for enums)."""
        return "text" if isinstance(self.named, EnumDefinition) else self.named.sql_type

    @property
    def kind(self) -> str:
        """The filter kind of the field (``enum`` for enums)."""
        return "enum" if isinstance(self.named, EnumDefinition) else self.named.filter_kind

    @property
    def is_int(self) -> bool:
        """Whether the field is an ``Int`` (its average is a ``Float``)."""
        return isinstance(self.named, ScalarDefinition) and self.named.name == "Int"

    def sum_type(self) -> ScalarDefinition:
        """The scalar of the field's sum: the field's own."""
        assert isinstance(self.named, ScalarDefinition)
        return self.named

    def avg_type(self) -> ScalarDefinition:
        """The scalar of the field's average: ``Float`` for an ``Int``, else the field's own."""
        return FLOAT if self.is_int else self.sum_type()

    def ref(self) -> TypeRef:
        """A nullable reference to the field's own type."""
        return TypeRef(nullable=True, named=self.named)


@dataclass(slots=True)
class AggregateSpec:
    """The fields of one type each aggregate may read, by GraphQL name."""

    numeric: dict[str, AggregateField] = field(default_factory=dict)
    orderable: dict[str, AggregateField] = field(default_factory=dict)
    groupable: dict[str, AggregateField] = field(default_factory=dict)


def _leaf(ref: TypeRef) -> ScalarDefinition | EnumDefinition | None:
    named = ref.named
    if ref.is_list or not isinstance(named, ScalarDefinition | EnumDefinition):
        return None
    return named


def nested_key_name(parent: str, child: str) -> str:
    """The group key name of a nested field: ``author`` and ``id`` → ``author_Id``."""
    return f"{parent}_{child[:1].upper()}{child[1:]}"


def aggregate_spec(schema: SchemaModel, model: TypeModel) -> AggregateSpec:
    """The aggregate fields of ``model`` (see the module docstring for which)."""
    spec = AggregateSpec()
    for top in model.fields.values():
        if top.resolver is not None:
            continue
        named = _leaf(top.type_ref)
        if named is not None:
            _add(spec, AggregateField(top.graphql_name, (top.python_name,), named), top=True)
            continue
        nested = top.type_ref.named
        if top.type_ref.is_list or not isinstance(nested, TypeDefinition):
            continue
        nested_model = schema.types.get(nested.name)
        if nested_model is None or nested.kind == "input":
            continue
        for child in nested_model.fields.values():
            child_named = _leaf(child.type_ref) if child.resolver is None else None
            if child_named is None:
                continue
            name = nested_key_name(top.graphql_name, child.graphql_name)
            path = (top.python_name, child.python_name)
            _add(spec, AggregateField(name, path, child_named), top=False)
    return spec


def _add(spec: AggregateSpec, item: AggregateField, *, top: bool) -> None:
    kind = item.kind
    if top and kind == "number":
        spec.numeric[item.graphql_name] = item
    if top and kind in _ORDERABLE_KINDS:
        spec.orderable[item.graphql_name] = item
    if kind in _GROUPABLE_KINDS or kind == "enum":
        if item.graphql_name in spec.groupable:
            raise SchemaDefinitionError(
                f"two group keys are named {item.graphql_name!r}: rename one of the fields"
            )
        spec.groupable[item.graphql_name] = item
