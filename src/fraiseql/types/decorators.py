"""The decorators users write: ``@type``, ``@input``, ``@interface``, ``@enum``, ``@query``...

``type`` and ``input`` are defined here as ``type_`` and ``input_`` (builtins stay usable in this
module) and exported under their short names by the ``fraiseql`` package.

Each one attaches a definition object (see :mod:`fraiseql.types.definitions`) and returns the
decorated object otherwise unchanged, except that classes become dataclasses so that custom
resolvers can build instances with keyword arguments.
"""

from __future__ import annotations

import dataclasses
import dis
import enum as _enum
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, dataclass_transform, overload

from fraiseql.cache.policy import CachePolicy
from fraiseql.schema.naming import to_camel_case
from fraiseql.types.definitions import (
    DEFINITION_ATTR,
    EnumDefinition,
    FieldInfo,
    ResolverDefinition,
    TypeDefinition,
    TypeKind,
    UnionDefinition,
)

if TYPE_CHECKING:
    from fraiseql.types.search import Search

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=type[_enum.Enum])

_FIELD_META = "fraiseql"


def field(
    function: Callable[..., Any] | None = None,
    /,
    *,
    description: str | None = None,
    deprecation_reason: str | None = None,
    name: str | None = None,
    default: Any = dataclasses.MISSING,
    requires: Callable[[dict[str, Any]], bool] | None = None,
) -> Any:
    """Give options for one attribute of a FraiseQL class.

    Use it as a class attribute value (``bio: str | None = fraiseql.field(description=...)``) or
    as a decorator of a method that computes the field (``@fraiseql.field`` /
    ``@fraiseql.field(description=...)``, then ``def full_name(self, info) -> str``).
    ``requires`` is an authorization check ``(context) -> bool``: when it answers False the
    field is null with a ``FORBIDDEN`` error, and its resolver does not run.
    """
    info = FieldInfo(
        description=description,
        deprecation_reason=deprecation_reason,
        name=name,
        default=None if default is dataclasses.MISSING else default,
        has_default=default is not dataclasses.MISSING,
        requires=requires,
    )
    spec = _FieldSpec(info, default)
    return spec if function is None else spec(function)


class _FieldSpec:
    """What ``fraiseql.field(...)`` returns: a dataclass field or a method decorator."""

    __slots__ = ("default", "info")

    def __init__(self, info: FieldInfo, default: Any) -> None:
        self.info = info
        self.default = default

    def __call__(self, function: F) -> F:
        self.info.resolver = function
        if self.info.description is None:
            self.info.description = inspect.getdoc(function)
        setattr(function, _FIELD_META, self.info)
        return function


def _collect_field_infos(cls: type) -> dict[str, FieldInfo]:
    infos: dict[str, FieldInfo] = {}
    for base in reversed(cls.__mro__[1:]):
        base_definition = base.__dict__.get(DEFINITION_ATTR)
        if isinstance(base_definition, TypeDefinition):
            infos.update(base_definition.field_infos)
    for attr, value in list(cls.__dict__.items()):
        if isinstance(value, _FieldSpec):
            infos[attr] = value.info
            if value.default is dataclasses.MISSING:
                delattr(cls, attr)
            else:
                setattr(cls, attr, value.default)
        elif callable(value) and isinstance(getattr(value, _FIELD_META, None), FieldInfo):
            infos[attr] = getattr(value, _FIELD_META)
    return infos


def _make_class(
    cls: type[T],
    kind: TypeKind,
    *,
    name: str | None,
    description: str | None,
    **options: Any,
) -> type[T]:
    infos = _collect_field_infos(cls)
    doc = cls.__doc__ if "__doc__" in cls.__dict__ else None
    if doc and doc.startswith(cls.__name__ + "("):
        doc = None  # dataclass-generated signature, not a description
    definition = TypeDefinition(
        cls=cls,
        kind=kind,
        name=name or cls.__name__,
        description=description if description is not None else inspect.cleandoc(doc or "") or None,
        field_infos=infos,
        **options,
    )
    resolver_names = {attr for attr, info in infos.items() if info.resolver is not None}
    annotations = inspect.get_annotations(cls)
    for attr in resolver_names & set(annotations):
        raise TypeError(f"{cls.__name__}.{attr} is both an annotated attribute and a resolver")
    new_cls = dataclasses.dataclass(kw_only=True)(cls)
    setattr(new_cls, DEFINITION_ATTR, definition)
    definition.cls = new_cls
    return new_cls


