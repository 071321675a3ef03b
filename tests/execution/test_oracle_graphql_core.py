"""FraiseQL's responses against graphql-core's own execution of the same schema over the same data.

Each case runs once through FraiseQL (SQL for auto fields, the projector for completion) and once
through ``graphql.execute`` whose root resolvers answer from the documents loaded in Python (see
``oracle.py``). The whole responses must be equal, including the order of object keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import parse, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraiseql import Schema

from .oracle import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BlogData,
    assert_same_response,
    cursor_of,
    fraiseql_and_oracle,
    ordered,
    sort_keys,
)

Variables = Callable[[BlogData], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One oracle query: the document, its variables (maybe computed from the data), options."""

    name: str
    query: str
    variables: Variables | dict[str, Any] | None = None
    operation_name: str | None = None
    extended: bool = False
    expect_errors: bool = False
    marks: list[Any] = field(default_factory=list)


def _post(index: int) -> Callable[[BlogData], str]:
    return lambda data: data.posts[index]["identifier"]


def _after(index: int, order_by: list[dict[str, Any]] | None = None) -> Variables:
    """A cursor of the ``index``-th post in the given ordering, computed by the oracle."""

    def variables(data: BlogData) -> dict[str, Any]:
        keys, rows = ordered(data.posts, order_by)
        return {"cursor": cursor_of(keys, rows[index])}

    return variables


POST_FIELDS = """
    id identifier title body status tags rating viewCount publishedAt createdAt categoryPath
    author { id identifier name email }
    comments { id identifier body createdAt author { id identifier name } }
"""

