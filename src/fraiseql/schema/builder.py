"""Declarations → :class:`SchemaModel`: annotations resolved, names fixed, root fields sorted."""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from fraiseql.cache.policy import CachePolicy
from fraiseql.schema.model import (
    ArgumentModel,
    FieldModel,
    RootFieldModel,
    RootKind,
    SchemaModel,
    TypeModel,
)
from fraiseql.schema.naming import to_camel_case
from fraiseql.schema.refs import (
    AggregateRef,
    ConnectionRef,
    OrderByRef,
    SchemaDefinitionError,
    TypeRef,
    UnionRef,
    WhereRef,
    resolve_annotation,
)
from fraiseql.types.definitions import (
    EnumDefinition,
    ResolverDefinition,
    TypeDefinition,
    get_definition,
)
from fraiseql.types.scalars import ScalarDefinition

DEFAULT_MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

_AUTO_ARGUMENTS: dict[RootKind, frozenset[str]] = {
    "one": frozenset({"id", "identifier"}),
    "list": frozenset({"where", "search", "order_by", "limit", "offset"}),
    "connection": frozenset({"where", "search", "order_by", "first", "after", "last", "before"}),
    "aggregate": frozenset({"where"}),
    "node": frozenset(),
    "nodes": frozenset(),
    "mutation": frozenset(),
    "subscription": frozenset({"where"}),
    "custom": frozenset(),
}

_READ_MODEL_PREFIXES = ("tv_", "v_")


def _streamed(annotation: Any) -> Any:
    """``T`` of a subscription resolver's ``AsyncIterator[T]`` (or ``AsyncGenerator[T, ...]``)."""
    origin = typing.get_origin(annotation)
    if origin in (
        collections.abc.AsyncIterator,
        collections.abc.AsyncGenerator,
        collections.abc.AsyncIterable,
    ):
        return typing.get_args(annotation)[0]
    return None


def default_entity(sql_source: str) -> str:
    """The entity name of a read model's events: ``tv_message`` → ``message``."""
    table = sql_source.rsplit(".", 1)[-1]
    for prefix in _READ_MODEL_PREFIXES:
        if table.startswith(prefix):
            return table[len(prefix) :]
    return table


