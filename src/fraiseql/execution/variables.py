"""Variable coercion compiled once per operation, with graphql-core's results.

graphql-core's ``get_variable_values`` resolves every variable's type from its AST, coerces its
default and walks the input generically on every request. A :class:`VariableCoercer` does what
depends only on the variable definitions once (types resolved to coercing functions, defaults
coerced, leaf parsers bound) and per request only coerces values.

Only the success path is its own: whenever something does not coerce, or does not have the
plain shape the compiled functions expect, the coercer calls ``get_variable_values`` itself and
returns what it returns, so errors (messages, paths, locations) are graphql-core's by
construction. A successful result equals graphql-core's: the same ``coerced`` dict (keys, key
order, Python types and values) and the same ``sources``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    VariableDefinitionNode,
    is_required_input_field,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import VariableValues, VariableValueSource, get_variable_values
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import is_iterable
from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_literal

Coerce = Callable[[Any, int], Any]
"""A compiled coercion of a value (and its container depth): the coerced value, or it raises
(then graphql-core decides)."""

CoercionResult = VariableValues | list[GraphQLError]
"""Coerced variables, or the errors that say why they do not coerce."""


class _FallbackError(Exception):
    """The compiled path stops here: the value is left to ``get_variable_values``."""


_BROKEN = object()
"""A default whose coercion raised: graphql-core decides what happens when it is used."""

_MISSING = object()

_IMMUTABLE = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        str,
        bytes,
        decimal.Decimal,
        uuid.UUID,
        datetime.date,
        datetime.datetime,
        datetime.time,
    }
)


def _shareable(value: Any) -> bool:
    """Whether a coerced default can be handed to every request (nobody can change it)."""
    return type(value) in _IMMUTABLE or isinstance(value, enum.Enum)


def _unhandled(_value: Any, _depth: int) -> Any:
    raise _FallbackError


def _list_run(type_: Any, seen: set[str]) -> int:
    """The most list levels directly nested in one type of values of ``type_`` (inputs too)."""
    run = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            run += 1
        type_ = type_.of_type
    longest = run
    if isinstance(type_, GraphQLInputObjectType) and type_.name not in seen:
        seen.add(type_.name)
        for field in type_.fields.values():
            longest = max(longest, _list_run(field.type, seen))
    return longest


def nesting_limit(types: Collection[Any]) -> int:
    """How many containers deep a value may go on the compiled path (the rest: graphql-core).

    graphql-core refuses a value whose walk (``input_is_nested_too_deeply``) goes deeper than
    ``MAX_NESTING_DEPTH`` levels. A level of that walk either enters a list or an input object
    of the value, or wraps a single value in a list, and at most ``run`` wraps follow each
    other (``run``: the most list levels nested in one type). A value nested at most ``limit``
    containers deep therefore walks at most ``(run + 1) * (limit + 1) - 1`` levels.
    """
    run = max((_list_run(type_, set()) for type_ in types), default=0)
    return (MAX_NESTING_DEPTH + 1) // (run + 1) - 1


def _plain_enum(type_: GraphQLEnumType) -> bool:
    """Whether an enum coerces its input as ``GraphQLEnumType`` does (no override)."""
    return type(type_).coerce_input_value is GraphQLEnumType.coerce_input_value


class _Variable:
    """One compiled variable definition."""

    __slots__ = (
        "absent",
        "coerce",
        "default",
        "fresh_default",
        "has_default",
        "name",
        "non_null",
        "signature",
    )

    def __init__(self, signature: GraphQLVariableSignature, compiler: _Compiler) -> None:
        self.name = signature.name
        self.signature = signature
        self.absent = VariableValueSource(signature)
        """The source of the variable when the request leaves it out (always the same)."""
        self.non_null = isinstance(signature.type, GraphQLNonNull)
        self.coerce = compiler.coerce(signature.type)
        self.has_default = signature.default is not None
        self.default: Any = _BROKEN
        self.fresh_default: Callable[[], Any] | None = None
        if signature.default is not None and signature.default.literal is not None:
            literal, var_type = signature.default.literal, signature.type
            # what get_variable_values does with the default literal (without its memo on the
            # signature, which the sources of every request share here)
            try:
                value = coerce_input_literal(literal, var_type)
            except Exception:  # an invalid default: graphql-core reports it
                return
            if value is Undefined:
                return
            if _shareable(value):
                self.default = value
            else:
                # graphql-core coerces a variable's default anew on every request: a list or
                # an input object is a fresh object each time, so it is here too.
                self.fresh_default = lambda: coerce_input_literal(literal, var_type)

    def use_default(self) -> Any:
        """The coerced default of a variable the request leaves out."""
        if self.fresh_default is not None:
            value = self.fresh_default()
            if value is Undefined:
                raise _FallbackError
            return value
        if self.default is _BROKEN:
            raise _FallbackError
        return self.default


class _Compiler:
    """Turns input types into coercing functions; input objects once each (they may recurse).

    A coercing function takes the value and how many containers (lists, input objects) of the
    request's value enclose it; entering one more than ``limit`` leaves the value to
    graphql-core (see :func:`nesting_limit`).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.objects: dict[str, Coerce] = {}

    def coerce(self, type_: GraphQLInputType) -> Coerce:
        """The function that coerces a value of ``type_``, null included."""
        required = isinstance(type_, GraphQLNonNull)
        named: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        # leaves check null themselves: one call per value instead of two
        if isinstance(named, GraphQLEnumType) and _plain_enum(named):
            return self.enum(named, required)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return self.scalar(named, required)
        if isinstance(named, GraphQLList):
            inner = self.list(named)
        elif isinstance(named, GraphQLInputObjectType):
            inner = self.input_object(named)
        else:
            return _unhandled
        if required:

            def non_null(value: Any, depth: int) -> Any:
                if value is None or value is Undefined:
                    raise _FallbackError
                return inner(value, depth)

            return non_null

        def nullable(value: Any, depth: int) -> Any:
            if value is None or value is Undefined:
                return None
            return inner(value, depth)

        return nullable

    def list(self, type_: GraphQLList[Any]) -> Coerce:
        """A list's items coerced; a single value stands for a list of one."""
        item = self.coerce(type_.of_type)
        limit = self.limit

        def coerce_list(value: Any, depth: int) -> Any:
            if isinstance(value, list | tuple):
                if depth >= limit:
                    raise _FallbackError
                inner = depth + 1
                return [item(entry, inner) for entry in value]
            if is_iterable(value):
                # another iterable (a generator could be read only once): graphql-core's job
                raise _FallbackError
            return [item(value, depth)]

        return coerce_list

    def scalar(self, type_: GraphQLScalarType | GraphQLEnumType, required: bool) -> Coerce:
        """A leaf coerced by its own ``coerce_input_value``, bound once."""
        parse = type_.coerce_input_value

        def coerce_scalar(value: Any, _depth: int) -> Any:
            if value is None or value is Undefined:
                if required:
                    raise _FallbackError
                return None
            result = parse(value)
            if result is Undefined:
                raise _FallbackError
            return result

        return coerce_scalar

    def enum(self, type_: GraphQLEnumType, required: bool) -> Coerce:
        """An enum value looked up by name (what ``GraphQLEnumType`` does, without a call)."""
        members = {name: member.value for name, member in type_.values.items()}

        def coerce_enum(value: Any, _depth: int) -> Any:
            if value is None or value is Undefined:
                if required:
                    raise _FallbackError
                return None
            if not isinstance(value, str):
                raise _FallbackError
            result = members.get(value, _MISSING)
            if result is _MISSING:
                raise _FallbackError
            return result

        return coerce_enum

    def input_object(self, type_: GraphQLInputObjectType) -> Coerce:
        """An input object's fields coerced, defaults applied, built by its ``out_type``."""
        existing = self.objects.get(type_.name)
        if existing is not None:
            return existing
        # (name, key of the coerced dict, coerce, required, default) per field, filled below
        # so that a field of this type's own type finds this function.
        fields: list[tuple[str, str, Coerce, bool, Any]] = []
        names = frozenset(type_.fields)
        build = type_.out_type
        one_of = type_.is_one_of
        limit = self.limit

        def coerce_object(value: Any, depth: int) -> Any:
            if not isinstance(value, dict) or not names.issuperset(value) or depth >= limit:
                raise _FallbackError
            inner = depth + 1
            coerced: dict[str, Any] = {}
            for name, key, coerce, required, default in fields:
                given = value.get(name, Undefined)
                if given is Undefined:
                    if required or default is _BROKEN:
                        raise _FallbackError
                    if default is not Undefined:
                        coerced[key] = default
                else:
                    coerced[key] = coerce(given, inner)
            if one_of:
                given_count = sum(1 for entry in value.values() if entry is not Undefined)
                if given_count != 1 or len(coerced) != 1 or None in coerced.values():
                    raise _FallbackError
            return build(coerced)

        self.objects[type_.name] = coerce_object
        for name, field in type_.fields.items():
            try:
                default = coerce_default_value(field)
            except Exception:  # graphql-core raises it when the field is left out
                default = _BROKEN
            fields.append(
                (
                    name,
                    field.out_name or name,
                    self.coerce(field.type),
                    is_required_input_field(field),
                    default,
                )
            )
        return coerce_object


