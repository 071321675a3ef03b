"""Operation plans: the root fields of an operation with the shapes of their values.

A plan is built once per document, operation and values of the variables that ``@skip`` and
``@include`` read, then reused by every request that sends them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    print_ast,
)

from fraiseql.cache.policy import combined
from fraiseql.execution.outcome import PreparedOperation
from fraiseql.execution.pruning import reads_entity, unselected_keys
from fraiseql.execution.selection import collect_fields, directive_variables
from fraiseql.execution.shapes import FieldPlan, Shape, ShapeBuilder
from fraiseql.execution.variables import CoercionResult, VariableCoercer
from fraiseql.native import active_builder
from fraiseql.native.builder import Loads, exact_loads, reads_decimals
from fraiseql.schema.model import RootFieldModel
from fraiseql.sql.select import select_one

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
_PRUNE_KEYS: dict[bool, tuple[Any, ...]] = {True: (True,), False: (False,)}
"""The plan keys of an operation without ``@skip``/``@include`` variables, built once."""
_MAX_PLANS_PER_OPERATION = 64


@dataclass(slots=True)
class RootPlan:
    """One root response key: the root field, its nodes and the shape of its value.

    ``pruned`` names the top-level keys of the stored documents that the root field's statement
    leaves in the database because the selection does not read them (empty: whole documents;
    see ``execution/pruning.py``). ``reads_entity`` is false for an auto mutation whose payload
    selection leaves out the entity, which is then not read back.
    """

    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    definition: GraphQLField | None
    model: RootFieldModel | None
    shape: Shape | None
    field: FieldPlan | None = None
    compiled: Any = None
    guards: tuple[FieldPlan, ...] = ()
    pruned: tuple[str, ...] = ()
    reads_entity: bool = True
    member_prefix: bytes = dataclass_field(init=False, default=b"")
    constant_arguments: bool = dataclass_field(init=False, default=False)
    cached_arguments: dict[str, Any] | None = dataclass_field(init=False, default=None)
    cached_statement: Any = dataclass_field(init=False, default=None)
    loads: Loads = dataclass_field(init=False, default=orjson.loads)
    """The parser of the documents this root field reads (exact numbers when it reads a
    ``Decimal``, see :func:`~fraiseql.native.builder.loads_for`), chosen once per plan."""
    read_back_sql: str | None = dataclass_field(init=False, default=None)
    """An auto mutation's read-back of its entity (its ``$1`` the id as text), built once per
    plan: ``None`` when the selection does not read the entity."""

    def __post_init__(self) -> None:
        # '"key":', encoded once per plan instead of once per request
        self.member_prefix = orjson.dumps(self.key) + b":"
        if self.shape is not None and reads_decimals(self.shape):
            self.loads = exact_loads
        model = self.model
        if (
            model is not None
            and model.kind == "mutation"
            and self.reads_entity
            and model.target is not None
        ):
            self.read_back_sql = select_one(
                model.target, "id", "", drop=self.pruned, as_bytes=True
            ).sql
        # An auto read whose arguments are all literals runs the same statement every time: its
        # coerced arguments and its statement are kept after the first request (see
        # ``remember_arguments`` and ``fetch_auto``). Variables anywhere in them: built each time.
        self.constant_arguments = (
            self.model is not None
            and self.model.kind in ("one", "list", "connection")
            and not any(
                _uses_variables(argument.value) for argument in self.nodes[0].arguments or ()
            )
        )

    def remember_arguments(self, arguments: dict[str, Any]) -> None:
        """Keep the coerced arguments of a plan whose arguments are constant."""
        if self.constant_arguments:
            self.cached_arguments = arguments

    def remember_statement(self, statement: Any) -> None:
        """Keep the statement of a plan whose arguments are constant."""
        if self.constant_arguments:
            self.cached_statement = statement


def _uses_variables(value: ValueNode) -> bool:
    """Whether an argument's value mentions a variable, at any depth."""
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_uses_variables(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_uses_variables(field.value) for field in value.fields)
    return False


@dataclass(slots=True)
class OperationPlan:
    """Every root field of an operation, in document order."""

    roots: list[RootPlan]
    introspection: DocumentNode | None
    root_type_name: str = "Query"
    cache_policy: Any = None
    """The ``CachePolicy`` of the operation: set when every root field it reads has one (the
    strictest of them); ``None``: never cached."""
    lone_read: RootPlan | None = dataclass_field(init=False, default=None)
    """The root of an operation that is one plain auto read: a single root field of kind
    ``one``, ``list`` or ``connection``, without resolvers or authorization checks below it,
    whose value the builder renders from its one statement's rows."""

    def __post_init__(self) -> None:
        if len(self.roots) == 1 and self.introspection is None:
            root = self.roots[0]
            if (
                root.model is not None
                and root.model.kind in ("one", "list", "connection")
                and root.shape is not None
                and not root.shape.has_resolvers
                and not root.guards
            ):
                self.lone_read = root

    @property
    def mutation_count(self) -> int:
        """How many mutation fields (auto or custom) the operation runs."""
        return sum(
            1
            for r in self.roots
            if r.model is not None and r.model.definition.operation == "mutation"
        )

    @property
    def single_auto_mutation(self) -> bool:
        """True when the operation is one auto mutation (no batch) and nothing else to run.

        Such an operation can run as one statement (``fraiseql_mutate``): the call, the undo
        of a failed status and the read-back, with the request's settings, in one round trip.
        """
        data_roots = [root for root in self.roots if root.model is not None]
        if len(data_roots) != 1 or self.introspection is not None:
            return False
        root = data_roots[0]
        return (
            root.model is not None
            and root.model.kind == "mutation"
            and root.model.batch is None
            and root.shape is not None
            and not root.shape.has_resolvers
        )

    @property
    def single_statement(self) -> bool:
        """True when the operation runs exactly one SQL statement and no Python resolver.

        ``nodes`` and ``entities`` (federation's ``_entities``) run one statement per type of
        their ids: they keep their transaction.
        """
        data_roots = [root for root in self.roots if root.model is not None]
        return (
            len(data_roots) == 1
            and data_roots[0].model is not None
            and data_roots[0].model.kind not in ("custom", "nodes", "entities")
            and data_roots[0].shape is not None
            and not data_roots[0].shape.has_resolvers
        )


