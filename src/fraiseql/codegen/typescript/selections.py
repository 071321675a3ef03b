"""The TypeScript type of a selection set: exactly the keys a response has.

Fields are keyed by their response name (the alias when there is one) and keep the order in
which the selection first names them; fragments (named and inline) are merged into the
object they select on. A field under ``@skip`` or ``@include`` (directly or through a
fragment) is optional. On an interface or a union each possible type gets its own object;
when ``__typename`` is selected the result is a union discriminated on it (possible types
with the same shape share one member, ``__typename: "A" | "B"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
)

from fraiseql.codegen.typescript.printer import INDENT, string_literal, tsdoc
from fraiseql.codegen.typescript.typerefs import TypeNamer

TYPENAME = "__typename"


def _conditional(node: SelectionNode) -> bool:
    return any(d.name.value in ("skip", "include") for d in node.directives or ())


@dataclass
class _Key:
    """Everything a selection set says about one response key of one concrete type."""

    name: str
    definition: GraphQLField | None  # None for __typename
    always: bool = False
    children: list[tuple[SelectionSetNode, bool]] = field(default_factory=list)


class SelectionPrinter:
    """Writes the TypeScript type of selection sets against one schema and its fragments."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        namer: TypeNamer,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.namer = namer

    def _applies(self, concrete: GraphQLObjectType, condition: str | None) -> bool:
        if condition is None or condition == concrete.name:
            return True
        target = self.schema.get_type(condition)
        if isinstance(target, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(target, concrete)
        return False

    def _collect(
        self,
        concrete: GraphQLObjectType,
        sets: list[tuple[SelectionSetNode, bool]],
        keys: dict[str, _Key],
    ) -> None:
        for selection_set, conditional in sets:
            for selection in selection_set.selections:
                inner = conditional or _conditional(selection)
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    key = selection.alias.value if selection.alias else name
                    entry = keys.get(key)
                    if entry is None:
                        definition = None if name == TYPENAME else concrete.fields[name]
                        entry = keys[key] = _Key(name, definition)
                    entry.always = entry.always or not inner
                    if selection.selection_set is not None:
                        entry.children.append((selection.selection_set, inner))
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if self._applies(concrete, condition.name.value if condition else None):
                        self._collect(concrete, [(selection.selection_set, inner)], keys)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments[selection.name.value]
                    if self._applies(concrete, fragment.type_condition.name.value):
                        self._collect(concrete, [(fragment.selection_set, inner)], keys)

    def _possible(self, parent: GraphQLCompositeType) -> list[GraphQLObjectType]:
        if isinstance(parent, GraphQLObjectType):
            return [parent]
        return sorted(self.schema.get_possible_types(parent), key=lambda t: t.name)

    def print(
        self, parent: GraphQLCompositeType, sets: list[tuple[SelectionSetNode, bool]], indent: str
    ) -> str:
        """The type of what ``sets`` select on ``parent``, continued lines indented."""
        shapes: dict[str, list[str]] = {}  # body (without __typename's value) -> type names
        typename_selected = False
        for concrete in self._possible(parent):
            keys: dict[str, _Key] = {}
            self._collect(concrete, sets, keys)
            typename_selected = typename_selected or any(k.name == TYPENAME for k in keys.values())
            body = self._object_body(concrete, keys, indent + INDENT)
            shapes.setdefault(body, []).append(concrete.name)
        if not shapes:
            return "never"
        members = []
        for body, names in shapes.items():
            typename = " | ".join(string_literal(name) for name in names)
            members.append(body.replace("\0", typename))
        if len(members) == 1:
            return members[0]
        if not typename_selected:
            members = list(dict.fromkeys(members))
            if len(members) == 1:
                return members[0]
        return "".join(f"\n{indent}{INDENT}| {indented(m, INDENT)}" for m in members)

    def _object_body(self, concrete: GraphQLObjectType, keys: dict[str, _Key], indent: str) -> str:
        if not keys:
            return "{}"
        lines = ["{"]
        for key, entry in keys.items():
            optional = "" if entry.always else "?"
            if entry.definition is None:
                lines.append(f"{indent}{key}{optional}: \0;")
                continue
            lines.extend(tsdoc(None, entry.definition.deprecation_reason, indent))
            ts_type = self.field_type(entry.definition.type, entry.children, indent)
            lines.append(f"{indent}{key}{optional}: {ts_type};")
        lines.append(indent[: -len(INDENT)] + "}")
        return "\n".join(lines)

    def field_type(
        self,
        type_: GraphQLOutputType,
        children: list[tuple[SelectionSetNode, bool]],
        indent: str,
    ) -> str:
        """The type of a field's value: its leaf type, or the object its selection makes."""
        named = get_named_type(type_)
        if not children:
            return self.namer.output(type_)
        assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        return self.namer.output(type_, self.print(named, children, indent))


def indented(text: str, indent: str) -> str:
    """``text`` with its continuation lines indented by ``indent`` more."""
    return text.replace("\n", "\n" + indent)