CASES = [
    Case(
        "aliases",
        """query($a: String, $b: String) {
          first: post(identifier: $a) { key: identifier heading: title state: status }
          second: post(identifier: $b) { identifier t: title author { who: name } }
        }""",
        lambda d: {"a": d.posts[0]["identifier"], "b": d.posts[1]["identifier"]},
    ),
    Case(
        "every post field",
        f"{{ posts(limit: 30) {{ {POST_FIELDS} }} }}",
    ),
    Case(
        "nested named fragments",
        """{ posts(limit: 6, orderBy: [{title: ASC}]) { ...Core author { ...AuthorBits } } }
        fragment Core on Post { id ...More identifier }
        fragment More on Post { title tags comments { ...CommentBits } }
        fragment CommentBits on PostComment { body author { ...CommentAuthorBits } }
        fragment CommentAuthorBits on CommentAuthor { name __typename }
        fragment AuthorBits on Author { name email }""",
    ),
    Case(
        "inline fragments without and with a type condition",
        """{ posts(limit: 4) {
            ... { identifier }
            ... on Post { title author { ... on Author { name } } }
            ... on Post { title status }
        } }""",
    ),
    Case(
        "union with inline fragments and __typename",
        """{ search(text: "Ca", limit: 4) {
            __typename
            ... on Post { identifier title status }
            ... on User { identifier displayName role organisation { name } }
        } }""",
        extended=True,
    ),
    Case(
        "union with named fragments and an aliased __typename",
        """{ hits: search(text: "e", limit: 3) { kind: __typename ...P ...U } }
        fragment P on Post { title author { name } }
        fragment U on User { name bio }""",
        extended=True,
    ),
    Case(
        "interface from dicts with __typename",
        """{ entities(kinds: [USER, POST, ORGANISATION], limit: 2) {
            __typename id identifier
            ... on UserEntity { name role bio organisation { identifier } }
            ... on PostEntity { title status tags rating publishedAt author { name } }
            ... on OrganisationEntity { name createdAt }
        } }""",
        extended=True,
    ),
    Case(
        "interface fragment on class instances",
        """query($kind: EntityKind!) { entityObjects(kind: $kind, limit: 4) { ...E } }
        fragment E on Entity {
            __typename identifier id
            ... on UserEntity { role email organisation { id name __typename } }
            ... on PostEntity { status rating publishedAt comments { identifier } }
            ... on OrganisationEntity { createdAt }
        }""",
        {"kind": "USER"},
        extended=True,
    ),
    Case(
        "interface instances of posts with enums and datetimes",
        """{ entityObjects(kind: POST, offset: 5, limit: 5) {
            __typename ... on PostEntity { title status tags rating publishedAt }
        } }""",
        extended=True,
    ),
    Case(
        "skip and include with literals",
        """{ posts(limit: 3) {
            identifier
            title @skip(if: true)
            body @include(if: false)
            status @include(if: true)
            rating @skip(if: false)
            author @skip(if: true) { name }
            tags @skip(if: false) @include(if: false)
        } }""",
    ),
    Case(
        "skip and include with variables (true)",
        """query($withAuthor: Boolean!, $noTags: Boolean!) { posts(limit: 3) {
            identifier author @include(if: $withAuthor) { name } tags @skip(if: $noTags)
        } }""",
        {"withAuthor": True, "noTags": True},
    ),
    Case(
        "skip and include with variables (false)",
        """query($withAuthor: Boolean!, $noTags: Boolean!) { posts(limit: 3) {
            identifier author @include(if: $withAuthor) { name } tags @skip(if: $noTags)
        } }""",
        {"withAuthor": False, "noTags": False},
    ),
    Case(
        "directives on fragments and default variable values",
        """query($show: Boolean = true, $hide: Boolean = false) { posts(limit: 3) {
            ...Titles @include(if: $show)
            ... on Post @skip(if: $show) { body }
            ... @include(if: $hide) { viewCount }
            identifier
        } }
        fragment Titles on Post { title author @skip(if: $hide) { name } }""",
    ),
    Case(
        "a skipped root field",
        """query($skipUsers: Boolean!) {
            users(first: 2) @skip(if: $skipUsers) { totalCount }
            organisations { identifier }
        }""",
        {"skipUsers": True},
    ),
    Case(
        "__typename everywhere",
        """{ __typename q: __typename
            posts(limit: 2) { __typename author { __typename } comments { __typename } }
            postsConnection(first: 2) {
                __typename edges { __typename node { __typename } } pageInfo { __typename }
            }
            user(identifier: "alice") { __typename organisation { __typename } }
        }""",
    ),
    Case(
        "variables with defaults",
        """query($limit: Int = 4, $offset: Int = 2, $order: [PostOrderByInput!] = [{viewCount: DESC}])
        { posts(limit: $limit, offset: $offset, orderBy: $order) { identifier viewCount } }""",
    ),
    Case(
        "variables overriding defaults",
        """query($limit: Int = 4, $offset: Int = 2) {
            posts(limit: $limit, offset: $offset) { identifier }
        }""",
        {"limit": 7},
    ),
    Case(
        "multiple root fields",
        """{
            organisations { id identifier name createdAt }
            posts(limit: 2) { identifier }
            users(first: 3) { totalCount edges { node { identifier displayName } } }
            comments(limit: 3, orderBy: [{createdAt: DESC}]) {
                identifier body createdAt post { identifier title } author { name }
            }
        }""",
    ),
    Case(
        "one root field selected twice under aliases with different arguments",
        """{ a: posts(limit: 2) { identifier } b: posts(limit: 3, offset: 2) { identifier }
           a: posts(limit: 2) { title } }""",
    ),
    Case(
        "lists of scalars and of objects",
        """{ posts(limit: 20, where: {tags: {isEmpty: false}}) {
            tags comments { identifier author { identifier } }
        } }""",
    ),
    Case(
        "connection with first",
        """{ postsConnection(first: 3) {
            totalCount
            edges { cursor node { identifier title } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } }""",
    ),
    Case(
        "connection with first and after",
        """query($cursor: String) { postsConnection(first: 4, after: $cursor) {
            totalCount
            edges { cursor node { identifier } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } }""",
        _after(5),
    ),
    Case(
        "connection ordered by title descending, after a cursor",
        """query($cursor: String) {
            postsConnection(first: 3, after: $cursor, orderBy: [{title: DESC}]) {
                edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage }
            }
        }""",
        _after(10, [{"title": "DESC"}]),
    ),
    Case(
        "connection ordered by view count, last page",
        """{ postsConnection(last: 3, orderBy: [{viewCount: ASC}]) {
            edges { cursor node { identifier viewCount } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } }""",
    ),
    Case(
        "connection backwards before a cursor",
        """query($cursor: String) { postsConnection(last: 2, before: $cursor) {
            edges { cursor node { identifier } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } }""",
        _after(7),
    ),
    Case(
        "connection after the last row",
        """query($cursor: String) { postsConnection(first: 2, after: $cursor) {
            totalCount edges { node { identifier } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } }""",
        _after(-1),
    ),
    Case(
        "connection with a filter and the default page size",
        """{ postsConnection(where: {status: {eq: DRAFT}}) {
            totalCount edges { node { identifier status publishedAt viewCount } }
            pageInfo { hasNextPage endCursor }
        } }""",
    ),
    Case(
        "pageInfo selected twice under aliases",
        """query($cursor: String) { postsConnection(first: 2, after: $cursor) {
            a: pageInfo { endCursor }
            b: pageInfo { hasPreviousPage hasNextPage }
            edges { node { identifier } }
        } }""",
        _after(3),
    ),
    Case(
        "totalCount inside a fragment, next to pageInfo in another",
        """query($cursor: String) { postsConnection(first: 1, after: $cursor) {
            ...Counted ... on PostConnection { pageInfo { hasPreviousPage } }
        } }
        fragment Counted on PostConnection { total: totalCount }""",
        _after(0),
    ),
    Case(
        "users connection with a role filter and a Python field resolver",
        """{ users(first: 50, where: {role: {in: [ADMIN, AUTHOR]}}) {
            totalCount
            edges { node { identifier name displayName role bio email createdAt } }
        } }""",
    ),
    Case(
        "nested objects",
        """{
            user(identifier: "bob") { name organisation { id identifier name } }
            comments(limit: 5) { post { id identifier title } author { identifier name } }
        }""",
    ),
    Case(
        "enums in filters and results",
        """{ posts(where: {status: {in: [DRAFT, ARCHIVED]}}, limit: 15) { identifier status }
           published: posts(where: {status: {neq: PUBLISHED}, viewCount: {gt: 0}}, limit: 5) {
             status viewCount
           } }""",
    ),
    Case(
        "nullable fields that are null",
        """{ posts(where: {rating: {isNull: true}}, limit: 10) { identifier rating publishedAt }
           users(first: 40, where: {bio: {isNull: true}}) { edges { node { identifier bio } } }
        }""",
    ),
    Case(
        "ordering by a nested field, then descending, nulls last",
        """{ posts(orderBy: [{author: {name: ASC}}, {rating: DESC}], limit: 40) {
            author { name } rating identifier
        } }""",
    ),
    Case(
        "ordering by a nullable field ascending, nulls last",
        "{ posts(orderBy: [{rating: ASC}], limit: 100, offset: 150) { identifier rating } }",
    ),
    Case(
        "or, and and not filters",
        """{ posts(limit: 50, where: {or: [
                {viewCount: {gt: 40000}},
                {and: [{not: {status: {eq: PUBLISHED}}}, {title: {contains: "e"}}]}
            ], author: {identifier: {startsWith: "a"}}}) { identifier viewCount status } }""",
    ),
    Case(
        "tags filter",
        """{ posts(limit: 30, where: {tags: {contains: ["sql"]}}, orderBy: [{title: ASC}]) {
            title tags
        } }""",
    ),
    Case(
        "the same field merged from several places",
        """{ posts(limit: 3) {
            title title ... on Post { title author { name } } author { email name }
            ...A
        } }
        fragment A on Post { author { identifier } title }""",
    ),
    Case(
        "a missing entity is null",
        '{ post(identifier: "no-such-post") { identifier } user(identifier: "nobody") { id } }',
    ),
    Case(
        "a root field error next to data",
        """{ post { identifier } posts(limit: 1) { identifier }
           byBoth: user(identifier: "bob", id: "00000000-0000-0000-0000-000000000000") { id } }""",
        expect_errors=True,
    ),
    Case(
        "page size errors",
        """{ postsConnection(first: 1000) { totalCount } posts(limit: -1) { id }
           users(first: 1, last: 1) { totalCount } organisations { name } }""",
        expect_errors=True,
    ),
    Case(
        "an invalid cursor",
        '{ postsConnection(first: 2, after: "not a cursor") { totalCount } }',
        expect_errors=True,
    ),
    Case(
        "a cursor of another ordering",
        """query($cursor: String) {
            postsConnection(first: 2, after: $cursor, orderBy: [{title: ASC}]) { totalCount }
        }""",
        _after(3),
        expect_errors=True,
    ),
    Case(
        "introspection next to data",
        """{ __type(name: "PostStatus") { name kind enumValues { name } }
           posts(limit: 2) { status }
           __schema { queryType { name } }
        }""",
    ),
    Case(
        "operation selected by name",
        """query Posts { posts(limit: 2) { identifier } }
           query Users { users(first: 2) { edges { node { identifier } } } }""",
        operation_name="Users",
    ),
]


