"""The generated GraphQL types of ``Aggregate[T]``: ``<T>Aggregate``, its groups and inputs.

```graphql
type PostAggregate {
  count: Int!
  sum: PostSumFields          avg: PostAvgFields          # numeric fields
  min: PostMinFields          max: PostMaxFields          # orderable fields
  groupBy(by: [PostGroupField!]!, having: PostHaving, orderBy: [PostGroupOrderBy!],
          limit: Int): [PostGroup!]!
}
type PostGroup { keys: PostGroupKeys!  count: Int!  sum avg min max }
```

Which fields each part lists is decided by :mod:`fraiseql.schema.aggregates`. Fields read
their values from the result object the aggregate statement builds (keys: ``count``, ``sum``,
... and the fields' Python names, see ``sql/aggregate.py``); each ``groupBy`` selection reads
its own entry, ``group_by:<response key>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
)

from fraiseql.execution.shapes import KEYED_BY_RESPONSE_KEY
from fraiseql.schema.aggregates import AggregateField, aggregate_spec
from fraiseql.schema.model import TypeModel
from fraiseql.schema.refs import TypeRef
from fraiseql.types.scalars import INT, ScalarDefinition

if TYPE_CHECKING:
    from fraiseql.schema.graphql_types import GraphQLTypeFactory

AGGREGATES = ("sum", "avg", "min", "max")
GROUP_BY_SOURCE = "group_by"
"""The Python name of the ``groupBy`` field; each selection reads ``group_by:<response key>``."""
GROUP_LIST = "fraiseql_group_list"
"""Field extension: a list whose size is its ``limit`` or the root field's maximum page size."""


def _reads(python_name: str) -> dict[str, Any]:
    def resolve(source: Any, _info: Any, **_args: Any) -> Any:
        return source.get(python_name) if isinstance(source, dict) else None

    return {"resolve": resolve, "extensions": {"python_name": python_name}}


def _named(factory: GraphQLTypeFactory, name: str, make: Callable[[], Any]) -> Any:
    existing = factory.named.get(name)
    if existing is None:
        existing = make()
        factory.named[name] = existing
    return existing


def _scalar_output(factory: GraphQLTypeFactory, scalar: ScalarDefinition) -> GraphQLOutputType:
    return factory.scalar(scalar)


def _fields_type(
    factory: GraphQLTypeFactory,
    name: str,
    fields: dict[str, AggregateField],
    output: Callable[[AggregateField], GraphQLOutputType],
    description: str,
) -> GraphQLObjectType | None:
    if not fields:
        return None
    return _named(  # type: ignore[no-any-return]
        factory,
        name,
        lambda: GraphQLObjectType(
            name,
            lambda: {n: GraphQLField(output(f), **_reads(f.key)) for n, f in fields.items()},
            description=description,
        ),
    )


def _aggregate_members(
    factory: GraphQLTypeFactory, model: TypeModel
) -> dict[str, GraphQLObjectType | None]:
    """The ``sum``/``avg``/``min``/``max`` object types of a type (``None``: no such fields)."""
    spec = aggregate_spec(factory.model, model)
    base = model.name
    return {
        "sum": _fields_type(
            factory,
            f"{base}SumFields",
            spec.numeric,
            lambda f: _scalar_output(factory, f.sum_type()),
            f"Sums of the numeric fields of {base} (null when every value is null).",
        ),
        "avg": _fields_type(
            factory,
            f"{base}AvgFields",
            spec.numeric,
            lambda f: _scalar_output(factory, f.avg_type()),
            f"Averages of the numeric fields of {base} (an Int's average is a Float).",
        ),
        "min": _fields_type(
            factory,
            f"{base}MinFields",
            spec.orderable,
            lambda f: factory.named_output(f.ref()),
            f"Smallest values of the orderable fields of {base}.",
        ),
        "max": _fields_type(
            factory,
            f"{base}MaxFields",
            spec.orderable,
            lambda f: factory.named_output(f.ref()),
            f"Largest values of the orderable fields of {base}.",
        ),
    }


def _with_aggregates(factory: GraphQLTypeFactory, model: TypeModel) -> dict[str, GraphQLField]:
    fields: dict[str, GraphQLField] = {
        "count": GraphQLField(
            GraphQLNonNull(GraphQLInt), description="How many rows.", **_reads("count")
        )
    }
    for name, member in _aggregate_members(factory, model).items():
        if member is not None:
            fields[name] = GraphQLField(member, **_reads(name))
    return fields


def group_field_enum(factory: GraphQLTypeFactory, model: TypeModel) -> GraphQLEnumType:
    """``<T>GroupField``: the fields a ``groupBy`` may group by; values are result keys."""
    name = f"{model.name}GroupField"
    spec = aggregate_spec(factory.model, model)
    return _named(  # type: ignore[no-any-return]
        factory,
        name,
        lambda: GraphQLEnumType(
            name,
            {n: GraphQLEnumValue(f.key) for n, f in spec.groupable.items()},
            description=f"A field of {model.name} to group by (nested: <field>_<Nested>).",
        ),
    )


def _group_keys(factory: GraphQLTypeFactory, model: TypeModel) -> GraphQLObjectType:
    spec = aggregate_spec(factory.model, model)
    name = f"{model.name}GroupKeys"
    created = _fields_type(
        factory,
        name,
        spec.groupable,
        lambda f: factory.named_output(f.ref()),
        f"The key of a group of {model.name}: the fields grouped by (the others are null).",
    )
    assert created is not None
    return created