def _cache_policy(roots: list[RootPlan], introspection: DocumentNode | None) -> Any:
    """The operation's cache policy: every data root has one, and nothing is introspected."""
    data = [root.model for root in roots if root.model is not None]
    if introspection is not None or not data or any(model.cache is None for model in data):
        return None
    return combined([model.cache for model in data])


def guarded_fields(root: FieldPlan) -> tuple[FieldPlan, ...]:
    """The fields under (and including) a root field that carry authorization checks."""
    found: list[FieldPlan] = []
    pending: list[FieldPlan] = [root]
    while pending:
        field = pending.pop()
        if field.requires:
            found.append(field)
        shapes = [field.shape] if field.shape is not None else []
        while shapes:
            shape = shapes.pop()
            pending.extend(shape.fields)
            if shape.item is not None:
                shapes.append(shape.item)
            shapes.extend(shape.by_type.values())
    return tuple(found)


class PreparedDocumentOperation(PreparedOperation):
    """An operation of a valid cached document, with its plans cached by directive variables."""

    __slots__ = (
        "_normalized",
        "_variables",
        "directive_variables",
        "fragments",
        "operation",
        "plans",
    )

    def __init__(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        super().__init__(operation.operation.value)
        self.operation = operation
        self.fragments = dict(fragments)
        self.directive_variables = tuple(
            sorted(directive_variables([operation, *self.fragments.values()]))
        )
        self.plans: OrderedDict[tuple[Any, ...], OperationPlan] = OrderedDict()
        self._normalized: str | None = None
        self._variables: VariableCoercer | None = None

    def coerce_variables(
        self, schema: GraphQLSchema, raw: Mapping[str, Any] | None
    ) -> CoercionResult:
        """The request's variables coerced, as ``get_variable_values`` coerces them.

        The operation's coercer is compiled on first use (see ``execution/variables.py``).
        """
        coercer = self._variables
        if coercer is None:
            definitions = self.operation.variable_definitions or ()
            coercer = self._variables = VariableCoercer(schema, definitions)
        return coercer(raw)

    @property
    def normalized(self) -> str:
        """The operation and its fragments printed canonically (the response cache's key).

        Two texts that differ only in whitespace, commas or comments print the same.
        """
        if self._normalized is None:
            document = DocumentNode(definitions=(self.operation, *self.fragments.values()))
            self._normalized = print_ast(document)
        return self._normalized

    def plan(
        self,
        schema: GraphQLSchema,
        roots: Mapping[str, RootFieldModel],
        serializers: Mapping[str, Callable[[Any], Any]],
        variables: Mapping[str, Any],
        *,
        prune: bool = True,
    ) -> OperationPlan:
        """The plan for these variable values (built on first use).

        ``prune=False`` plans statements that always read whole documents.
        """
        names = self.directive_variables
        key = _PRUNE_KEYS[prune] if not names else (prune, *[variables.get(n) for n in names])
        plan = self.plans.get(key)
        if plan is None:
            plan = self._build(schema, roots, serializers, variables, prune)
            self.plans[key] = plan
            if len(self.plans) > _MAX_PLANS_PER_OPERATION:
                self.plans.popitem(last=False)
        return plan

    def _build(
        self,
        schema: GraphQLSchema,
        roots: Mapping[str, RootFieldModel],
        serializers: Mapping[str, Callable[[Any], Any]],
        variables: Mapping[str, Any],
        prune: bool,
    ) -> OperationPlan:
        root_type = schema.get_root_type(OperationType(self.operation.operation))
        assert root_type is not None
        grouped = collect_fields(
            schema, root_type, [self.operation.selection_set], self.fragments, variables
        )
        builder = ShapeBuilder(schema, self.fragments, variables, serializers)
        plans: list[RootPlan] = []
        introspection_nodes: list[FieldNode] = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            merged = tuple(nodes)
            if name == "__typename":
                plans.append(RootPlan(key, name, merged, None, None, None))
                continue
            if name in INTROSPECTION_FIELDS:
                plans.append(RootPlan(key, name, merged, None, None, None))
                introspection_nodes.extend(merged)
                continue
            definition = root_type.fields[name]
            shape = builder.build(definition.type, merged)
            model = roots[name]
            field = FieldPlan(
                key, name, name, root_type.name, shape, merged, definition, requires=model.requires
            )
            response_builder = active_builder()
            compile = (
                response_builder.compile_connection
                if model.kind == "connection"
                else response_builder.compile
            )
            plans.append(
                RootPlan(
                    key,
                    name,
                    merged,
                    definition,
                    model,
                    shape,
                    field,
                    compile(field),
                    guarded_fields(field),
                    unselected_keys(model, shape) if prune else (),
                    reads_entity(model, shape),
                )
            )
        introspection = None
        if introspection_nodes:
            introspection = DocumentNode(
                definitions=(
                    OperationDefinitionNode(
                        operation=OperationType.QUERY,
                        variable_definitions=self.operation.variable_definitions,
                        directives=(),
                        selection_set=SelectionSetNode(selections=tuple(introspection_nodes)),
                    ),
                    *self.fragments.values(),
                )
            )
        return OperationPlan(
            plans, introspection, root_type.name, _cache_policy(plans, introspection)
        )