def _params() -> list[Any]:
    return [pytest.param(case, id=case.name, marks=case.marks) for case in CASES]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", _params())
async def test_same_response_as_graphql_core(
    case: Case, blog_schema: Schema, extended_schema: Schema, blog_data: BlogData
) -> None:
    schema = extended_schema if case.extended else blog_schema
    variables = case.variables(blog_data) if callable(case.variables) else case.variables
    actual, expected = await fraiseql_and_oracle(
        schema, blog_data, case.query, variables, case.operation_name
    )
    assert_same_response(actual, expected, case.query)
    assert ("errors" in actual) == case.expect_errors, actual.get("errors")
    if not case.expect_errors:
        assert actual["data"], "every case without errors has data to compare"


async def test_every_blog_case_also_agrees_on_the_extended_schema(
    extended_schema: Schema, blog_data: BlogData
) -> None:
    """Two schemas over the same classes in one process answer alike."""
    for case in CASES:
        if case.extended:
            continue
        variables = case.variables(blog_data) if callable(case.variables) else case.variables
        actual, expected = await fraiseql_and_oracle(
            extended_schema, blog_data, case.query, variables, case.operation_name
        )
        assert_same_response(actual, expected, case.name)


# --- random selection sets ----------------------------------------------------------------------

LEAVES: dict[str, list[str]] = {
    "Post": [
        "id",
        "identifier",
        "title",
        "body",
        "status",
        "tags",
        "rating",
        "viewCount",
        "publishedAt",
        "createdAt",
        "categoryPath",
        "__typename",
    ],
    "User": ["id", "identifier", "name", "email", "role", "bio", "createdAt", "displayName"],
    "Author": ["id", "identifier", "name", "email", "__typename"],
    "PostComment": ["id", "identifier", "body", "createdAt", "__typename"],
    "CommentAuthor": ["id", "identifier", "name", "__typename"],
    "OrganisationRef": ["id", "identifier", "name", "__typename"],
}
OBJECTS: dict[str, dict[str, str]] = {
    "Post": {"author": "Author", "comments": "PostComment"},
    "User": {"organisation": "OrganisationRef"},
    "Author": {},
    "PostComment": {"author": "CommentAuthor"},
    "CommentAuthor": {},
    "OrganisationRef": {},
}