@overload
def type_(cls: type[T], /) -> type[T]: ...
@overload
def type_(
    *,
    sql_source: str | None = None,
    name: str | None = None,
    description: str | None = None,
    data_column: str = "data",
    id_column: str | None = "id",
    identifier_column: str | None = "identifier",
    max_page_size: int | None = None,
    require_rls: bool = False,
    requires: Callable[[dict[str, Any]], bool] | None = None,
    cache: CachePolicy | None = None,
    search: Search | None = None,
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
def type_(
    cls: type[T] | None = None,
    /,
    *,
    sql_source: str | None = None,
    name: str | None = None,
    description: str | None = None,
    data_column: str = "data",
    id_column: str | None = "id",
    identifier_column: str | None = "identifier",
    max_page_size: int | None = None,
    require_rls: bool = False,
    requires: Callable[[dict[str, Any]], bool] | None = None,
    cache: CachePolicy | None = None,
    search: Search | None = None,
) -> type[T] | Callable[[type[T]], type[T]]:
    """Declare a GraphQL object type, optionally backed by a read model (``sql_source``).

    The read model is a ``tv_*`` table or view with one JSONB document per row in
    ``data_column``, keyed by the ``id_column`` (UUID) and ``identifier_column`` (text).
    ``require_rls`` makes the app refuse to start unless row-level security confines the
    request role on that source (see :func:`fraiseql.security.rls.rls_problems`).
    ``requires`` is an authorization check ``(context) -> bool`` applied to every field that
    returns this type (root fields included). ``cache`` is the :class:`~fraiseql.CachePolicy`
    of the auto queries returning it, unless they give their own. ``search`` (a
    :class:`~fraiseql.Search`) makes text fields of the documents searchable by the list and
    connection root fields that declare ``search: SearchInput | None``.
    """
    if search is not None and sql_source is None:
        raise TypeError("search= needs a sql_source: it searches the read model's documents")

    def wrap(target: type[T]) -> type[T]:
        return _make_class(
            target,
            "object",
            cache=cache,
            search=search,
            name=name,
            description=description,
            sql_source=sql_source,
            data_column=data_column,
            id_column=id_column,
            identifier_column=identifier_column,
            max_page_size=max_page_size,
            require_rls=require_rls,
            requires=requires,
        )

    return wrap if cls is None else wrap(cls)


@overload
def input_(cls: type[T], /) -> type[T]: ...
@overload
def input_(
    *, name: str | None = None, description: str | None = None
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
def input_(
    cls: type[T] | None = None, /, *, name: str | None = None, description: str | None = None
) -> type[T] | Callable[[type[T]], type[T]]:
    """Declare a GraphQL input object type; resolvers receive instances of the class."""

    def wrap(target: type[T]) -> type[T]:
        return _make_class(target, "input", name=name, description=description)

    return wrap if cls is None else wrap(cls)


@overload
def interface(cls: type[T], /) -> type[T]: ...
@overload
def interface(
    *, name: str | None = None, description: str | None = None
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
def interface(
    cls: type[T] | None = None, /, *, name: str | None = None, description: str | None = None
) -> type[T] | Callable[[type[T]], type[T]]:
    """Declare a GraphQL interface; object types implement it by subclassing."""

    def wrap(target: type[T]) -> type[T]:
        return _make_class(target, "interface", name=name, description=description)

    return wrap if cls is None else wrap(cls)


@overload
def enum(cls: E, /) -> E: ...
@overload
def enum(*, name: str | None = None, description: str | None = None) -> Callable[[E], E]: ...


def enum(
    cls: E | None = None, /, *, name: str | None = None, description: str | None = None
) -> E | Callable[[E], E]:
    """Expose an ``enum.Enum`` to GraphQL (member names are the GraphQL values)."""

    def wrap(target: E) -> E:
        doc = target.__dict__.get("__doc__")
        if doc == "An enumeration.":
            doc = None
        setattr(
            target,
            DEFINITION_ATTR,
            EnumDefinition(
                cls=target,
                name=name or target.__name__,
                description=description if description is not None else doc,
            ),
        )
        return target

    return wrap if cls is None else wrap(cls)


def union(name: str, *, description: str | None = None) -> UnionDefinition:
    """Name a union for use in ``Annotated[A | B, fraiseql.union("SearchResult")]``."""
    return UnionDefinition(name=name, description=description)


_EMPTY_BODY_OPS = {"RESUME", "RETURN_GENERATOR", "POP_TOP", "NOP", "CACHE", "GEN_START"}


def has_empty_body(function: Callable[..., Any]) -> bool:
    """Tell whether a function's body is only a docstring, ``...`` or ``pass``."""
    ops = [i for i in dis.get_instructions(function) if i.opname not in _EMPTY_BODY_OPS]
    if len(ops) == 1:
        return ops[0].opname == "RETURN_CONST" and ops[0].argval is None
    if len(ops) == 2:
        return (
            ops[0].opname == "LOAD_CONST"
            and ops[0].argval is None
            and ops[1].opname == "RETURN_VALUE"
        )
    return False


def _root_field(
    target: F,
    operation: Literal["query", "mutation", "subscription"],
    *,
    name: str | None,
    description: str | None,
    deprecation_reason: str | None,
    requires: Callable[[dict[str, Any]], bool] | None,
    **options: Any,
) -> F:
    """Attach the definition of a root field (query, mutation or subscription) to its function."""
    setattr(
        target,
        DEFINITION_ATTR,
        ResolverDefinition(
            function=target,
            operation=operation,
            name=name or to_camel_case(target.__name__),
            description=description if description is not None else inspect.getdoc(target),
            deprecation_reason=deprecation_reason,
            auto=has_empty_body(target),
            requires=requires,
            **options,
        ),
    )
    return target


@overload
def query(function: F, /) -> F: ...
@overload
def query(
    *,
    name: str | None = None,
    description: str | None = None,
    deprecation_reason: str | None = None,
    max_page_size: int | None = None,
    default_page_size: int | None = None,
    requires: Callable[[dict[str, Any]], bool] | None = None,
    cache: CachePolicy | None = None,
) -> Callable[[F], F]: ...


def query(
    function: F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    deprecation_reason: str | None = None,
    max_page_size: int | None = None,
    default_page_size: int | None = None,
    requires: Callable[[dict[str, Any]], bool] | None = None,
    cache: CachePolicy | None = None,
) -> F | Callable[[F], F]:
    """Declare a root query field.

    With an empty body (``...``) the field is answered from the return type's read model: a
    single object (looked up by ``id`` or ``identifier``), a list or a ``Connection``. With a
    body, the function is a custom resolver ``(info, **arguments)``, sync or async.
    ``cache`` (a :class:`~fraiseql.CachePolicy`) lets responses reading it be served from the
    response cache; an auto query also takes its type's policy.
    """

    def wrap(target: F) -> F:
        return _root_field(
            target,
            "query",
            cache=cache,
            name=name,
            description=description,
            deprecation_reason=deprecation_reason,
            requires=requires,
            max_page_size=max_page_size,
            default_page_size=default_page_size,
        )

    return wrap if function is None else wrap(function)


@overload
def mutation(function: F, /) -> F: ...
@overload
def mutation(
    *,
    name: str | None = None,
    description: str | None = None,
    deprecation_reason: str | None = None,
    sql_function: str | None = None,
    requires: Callable[[dict[str, Any]], bool] | None = None,
    batch: Literal["atomic", "partial"] | None = None,
) -> Callable[[F], F]: ...


def mutation(
    function: F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    deprecation_reason: str | None = None,
    sql_function: str | None = None,
    requires: Callable[[dict[str, Any]], bool] | None = None,
    batch: Literal["atomic", "partial"] | None = None,
) -> F | Callable[[F], F]:
    """Declare a root mutation field.

    With an empty body (``...``) the mutation calls one PostgreSQL function (``sql_function``,
    default ``fn_<function name>``) with its arguments as JSONB, in the request transaction; the
    function returns a ``fraiseql_mutation_result`` and the entity it names is read back through
    the query path. The GraphQL field returns ``<Name>Payload`` (status, message, errors and the
    entity). With a body, the function is a custom resolver ``(info, **arguments)``; it
    calls mutation functions through ``info.commands``.

    A batch mutation is an auto mutation whose one argument is a list of input objects and
    whose return annotation is a list (``-> list[Post]``): ``sql_function`` (the single-item
    function) runs once per item in one statement, and the field returns
    ``<Name>Payload`` with one result per item. ``batch="atomic"`` (the default) writes all
    items or none; ``batch="partial"`` keeps the items that succeed.
    """
    if batch not in (None, "atomic", "partial"):
        raise ValueError(f"batch must be 'atomic' or 'partial', not {batch!r}")

    def wrap(target: F) -> F:
        return _root_field(
            target,
            "mutation",
            name=name,
            description=description,
            deprecation_reason=deprecation_reason,
            requires=requires,
            sql_function=sql_function or f"fn_{target.__name__}",
            batch=batch,
        )

    return wrap if function is None else wrap(function)


EVENT_OPERATIONS = ("insert", "update", "delete")
"""What a database event says happened to its entities (``fraiseql_notify``'s ``p_op``)."""


@overload
def subscription(function: F, /) -> F: ...
@overload
def subscription(
    *,
    name: str | None = None,
    description: str | None = None,
    deprecation_reason: str | None = None,
    entity: str | None = None,
    on: Iterable[str] = ("insert", "update"),
    requires: Callable[[dict[str, Any]], bool] | None = None,
) -> Callable[[F], F]: ...


def subscription(
    function: F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    deprecation_reason: str | None = None,
    entity: str | None = None,
    on: Iterable[str] = ("insert", "update"),
    requires: Callable[[dict[str, Any]], bool] | None = None,
) -> F | Callable[[F], F]:
    """Declare a root subscription field.

    With an empty body (``...``) the subscription follows the database events of ``entity``
    (default: the return type's ``sql_source`` without its ``tv_``/``v_`` prefix) whose
    operation is in ``on``: each event's rows are read again from the read model, with the
    subscriber's claims and its ``where`` filter (the only argument it takes), and every row
    that comes back is one response. With a body, the function is an async generator
    ``(info, **arguments)`` annotated ``-> AsyncIterator[T]``; each value it yields is one
    response, completed like a custom query's result.
    """
    events = tuple(on)
    unknown = [op for op in events if op not in EVENT_OPERATIONS]
    if unknown or not events:
        raise ValueError(
            f"on= takes operations among {EVENT_OPERATIONS}, not {unknown or 'nothing'}"
        )

    def wrap(target: F) -> F:
        return _root_field(
            target,
            "subscription",
            name=name,
            description=description,
            deprecation_reason=deprecation_reason,
            requires=requires,
            entity=entity,
            events=events,
        )

    return wrap if function is None else wrap(function)