def _group(factory: GraphQLTypeFactory, model: TypeModel) -> GraphQLObjectType:
    name = f"{model.name}Group"

    def fields() -> dict[str, GraphQLField]:
        return {
            "keys": GraphQLField(GraphQLNonNull(_group_keys(factory, model)), **_reads("keys")),
            **_with_aggregates(factory, model),
        }

    return _named(  # type: ignore[no-any-return]
        factory,
        name,
        lambda: GraphQLObjectType(
            name, fields, description=f"One group of {model.name} rows and its aggregates."
        ),
    )


def _input(
    factory: GraphQLTypeFactory, name: str, fields: dict[str, GraphQLInputType], description: str
) -> GraphQLInputObjectType | None:
    if not fields:
        return None
    return _named(  # type: ignore[no-any-return]
        factory,
        name,
        lambda: GraphQLInputObjectType(
            name, {n: GraphQLInputField(t) for n, t in fields.items()}, description=description
        ),
    )


def _filter(factory: GraphQLTypeFactory, scalar: ScalarDefinition) -> GraphQLInputType:
    return factory.leaf_filter(TypeRef(nullable=True, named=scalar))


def having_input(factory: GraphQLTypeFactory, model: TypeModel) -> GraphQLInputObjectType:
    """``<T>Having``: conditions on a group's count and aggregates, and ``and``/``or``/``not``."""
    spec = aggregate_spec(factory.model, model)
    base = model.name
    name = f"{base}Having"
    existing = factory.named.get(name)
    if isinstance(existing, GraphQLInputObjectType):
        return existing
    members: dict[str, GraphQLInputObjectType | None] = {
        "sum": _input(
            factory,
            f"{base}SumHaving",
            {n: _filter(factory, f.sum_type()) for n, f in spec.numeric.items()},
            f"Conditions on sums of {base} fields.",
        ),
        "avg": _input(
            factory,
            f"{base}AvgHaving",
            {n: _filter(factory, f.avg_type()) for n, f in spec.numeric.items()},
            f"Conditions on averages of {base} fields.",
        ),
        "min": _input(
            factory,
            f"{base}MinHaving",
            {n: factory.leaf_filter(f.ref()) for n, f in spec.orderable.items()},
            f"Conditions on smallest values of {base} fields.",
        ),
        "max": _input(
            factory,
            f"{base}MaxHaving",
            {n: factory.leaf_filter(f.ref()) for n, f in spec.orderable.items()},
            f"Conditions on largest values of {base} fields.",
        ),
    }

    def fields() -> dict[str, GraphQLInputField]:
        result = {"count": GraphQLInputField(_filter(factory, INT))}
        result.update({k: GraphQLInputField(v) for k, v in members.items() if v is not None})
        result["and"] = GraphQLInputField(GraphQLList(GraphQLNonNull(created)))
        result["or"] = GraphQLInputField(GraphQLList(GraphQLNonNull(created)))
        result["not"] = GraphQLInputField(created)
        return result

    created = GraphQLInputObjectType(
        name, fields, description=f"A condition on groups of {base}; all given must hold."
    )
    factory.named[name] = created
    return created


def group_order_input(factory: GraphQLTypeFactory, model: TypeModel) -> GraphQLInputObjectType:
    """``<T>GroupOrderBy``: one ordering key of groups (a key, the count or an aggregate)."""
    spec = aggregate_spec(factory.model, model)
    base = model.name
    direction = factory.order_direction()
    parts: dict[str, GraphQLInputType] = {"count": direction}
    for member, fields in (
        ("keys", spec.groupable),
        ("sum", spec.numeric),
        ("avg", spec.numeric),
        ("min", spec.orderable),
        ("max", spec.orderable),
    ):
        nested = _input(
            factory,
            f"{base}Group{member.capitalize()}OrderBy",
            dict.fromkeys(fields, direction),
            f"Order groups of {base} by one {member} field.",
        )
        if nested is not None:
            parts[member] = nested
    created = _input(
        factory,
        f"{base}GroupOrderBy",
        parts,
        f"One ordering key of groups of {base}: set exactly one field per list item.",
    )
    assert created is not None
    return created


def aggregate_type(factory: GraphQLTypeFactory, model: TypeModel) -> GraphQLObjectType:
    """The ``<T>Aggregate`` type of a read model."""
    name = f"{model.name}Aggregate"
    spec = aggregate_spec(factory.model, model)

    def fields() -> dict[str, GraphQLField]:
        result = _with_aggregates(factory, model)
        if spec.groupable:
            result["groupBy"] = GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(_group(factory, model)))),
                args={
                    "by": GraphQLArgument(
                        GraphQLNonNull(
                            GraphQLList(GraphQLNonNull(group_field_enum(factory, model)))
                        )
                    ),
                    "having": GraphQLArgument(having_input(factory, model)),
                    "orderBy": GraphQLArgument(
                        GraphQLList(GraphQLNonNull(group_order_input(factory, model)))
                    ),
                    "limit": GraphQLArgument(GraphQLInt),
                },
                description="Groups of the rows by the fields in `by`, ordered by those keys "
                "unless `orderBy` says otherwise, at most `limit` (the maximum page size).",
                resolve=lambda source, info, **_: source.get(f"{GROUP_BY_SOURCE}:{info.path.key}"),
                extensions={
                    "python_name": GROUP_BY_SOURCE,
                    KEYED_BY_RESPONSE_KEY: True,
                    GROUP_LIST: True,
                },
            )
        return result

    return _named(  # type: ignore[no-any-return]
        factory,
        name,
        lambda: GraphQLObjectType(
            name, fields, description=f"Aggregates of the {model.name} rows a filter selects."
        ),
    )