class DocumentBuilder:
    """Collects the fragments and variables a random selection set needs."""

    def __init__(self, draw: Callable[..., Any]) -> None:
        self.draw = draw
        self.fragments: list[str] = []
        self.variables: dict[str, tuple[str, Any]] = {}

    def condition(self) -> str:
        """A random ``if:`` operand: a literal, a variable, or a variable with a default."""
        kind = self.draw(st.sampled_from(["true", "false", "variable", "default"]))
        if kind in ("true", "false"):
            return kind
        name = f"v{len(self.variables)}"
        value = self.draw(st.booleans())
        if kind == "variable":
            self.variables[name] = ("Boolean!", value)
        else:
            given = self.draw(st.sampled_from([None, not value]))
            self.variables[name] = (f"Boolean = {str(value).lower()}", given)
        return f"${name}"

    def directives(self) -> str:
        """No directive most of the time, else some ``@skip``/``@include``."""
        chosen = self.draw(st.lists(st.sampled_from(["skip", "include"]), max_size=2, unique=True))
        if not chosen or self.draw(st.booleans()):
            return ""
        return "".join(f" @{name}(if: {self.condition()})" for name in chosen)

    def selection(self, type_name: str, depth: int) -> str:
        """A non-empty selection set on ``type_name``: random fields, aliases and wrappings."""
        names = LEAVES[type_name] + (list(OBJECTS[type_name]) if depth < 2 else [])
        picked = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=6))
        parts = []
        for name in picked:
            alias = self.draw(st.sampled_from(["", "", f"{name.strip('_')}_1", f"{name}_2"]))
            text = f"{alias}: {name}" if alias else name
            text += self.directives()
            if name in OBJECTS[type_name]:
                text += " { " + self.selection(OBJECTS[type_name][name], depth + 1) + " }"
            parts.append(self.wrap(type_name, text))
        return " ".join(parts)

    def wrap(self, type_name: str, text: str) -> str:
        """``text`` as is, in an inline fragment, or in a named fragment."""
        how = self.draw(st.sampled_from(["plain", "plain", "inline", "typed", "named"]))
        if how == "inline":
            return f"...{self.directives()} {{ {text} }}"
        if how == "typed":
            return f"... on {type_name}{self.directives()} {{ {text} }}"
        if how == "named":
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {type_name} {{ {text} }}")
            return f"...{name}{self.directives()}"
        return text


