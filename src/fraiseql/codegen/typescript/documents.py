"""Read ``.graphql`` documents, parse them and validate them against the schema.

Every file is parsed on its own (so each error names its file); the definitions of all files
then form one document, validated as a whole: a fragment may be defined in one file and used
in another, and operation and fragment names must be unique across the files. Errors are
reported as ``file:line:col: message``, sorted.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Node,
    NoUnusedFragmentsRule,
    OperationDefinitionNode,
    Source,
    parse,
    specified_rules,
    validate,
)

DOCUMENT_SUFFIXES = (".graphql", ".gql")

RULES = tuple(rule for rule in specified_rules if rule is not NoUnusedFragmentsRule)
"""The specification's rules, except that a fragment no operation uses is allowed (its type
is still generated, for the component that spreads it)."""


class DocumentError(Exception):
    """Documents that cannot be read, parsed or validated; ``problems`` are ``file:l:c: ...``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Documents:
    """The operations and fragments of every document, by name, with the files read."""

    operations: dict[str, OperationDefinitionNode]
    fragments: dict[str, FragmentDefinitionNode]
    files: tuple[Path, ...]


def find_document_files(specs: Iterable[str | Path]) -> list[Path]:
    """The files ``specs`` stand for, sorted, without duplicates.

    A spec is a file, a directory (searched for ``*.graphql`` and ``*.gql``) or a glob
    pattern (``src/**/*.graphql``).
    """
    found: set[Path] = set()
    missing: list[str] = []
    for spec in specs:
        text = str(spec)
        path = Path(text)
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix in DOCUMENT_SUFFIXES)
        elif path.is_file():
            found.add(path)
        elif glob.has_magic(text):
            found.update(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        else:
            missing.append(f"{text}: no such file or directory")
    if missing:
        raise DocumentError(missing)
    return sorted(found)


def _location(node: Node | None, error: GraphQLError) -> tuple[str, int, int]:
    if node is not None and node.loc is not None:
        location = node.loc.source.get_location(node.loc.start)
        return node.loc.source.name, location.line, location.column
    if error.source is not None and error.locations:
        return error.source.name, error.locations[0].line, error.locations[0].column
    return "<documents>", 0, 0


def _describe(error: GraphQLError) -> tuple[str, int, int, str]:
    node = error.nodes[0] if error.nodes else None
    name, line, column = _location(node, error)
    return name, line, column, error.message


def load_documents(schema: GraphQLSchema, files: Sequence[Path]) -> Documents:
    """Parse and validate ``files`` against ``schema``; raise :class:`DocumentError` if any fails.

    Operations must be named: their name names the generated types.
    """
    problems: list[tuple[str, int, int, str]] = []
    definitions: list[OperationDefinitionNode | FragmentDefinitionNode] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append((str(path), 0, 0, f"cannot read: {error}"))
            continue
        try:
            document = parse(Source(text, str(path)))
        except GraphQLSyntaxError as error:
            problems.append(_describe(error))
            continue
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                definitions.append(definition)
            else:
                problems.append(
                    (*_location(definition, GraphQLError("")), "only operations and fragments")
                )
    if not problems:
        merged = DocumentNode(definitions=tuple(definitions))
        problems.extend(_describe(error) for error in validate(schema, merged, RULES))
    for definition in definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name is None:
            problems.append(
                (
                    *_location(definition, GraphQLError("")),
                    "name the operation: its name names the generated types",
                )
            )
    if problems:
        problems.sort()
        raise DocumentError([f"{f}:{line}:{col}: {message}" for f, line, col, message in problems])
    return Documents(
        operations={
            d.name.value: d
            for d in definitions
            if isinstance(d, OperationDefinitionNode) and d.name
        },
        fragments={d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)},
        files=tuple(files),
    )