class _Builder:
    def __init__(self, max_page_size: int, default_page_size: int) -> None:
        self.types: dict[str, TypeModel] = {}
        self.by_class: dict[type, TypeModel] = {}
        self.enums: dict[str, EnumDefinition] = {}
        self.namespace: dict[str, Any] = {}
        self.pending: list[TypeModel] = []
        self.max_page_size = max_page_size
        self.default_page_size = default_page_size

    # -- types ---------------------------------------------------------------------------------

    def add_class(self, cls: type) -> TypeModel:
        existing = self.by_class.get(cls)
        if existing is not None:
            return existing
        definition = get_definition(cls)
        if not isinstance(definition, TypeDefinition):
            raise SchemaDefinitionError(
                f"{cls!r} is not decorated with @fraiseql.type/input/interface"
            )
        other = self.types.get(definition.name)
        if other is not None:
            raise SchemaDefinitionError(
                f"two classes are named {definition.name!r} in GraphQL: "
                f"{other.cls.__module__}.{other.cls.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}"
            )
        model = TypeModel(definition=definition, fields={})
        self.types[definition.name] = model
        self.by_class[cls] = model
        self.namespace.setdefault(cls.__name__, cls)
        self.pending.append(model)
        return model

    def note_ref(self, ref: TypeRef) -> None:
        named = ref.innermost()
        if isinstance(named, TypeDefinition):
            self.add_class(named.cls)
        elif isinstance(named, EnumDefinition):
            self.add_enum(named)
        elif isinstance(named, UnionRef):
            for member in named.members:
                self.add_class(member)
        elif isinstance(named, ConnectionRef | AggregateRef | WhereRef | OrderByRef):
            cls = named.node if isinstance(named, ConnectionRef | AggregateRef) else named.target
            self.add_class(cls)

    def add_enum(self, definition: EnumDefinition) -> None:
        other = self.enums.get(definition.name)
        if other is not None and other.cls is not definition.cls:
            raise SchemaDefinitionError(f"two enums are named {definition.name!r} in GraphQL")
        self.enums[definition.name] = definition

    def hints(self, obj: Any, where: str) -> dict[str, Any]:
        try:
            return typing.get_type_hints(obj, localns=dict(self.namespace), include_extras=True)
        except NameError as exc:
            raise SchemaDefinitionError(f"{where}: {exc}; pass that type to the schema") from None

    def resolve_fields(self, model: TypeModel) -> None:
        cls = model.cls
        definition = model.definition
        hints = self.hints(cls, cls.__qualname__)
        fields: dict[str, FieldModel] = {}
        data_fields = (
            {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
        )
        for python_name, annotation in hints.items():
            if typing.get_origin(annotation) is typing.ClassVar or python_name.startswith("__"):
                continue
            where = f"{cls.__qualname__}.{python_name}"
            info = definition.field_infos.get(python_name)
            ref = resolve_annotation(annotation, where)
            self._check_field_ref(model, ref, where)
            self.note_ref(ref)
            graphql_name = (info.name if info and info.name else None) or to_camel_case(python_name)
            data_field = data_fields.get(python_name)
            has_default, default = False, None
            if info is not None and info.has_default:
                has_default, default = True, info.default
            elif data_field is not None and data_field.default is not dataclasses.MISSING:
                has_default, default = True, data_field.default
            fields[graphql_name] = FieldModel(
                python_name=python_name,
                graphql_name=graphql_name,
                type_ref=ref,
                description=info.description if info else None,
                deprecation_reason=info.deprecation_reason if info else None,
                default=default,
                has_default=has_default,
                requires=_checks(info.requires if info else None, ref),
            )
        for python_name, info in definition.field_infos.items():
            if info.resolver is None:
                continue
            if definition.kind == "input":
                raise SchemaDefinitionError(
                    f"{cls.__qualname__}.{python_name}: inputs have no resolvers"
                )
            where = f"{cls.__qualname__}.{python_name}"
            resolver_hints = self.hints(info.resolver, where)
            if "return" not in resolver_hints:
                raise SchemaDefinitionError(f"{where}: a field resolver needs a return annotation")
            ref = resolve_annotation(resolver_hints["return"], where)
            self.note_ref(ref)
            arguments, info_parameter = self.arguments(
                info.resolver, resolver_hints, where, skip_first=True
            )
            graphql_name = info.name or to_camel_case(python_name)
            fields[graphql_name] = FieldModel(
                python_name=python_name,
                graphql_name=graphql_name,
                type_ref=ref,
                description=info.description,
                deprecation_reason=info.deprecation_reason,
                resolver=info.resolver,
                resolver_is_async=inspect.iscoroutinefunction(info.resolver),
                takes_info=info_parameter is not None,
                arguments=arguments,
                requires=_checks(info.requires, ref),
            )
        if not fields:
            raise SchemaDefinitionError(f"{cls.__qualname__} declares no fields")
        model.fields = fields
        for base in cls.__mro__[1:]:
            base_definition = base.__dict__.get("__fraiseql_definition__")
            if isinstance(base_definition, TypeDefinition) and base_definition.kind == "interface":
                if definition.kind == "input":
                    raise SchemaDefinitionError(
                        f"{cls.__qualname__}: an input cannot implement an interface"
                    )
                model.interfaces.append(self.add_class(base))

    def _check_field_ref(self, model: TypeModel, ref: TypeRef, where: str) -> None:
        named = ref.innermost()
        is_input = model.definition.kind == "input"
        if isinstance(named, ConnectionRef | AggregateRef):
            raise SchemaDefinitionError(
                f"{where}: connections and aggregates are only for root fields"
            )
        if isinstance(named, TypeDefinition) and is_input != (named.kind == "input"):
            kind = "an input" if is_input else "an output"
            raise SchemaDefinitionError(f"{where}: {named.name} cannot be used in {kind} type")
        if is_input and isinstance(named, UnionRef):
            raise SchemaDefinitionError(f"{where}: unions cannot be used in input types")

    def arguments(
        self,
        function: Callable[..., Any],
        hints: dict[str, Any],
        where: str,
        *,
        skip_first: bool,
    ) -> tuple[dict[str, ArgumentModel], str | None]:
        """The GraphQL arguments of a resolver and the name of its ``info`` parameter."""
        parameters = list(inspect.signature(function).parameters.values())
        if skip_first and parameters:
            parameters = parameters[1:]  # ``self``
        info_parameter = None
        if parameters and parameters[0].name == "info":
            info_parameter = parameters[0].name
            parameters = parameters[1:]
        arguments: dict[str, ArgumentModel] = {}
        for parameter in parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise SchemaDefinitionError(f"{where}: *args/**kwargs cannot be GraphQL arguments")
            if parameter.name not in hints:
                raise SchemaDefinitionError(
                    f"{where}: argument {parameter.name!r} needs an annotation"
                )
            ref = resolve_annotation(hints[parameter.name], f"{where}({parameter.name})")
            named = ref.innermost()
            if isinstance(named, TypeDefinition) and named.kind != "input":
                raise SchemaDefinitionError(
                    f"{where}({parameter.name}): {named.name} is not an input type"
                )
            if isinstance(named, UnionRef | ConnectionRef | AggregateRef):
                raise SchemaDefinitionError(f"{where}({parameter.name}): not an input type")
            self.note_ref(ref)
            has_default = parameter.default is not parameter.empty
            graphql_name = to_camel_case(parameter.name)
            arguments[graphql_name] = ArgumentModel(
                python_name=parameter.name,
                graphql_name=graphql_name,
                type_ref=ref,
                default=parameter.default if has_default else None,
                has_default=has_default,
            )
        return arguments, info_parameter

    # -- root fields ---------------------------------------------------------------------------

    def root_field(self, function: Callable[..., Any]) -> RootFieldModel:
        definition = get_definition(function)
        if not isinstance(definition, ResolverDefinition):
            raise SchemaDefinitionError(
                f"{function!r} is not decorated with @fraiseql.query or @fraiseql.mutation"
            )
        where = f"{definition.operation.capitalize()}.{definition.name}"
        hints = self.hints(function, where)
        if "return" not in hints:
            raise SchemaDefinitionError(f"{where}: a query needs a return annotation")
        returned = hints["return"]
        if definition.operation == "subscription" and not definition.auto:
            returned = _streamed(returned)
            if returned is None or not inspect.isasyncgenfunction(function):
                raise SchemaDefinitionError(
                    f"{where}: a subscription with a body is an async generator annotated "
                    "-> AsyncIterator[T] (or an auto subscription: an empty body returning "
                    "a type with sql_source)"
                )
        ref = resolve_annotation(returned, where)
        self.note_ref(ref)
        arguments, info_parameter = self.arguments(function, hints, where, skip_first=False)
        kind, target = self._classify(definition, ref, where)
        allowed = _AUTO_ARGUMENTS[kind]
        if kind not in ("custom", "mutation"):
            unknown = {a.python_name for a in arguments.values()} - allowed
            if unknown:
                what = "subscription" if kind == "subscription" else f"query returning {kind!r}"
                raise SchemaDefinitionError(
                    f"{where}: an auto {what} accepts only "
                    f"{sorted(allowed)}; unknown: {sorted(unknown)}"
                )
        search = next((a for a in arguments.values() if a.python_name == "search"), None)
        if search is not None and kind in ("list", "connection"):
            from fraiseql.sql.search import check_search_argument

            check_search_argument(search.type_ref, target, where)
        max_page = (
            definition.max_page_size
            or (target.definition.max_page_size if target is not None else None)
            or self.max_page_size
        )
        default_page = min(definition.default_page_size or self.default_page_size, max_page)
        batch = _batch_mode(definition, ref, arguments, where) if kind == "mutation" else None
        return RootFieldModel(
            definition=definition,
            graphql_name=definition.name,
            type_ref=ref,
            arguments=arguments,
            kind=kind,
            target=target,
            is_async=inspect.iscoroutinefunction(function),
            info_parameter=info_parameter,
            max_page_size=max_page,
            default_page_size=default_page,
            requires=_checks(definition.requires, ref),
            batch=batch,
            entity=self._entity(definition, target),
            cache=self._cache(definition, kind, target),
        )

    def refuse_uploads(self, arguments: Iterable[Any], where: str) -> None:
        """An auto root field hands its arguments to SQL, which cannot take a file."""
        pending = [argument.type_ref for argument in arguments]
        seen: set[str] = set()
        while pending:
            ref = pending.pop()
            named = ref.innermost()
            if isinstance(named, ScalarDefinition) and named.name == "Upload":
                raise SchemaDefinitionError(
                    f"{where}: an auto root field (empty body) sends its arguments to SQL, "
                    "which cannot take an Upload: give it a body (a custom mutation)"
                )
            if isinstance(named, TypeDefinition) and named.name not in seen:
                seen.add(named.name)
                pending.extend(f.type_ref for f in self.by_class[named.cls].fields.values())

    @staticmethod
    def _entity(definition: ResolverDefinition, target: TypeModel | None) -> str | None:
        """The entity whose events concern the root field (its type's read model)."""
        if target is None or target.definition.sql_source is None:
            return None
        return definition.entity or default_entity(target.definition.sql_source)

    @staticmethod
    def _cache(
        definition: ResolverDefinition, kind: RootKind, target: TypeModel | None
    ) -> CachePolicy | None:
        """The root field's cache policy: its own, else (auto reads) its type's."""
        if definition.operation != "query":
            if definition.cache is not None:
                raise SchemaDefinitionError(
                    f"{definition.name}: only queries are cached (cache= on a "
                    f"{definition.operation})"
                )
            return None
        if definition.cache is not None:
            return definition.cache  # type: ignore[no-any-return]
        if kind in ("one", "list", "connection", "aggregate") and target is not None:
            return target.definition.cache  # type: ignore[no-any-return]
        return None

    def _classify(
        self, definition: ResolverDefinition, ref: TypeRef, where: str
    ) -> tuple[RootKind, TypeModel | None]:
        if not definition.auto:
            return "custom", None
        named = ref.innermost()
        if definition.operation == "mutation":
            nested = ref.item is not None and ref.item.is_list
            if nested or not isinstance(named, TypeDefinition):
                raise SchemaDefinitionError(
                    f"{where}: an auto mutation (empty body) returns the type it writes, "
                    "one with sql_source; its GraphQL field returns a generated payload"
                )
            target = self.add_class(named.cls)
            if target.definition.sql_source is None or target.definition.id_column is None:
                raise SchemaDefinitionError(
                    f"{where}: {target.name} needs a sql_source with an id column to be read back"
                )
            return "mutation", target
        if definition.operation == "subscription":
            if ref.is_list or not isinstance(named, TypeDefinition):
                raise SchemaDefinitionError(
                    f"{where}: an auto subscription (empty body) returns one type with "
                    "sql_source, whose rows each event reads again"
                )
            target = self.add_class(named.cls)
            if target.definition.sql_source is None or target.definition.id_column is None:
                raise SchemaDefinitionError(
                    f"{where}: {target.name} needs a sql_source with an id column: events name "
                    "the ids of the rows to read"
                )
            return "subscription", target
        if isinstance(named, ConnectionRef):
            if ref.is_list:
                raise SchemaDefinitionError(f"{where}: a list of connections is not supported")
            kind: RootKind = "connection"
            cls = named.node
        elif isinstance(named, AggregateRef):
            if ref.is_list:
                raise SchemaDefinitionError(f"{where}: a list of aggregates is not supported")
            kind = "aggregate"
            cls = named.node
        elif isinstance(named, TypeDefinition):
            if ref.is_list and ref.item is not None and ref.item.is_list:
                raise SchemaDefinitionError(f"{where}: nested lists cannot be auto queries")
            kind = "list" if ref.is_list else "one"
            cls = named.cls
        else:
            raise SchemaDefinitionError(
                f"{where}: an auto query (empty body) must return a type with sql_source, "
                "a list of it, a Connection of it or an Aggregate of it; give the function a "
                "body to resolve it in Python"
            )
        target = self.add_class(cls)
        if target.definition.sql_source is None:
            raise SchemaDefinitionError(f"{where}: {target.name} has no sql_source to query")
        if kind == "one" and (
            target.definition.id_column is None and target.definition.identifier_column is None
        ):
            raise SchemaDefinitionError(f"{where}: {target.name} has no id or identifier column")
        return kind, target


def _batch_mode(
    definition: ResolverDefinition,
    ref: TypeRef,
    arguments: dict[str, ArgumentModel],
    where: str,
) -> Literal["atomic", "partial"] | None:
    """The batch mode of an auto mutation (``None`` for a single-item one), checked."""
    if not ref.is_list:
        if definition.batch is not None:
            raise SchemaDefinitionError(
                f"{where}: batch= needs a batch mutation: one list argument, returning a list"
            )
        return None
    only = next(iter(arguments.values())) if len(arguments) == 1 else None
    item = only.type_ref.item if only is not None else None
    named = item.named if item is not None else None
    if (
        only is None
        or item is None
        or only.type_ref.nullable
        or item.nullable
        or not isinstance(named, TypeDefinition)
        or named.kind != "input"
    ):
        raise SchemaDefinitionError(
            f"{where}: a batch mutation (returning a list) takes exactly one argument, "
            "a list of input objects such as `input: list[CreatePostInput]`"
        )
    return definition.batch or "atomic"


def _checks(own: Callable[[dict[str, Any]], bool] | None, ref: TypeRef) -> tuple[Any, ...]:
    """A field's authorization checks: its own, then its output type's."""
    checks: list[Any] = [own] if own is not None else []
    named = ref.innermost()
    if isinstance(named, TypeDefinition) and named.requires is not None:
        checks.append(named.requires)
    elif isinstance(named, ConnectionRef | AggregateRef):
        node = get_definition(named.node)
        if isinstance(node, TypeDefinition) and node.requires is not None:
            checks.append(node.requires)
    return tuple(checks)


def build_model(
    *,
    types: Iterable[type] = (),
    queries: Sequence[Callable[..., Any]] = (),
    mutations: Sequence[Callable[..., Any]] = (),
    subscriptions: Sequence[Callable[..., Any]] = (),
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE,
    default_page_size: int = DEFAULT_PAGE_SIZE,
    relay_nodes: bool = False,
) -> SchemaModel:
    """Resolve declarations into a :class:`SchemaModel`.

    Types reachable from the queries are included even when not listed in ``types``.
    ``relay_nodes`` adds Relay's ``Node`` interface and root fields (see ``schema/relay.py``).
    """
    builder = _Builder(max_page_size, default_page_size)
    for cls in types:
        if isinstance(get_definition(cls), EnumDefinition):
            builder.add_enum(get_definition(cls))
        else:
            builder.add_class(cls)
    roots: dict[str, RootFieldModel] = {}
    for function in queries:
        root = builder.root_field(function)
        if root.definition.operation != "query":
            raise SchemaDefinitionError(
                f"{root.graphql_name} is a {root.definition.operation}, not a query"
            )
        if root.graphql_name in roots:
            raise SchemaDefinitionError(f"two queries are named {root.graphql_name!r}")
        roots[root.graphql_name] = root
    mutation_roots: dict[str, RootFieldModel] = {}
    for function in mutations:
        root = builder.root_field(function)
        if root.definition.operation != "mutation":
            raise SchemaDefinitionError(f"{root.graphql_name} is a query, not a mutation")
        if root.graphql_name in mutation_roots:
            raise SchemaDefinitionError(f"two mutations are named {root.graphql_name!r}")
        mutation_roots[root.graphql_name] = root
    subscription_roots: dict[str, RootFieldModel] = {}
    for function in subscriptions:
        root = builder.root_field(function)
        if root.definition.operation != "subscription":
            raise SchemaDefinitionError(
                f"{root.graphql_name} is a {root.definition.operation}, not a subscription"
            )
        if root.graphql_name in subscription_roots:
            raise SchemaDefinitionError(f"two subscriptions are named {root.graphql_name!r}")
        subscription_roots[root.graphql_name] = root
    while builder.pending:
        builder.resolve_fields(builder.pending.pop(0))
    for root in (*roots.values(), *mutation_roots.values(), *subscription_roots.values()):
        if root.kind != "custom":
            where = f"{root.definition.operation.capitalize()}.{root.graphql_name}"
            builder.refuse_uploads(root.arguments.values(), where)
    if not roots:
        raise SchemaDefinitionError("a schema needs at least one query")
    model = SchemaModel(
        types=builder.types,
        enums=builder.enums,
        queries=roots,
        type_by_class=builder.by_class,
        mutations=mutation_roots,
        subscriptions=subscription_roots,
        max_page_size=max_page_size,
    )
    from fraiseql.sql.search import check_declaration

    for type_model in model.types.values():
        check_declaration(model, type_model)
    if relay_nodes:
        from fraiseql.schema.relay import install_relay_nodes

        install_relay_nodes(model, max_page_size, default_page_size)
    return model