PAGE_INFO = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
ORDERINGS: dict[str, list[dict[str, Any]] | None] = {
    "id": None,
    "title": [{"title": "ASC"}],
    "views": [{"viewCount": "DESC"}],
}
"""The orderings random connection queries use, by the name their cursor markers carry."""


def connection_selection(builder: DocumentBuilder, node_type: str) -> str:
    """A random selection on ``<node_type>Connection``: edges, pageInfo, totalCount, aliased."""
    connection = f"{node_type}Connection"
    picked = builder.draw(
        st.lists(
            st.sampled_from(["edges", "pageInfo", "pageInfo", "totalCount"]), min_size=1, max_size=4
        )
    )
    parts = []
    for name in picked:
        alias = builder.draw(st.sampled_from(["", "", f"{name}_1", f"{name}_2"]))
        text = (f"{alias}: {name}" if alias else name) + builder.directives()
        if name == "edges":
            cursor = builder.draw(st.sampled_from(["", "cursor", "c_1: cursor"]))
            text += f" {{ {cursor} node {{ {builder.selection(node_type, 0)} }} }}"
        elif name == "pageInfo":
            fields = builder.draw(st.lists(st.sampled_from(PAGE_INFO), min_size=1, max_size=3))
            text += " { " + " ".join(fields) + " }"
        parts.append(builder.wrap(connection, text))
    return " ".join(parts)


def page_arguments(builder: DocumentBuilder, kind: str, size: int, ordering: str) -> str:
    """Random ``first``/``after`` or ``last``/``before`` arguments (cursors as markers)."""
    arguments = []
    order_by = ORDERINGS[ordering]
    if order_by is not None:
        ((key, direction),) = order_by[0].items()
        arguments.append(f"orderBy: [{{{key}: {direction}}}]")
    forward = builder.draw(st.booleans())
    arguments.append(f"{'first' if forward else 'last'}: {builder.draw(st.integers(0, 5))}")
    if builder.draw(st.booleans()):
        index = builder.draw(st.integers(0, size - 1))
        side = "after" if forward else "before"
        arguments.append(f'{side}: "#CURSOR:{kind}:{ordering}:{index}#"')
    return ", ".join(arguments)