class VariableCoercer:
    """The variables of one operation, coerced as ``get_variable_values`` coerces them.

    Build it once per operation (``schema`` and the operation's variable definitions) and call
    it with each request's variables (a dict, or ``None`` for none).
    """

    __slots__ = ("_definitions", "_schema", "_variables")

    def __init__(
        self, schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]
    ) -> None:
        self._schema = schema
        self._definitions = definitions
        variables: tuple[_Variable, ...] | None
        try:
            signatures: list[GraphQLVariableSignature] = []
            for node in definitions:
                signature = get_variable_signature(schema, node)
                if isinstance(signature, GraphQLError):
                    raise _FallbackError
                signatures.append(signature)
            compiler = _Compiler(nesting_limit([signature.type for signature in signatures]))
            variables = tuple(_Variable(signature, compiler) for signature in signatures)
        except Exception:  # whatever cannot be compiled is left to graphql-core
            variables = None
        self._variables = variables

    @property
    def compiled(self) -> bool:
        """Whether the operation has a compiled path (else every call is graphql-core's)."""
        return self._variables is not None

    def __call__(self, raw: Mapping[str, Any] | None) -> CoercionResult:
        """The coerced variables (``VariableValues``), or graphql-core's list of errors."""
        inputs = raw or {}
        variables = self._variables
        if variables is None or type(inputs) is not dict:
            return self._fallback(inputs)
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        try:
            for variable in variables:
                name = variable.name
                value = inputs.get(name, Undefined)
                if value is Undefined:
                    sources[name] = variable.absent
                    if variable.has_default:
                        coerced[name] = variable.use_default()
                    elif variable.non_null:
                        raise _FallbackError
                    # a nullable variable left out without a default stays out
                    continue
                sources[name] = VariableValueSource(variable.signature, value)
                coerced[name] = variable.coerce(value, 0)
        except Exception:  # any problem: graphql-core's answer, errors included
            return self._fallback(inputs)
        return VariableValues(sources, coerced)

    def _fallback(self, inputs: Any) -> CoercionResult:
        return get_variable_values(self._schema, self._definitions, inputs)