@st.composite
def random_documents(draw: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """A valid query over Post or User with random selections, and its variable values."""
    builder = DocumentBuilder(draw)
    root = draw(st.sampled_from(["posts", "post", "user", "users", "postsConnection"]))
    if root == "posts":
        limit, offset = draw(st.integers(0, 6)), draw(st.integers(0, 295))
        body = f"posts(limit: {limit}, offset: {offset}) {{ {builder.selection('Post', 0)} }}"
    elif root == "post":
        index = draw(st.integers(0, 299))
        body = f'post(identifier: "#POST{index}#") {{ {builder.selection("Post", 0)} }}'
    elif root == "user":
        index = draw(st.integers(0, 39))
        body = f'user(identifier: "#USER{index}#") {{ {builder.selection("User", 0)} }}'
    elif root == "users":
        arguments = page_arguments(builder, "users", 40, "id")
        body = f"users({arguments}) {{ {connection_selection(builder, 'User')} }}"
    else:
        ordering = draw(st.sampled_from(sorted(ORDERINGS)))
        arguments = page_arguments(builder, "posts", 300, ordering)
        body = f"postsConnection({arguments}) {{ {connection_selection(builder, 'Post')} }}"
    definitions = ", ".join(f"${name}: {kind}" for name, (kind, _) in builder.variables.items())
    header = f"query({definitions})" if definitions else "query"
    query = " ".join([f"{header} {{ {body} }}", *builder.fragments])
    values = {name: value for name, (_, value) in builder.variables.items() if value is not None}
    return query, values


def _replace_markers(query: str, data: BlogData) -> str:
    """Put identifiers and cursors of the oracle's data in place of the generator's markers."""
    documents = {"posts": data.posts, "users": data.users}
    for marker, rows in (("#POST", data.posts), ("#USER", data.users)):
        while marker in query:
            start = query.index(marker)
            end = query.index("#", start + 1)
            index = int(query[start + len(marker) : end])
            query = query[:start] + rows[index % len(rows)]["identifier"] + query[end + 1 :]
    while "#CURSOR:" in query:
        start = query.index("#CURSOR:")
        end = query.index("#", start + 1)
        _, kind, ordering, index = query[start + 1 : end].split(":")
        keys, rows = ordered(documents[kind], ORDERINGS[ordering])
        row = rows[int(index) % len(rows)]
        query = query[:start] + cursor_of(keys, row) + query[end + 1 :]
    return query


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=random_documents())
async def test_random_selections_match_graphql_core(
    document: tuple[str, dict[str, Any]], unlimited_blog_schema: Schema, blog_data: BlogData
) -> None:
    query, variables = document
    query = _replace_markers(query, blog_data)
    schema = unlimited_blog_schema  # generated selections may exceed the alias or cost limits
    assert not validate(schema.graphql_schema, parse(query)), query
    actual, expected = await fraiseql_and_oracle(schema, blog_data, query, variables)
    assert_same_response(actual, expected, query)
    assert "errors" not in actual, actual["errors"]


def test_the_oracle_uses_the_page_sizes_of_the_schema(blog_schema: Schema) -> None:
    for name in ("posts", "postsConnection", "users", "organisations", "comments"):
        root = blog_schema.model.queries[name]
        assert (root.max_page_size, root.default_page_size) == (MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)


def test_sort_keys_end_with_the_id() -> None:
    keys = sort_keys([{"author": {"name": "ASC"}}, {"viewCount": "DESC"}])
    assert [(k.path, k.descending, k.label) for k in keys] == [
        (("author", "name"), False, "author.name"),
        (("view_count",), True, "viewCount"),
        (("id",), False, "@id"),
    ]
