"""graphql-core as the oracle of FraiseQL's executor.

The same ``GraphQLSchema`` that FraiseQL validates with is executed by graphql-core's own
``execute``. Its root resolvers answer from the read-model documents loaded into Python, filtered,
ordered and paginated by the Python code below (never by FraiseQL's SQL), so that the two
responses, data and errors, can be compared as a whole. Cursors are opaque: the oracle computes
the key values a cursor carries and wraps them with FraiseQL's cursor codec (``fraiseql.sql.cursor``).

Only the parts of ``where`` and ``orderBy`` that the oracle queries use are implemented; anything
else raises ``NotImplementedError`` so a test cannot silently compare against a wrong oracle.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import difflib
import enum
import functools
import inspect
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import pytest
from examples.blog.schema import (
    QUERIES,
    TYPES,
    Author,
    OrganisationRef,
    PostComment,
    PostStatus,
    SearchResult,
    UserRole,
)
from graphql import GraphQLError, execute, parse, validate

import fraiseql
from fraiseql import FraiseQLError, Schema
from fraiseql.sql.cursor import encode_cursor, ordering_signature
from fraiseql.types.scalars import UUID, DateTime, EmailAddress

MAX_PAGE_SIZE = 100
"""The schema's default maximum page size (``limit``/``first``/``last``)."""
DEFAULT_PAGE_SIZE = 20
"""The page size of a connection queried without ``first`` or ``last``."""
INVALID_RESPONSE_VALUE = "INVALID_RESPONSE_VALUE"
"""The code of the errors FraiseQL reports for values that do not fit the schema."""

# --- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlogData:
    """Every read-model document of the blog database, each list ordered by id."""

    organisations: list[dict[str, Any]]
    users: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    comments: list[dict[str, Any]]


def display_name(user: Mapping[str, Any]) -> str:
    """What ``User.displayName`` computes, written again for the oracle."""
    return f"{user['name']} (@{user['identifier']})"


async def load_blog_data(connection: asyncpg.Connection) -> BlogData:
    """Read the ``data`` documents of every ``tv_*`` table."""

    async def documents(table: str) -> list[dict[str, Any]]:
        rows = await connection.fetch(f"SELECT data::text FROM {table}")
        loaded = [orjson.loads(row[0]) for row in rows]
        return sorted(loaded, key=lambda d: uuid.UUID(d["id"]))

    users = await documents("tv_user")
    for user in users:
        # graphql-core's field resolvers read dict keys; FraiseQL runs the Python resolver.
        user["display_name"] = display_name(user)
    return BlogData(
        organisations=await documents("tv_organisation"),
        users=users,
        posts=await documents("tv_post"),
        comments=await documents("tv_comment"),
    )


# --- where --------------------------------------------------------------------------------------

_OBJECT_FIELDS = frozenset({"author", "organisation", "post"})
_LIST_FIELDS = frozenset({"tags"})


def snake_case(name: str) -> str:
    """``viewCount`` → ``view_count``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _plain(value: Any) -> Any:
    """An input value as the read model stores it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def matches(document: Mapping[str, Any] | None, where: Mapping[str, Any] | None) -> bool:
    """Whether a document satisfies a ``where`` input (null and missing values match nothing)."""
    if where is None:
        return True
    for key, value in where.items():
        if key == "and":
            ok = all(matches(document, item) for item in value)
        elif key == "or":
            ok = any(matches(document, item) for item in value)
        elif key == "not":
            ok = not matches(document, value)
        else:
            name = snake_case(key)
            stored = document.get(name) if document is not None else None
            if name in _OBJECT_FIELDS:
                ok = matches(stored if isinstance(stored, dict) else None, value)
            elif name in _LIST_FIELDS:
                ok = _list_matches(stored, value)
            else:
                ok = _leaf_matches(stored, value)
        if not ok:
            return False
    return True


def _leaf_matches(stored: Any, operators: Mapping[str, Any]) -> bool:
    for op, raw in operators.items():
        operand = [_plain(v) for v in raw] if isinstance(raw, list) else _plain(raw)
        if op == "isNull":
            ok = (stored is None) == operand
        elif stored is None:
            ok = False
        elif op == "eq":
            ok = stored == operand
        elif op == "neq":
            ok = stored != operand
        elif op == "lt":
            ok = stored < operand
        elif op == "lte":
            ok = stored <= operand
        elif op == "gt":
            ok = stored > operand
        elif op == "gte":
            ok = stored >= operand
        elif op == "in":
            ok = stored in operand
        elif op == "nin":
            ok = stored not in operand
        elif op == "contains":
            ok = operand in stored
        elif op == "startsWith":
            ok = stored.startswith(operand)
        elif op == "endsWith":
            ok = stored.endswith(operand)
        else:
            raise NotImplementedError(f"the oracle has no operator {op!r}")
        if not ok:
            return False
    return True


def _list_matches(stored: Any, operators: Mapping[str, Any]) -> bool:
    for op, operand in operators.items():
        if op == "isNull":
            ok = (stored is None) == operand
        elif not isinstance(stored, list):
            ok = False
        elif op == "contains":
            ok = all(_plain(v) in stored for v in operand)
        elif op == "overlaps":
            ok = any(_plain(v) in stored for v in operand)
        elif op == "isEmpty":
            ok = (len(stored) == 0) == operand
        else:
            raise NotImplementedError(f"the oracle has no list operator {op!r}")
        if not ok:
            return False
    return True


# --- orderBy and cursors ------------------------------------------------------------------------

_TEMPORAL = frozenset({"created_at", "published_at"})


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ordering key: where to read it in a document, its direction and its cursor label."""

    path: tuple[str, ...]
    descending: bool
    label: str

    def read(self, document: Mapping[str, Any]) -> Any:
        """The key's value in a document, typed for comparison."""
        value: Any = document
        for name in self.path:
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None and self.path[-1] in _TEMPORAL:
            return dt.datetime.fromisoformat(value)
        if self.path == ("id",):
            return uuid.UUID(value)
        return value

    def cursor_text(self, document: Mapping[str, Any]) -> str | None:
        """The key's value as PostgreSQL renders it as text (what cursors carry)."""
        value = self.read(document)
        if value is None:
            return None
        if isinstance(value, bool):
            raise NotImplementedError("the oracle does not page by booleans")
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        if isinstance(value, dt.datetime):
            raise NotImplementedError("the oracle does not page by timestamps")
        return str(value)


def sort_keys(order_by: Sequence[Mapping[str, Any]] | None) -> list[SortKey]:
    """The keys of an ``orderBy`` list, then the id that makes every ordering total."""
    keys: list[SortKey] = []
    for item in order_by or ():
        path: list[str] = []
        labels: list[str] = []
        node: Any = item
        while isinstance(node, Mapping):
            ((name, node),) = [(k, v) for k, v in node.items() if v is not None]
            path.append(snake_case(name))
            labels.append(name)
        keys.append(SortKey(tuple(path), node == "DESC", ".".join(labels)))
    keys.append(SortKey(("id",), False, "@id"))
    return keys


def _compare(keys: Sequence[SortKey], a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
    for key in keys:
        x, y = key.read(a), key.read(b)
        if x is None and y is None:
            continue
        if x is None:
            return 1  # nulls last, whatever the direction
        if y is None:
            return -1
        if x != y:
            result = -1 if x < y else 1
            return -result if key.descending else result
    return 0


def ordered(
    documents: Sequence[dict[str, Any]], order_by: Sequence[Mapping[str, Any]] | None
) -> tuple[list[SortKey], list[dict[str, Any]]]:
    """The documents sorted by an ``orderBy`` list (nulls last, ties broken by id)."""
    keys = sort_keys(order_by)
    return keys, sorted(documents, key=functools.cmp_to_key(functools.partial(_compare, keys)))


def cursor_of(keys: Sequence[SortKey], document: Mapping[str, Any]) -> str:
    """The cursor of a document under an ordering."""
    signature = ordering_signature([k.label + (" desc" if k.descending else "") for k in keys])
    return encode_cursor(signature, [k.cursor_text(document) for k in keys])


def _cursor_position(
    cursor: str, keys: Sequence[SortKey], rows: Sequence[Mapping[str, Any]]
) -> int:
    """The index in ``rows`` of the row a cursor points at (the oracle only pages by live rows)."""
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise FraiseQLError("Invalid cursor") from None
    if not isinstance(payload, list) or len(payload) != 3:
        raise FraiseQLError("Invalid cursor")
    if payload[1] != ordering_signature(
        [k.label + (" desc" if k.descending else "") for k in keys]
    ):
        raise FraiseQLError("Invalid cursor: it belongs to another ordering")
    for index, row in enumerate(rows):
        if cursor_of(keys, row) == cursor:
            return index
    raise NotImplementedError("the oracle only pages from the cursor of an existing row")


# --- the root resolvers of auto fields ----------------------------------------------------------


def _check_count(name: str, value: int | None) -> None:
    if value is None:
        return
    if value < 0:
        raise FraiseQLError(f"'{name}' must not be negative")
    if value > MAX_PAGE_SIZE:
        raise FraiseQLError(f"'{name}' must be at most {MAX_PAGE_SIZE} (the maximum page size)")


def _one(field: str, documents: Sequence[dict[str, Any]], by_id: Any, by_identifier: Any) -> Any:
    if (by_id is None) == (by_identifier is None):
        raise FraiseQLError(f"'{field}' needs exactly one of 'id' and 'identifier'")
    key, wanted = ("id", str(by_id)) if by_id is not None else ("identifier", by_identifier)
    for document in documents:
        if document[key] == wanted:
            return copy.deepcopy(document)
    return None


def _list(
    documents: Sequence[dict[str, Any]],
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[dict[str, Any]]:
    _check_count("limit", limit)
    offset = offset or 0
    if offset < 0:
        raise FraiseQLError("'offset' must not be negative")
    _, rows = ordered([d for d in documents if matches(d, where)], order_by)
    stop = offset + (MAX_PAGE_SIZE if limit is None else limit)
    return copy.deepcopy(rows[offset:stop])


def _connection(
    documents: Sequence[dict[str, Any]],
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    if first is not None and last is not None:
        raise FraiseQLError("give 'first' or 'last', not both")
    _check_count("first", first)
    _check_count("last", last)
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    keys, rows = ordered([d for d in documents if matches(d, where)], order_by)
    start, stop = 0, len(rows)
    if after is not None:
        start = _cursor_position(after, keys, rows) + 1
    if before is not None:
        stop = _cursor_position(before, keys, rows)
    window = rows[start:stop]
    if first is not None:
        page = window[:first]
        has_next, has_previous = len(window) > first, after is not None and start > 0
    else:
        assert last is not None
        page = window[len(window) - last :] if last else []
        has_previous, has_next = len(window) > last, before is not None and stop < len(rows)
    edges = [{"node": copy.deepcopy(row), "cursor": cursor_of(keys, row)} for row in page]
    return {
        "edges": edges,
        "page_info": {
            "has_next_page": has_next,
            "has_previous_page": has_previous,
            "start_cursor": edges[0]["cursor"] if edges else None,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
        "total_count": len(rows),
    }


def oracle_root(data: BlogData) -> dict[str, Callable[..., Any]]:
    """The root value of graphql-core's execution: one function per root field, by GraphQL name.

    graphql-core's default resolver calls them as ``function(info, **arguments)`` with the
    arguments under their Python names. Custom root fields call the same functions FraiseQL calls.
    """
    return {
        "post": lambda _info, id=None, identifier=None: _one("post", data.posts, id, identifier),
        "posts": lambda _info, **args: _list(data.posts, **args),
        "postsConnection": lambda _info, **args: _connection(data.posts, **args),
        "user": lambda _info, id=None, identifier=None: _one("user", data.users, id, identifier),
        "users": lambda _info, **args: _connection(data.users, **args),
        "organisations": lambda _info, **args: _list(data.organisations, **args),
        "comments": lambda _info, **args: _list(data.comments, **args),
        "search": search,
        "entities": entities,
        "entityObjects": entity_objects,
    }


# --- custom root fields over the same data: a union and an interface -----------------------------


@fraiseql.enum
class EntityKind(enum.Enum):
    """Which read model an entity comes from."""

    ORGANISATION = "organisation"
    USER = "user"
    POST = "post"


@fraiseql.interface
class Entity:
    """Anything with an id and a slug."""

    id: UUID
    identifier: str


@fraiseql.type
class OrganisationEntity(Entity):
    name: str
    created_at: DateTime


@fraiseql.type
class UserEntity(Entity):
    name: str
    email: EmailAddress
    role: UserRole
    bio: str | None
    organisation: OrganisationRef


@fraiseql.type
class PostEntity(Entity):
    title: str
    status: PostStatus
    tags: list[str]
    rating: float | None
    published_at: DateTime | None
    author: Author
    comments: list[PostComment]


def _blog(info: Any) -> BlogData:
    blog = info.context["blog"]
    assert isinstance(blog, BlogData)
    return blog


def _tagged(typename: str, document: Mapping[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(dict(document)), "__typename": typename}


@fraiseql.query
def search(info, text: str, limit: int = 10) -> list[SearchResult]:
    """Posts whose title and users whose name contain ``text``, posts first."""
    blog = _blog(info)
    found = [_tagged("Post", p) for p in blog.posts if text in p["title"]][:limit]
    found += [_tagged("User", u) for u in blog.users if text in u["name"]][:limit]
    return found  # type: ignore[return-value]


_ENTITY_TYPES = {
    EntityKind.ORGANISATION: "OrganisationEntity",
    EntityKind.USER: "UserEntity",
    EntityKind.POST: "PostEntity",
}


def _documents(blog: BlogData, kind: EntityKind) -> list[dict[str, Any]]:
    return {
        EntityKind.ORGANISATION: blog.organisations,
        EntityKind.USER: blog.users,
        EntityKind.POST: blog.posts,
    }[kind]


@fraiseql.query
async def entities(info, kinds: list[EntityKind] | None = None, limit: int = 3) -> list[Entity]:
    """The first ``limit`` documents of each kind, as dicts tagged with ``__typename``."""
    assert all(isinstance(kind, EntityKind) for kind in kinds or ())
    blog = _blog(info)
    return [  # type: ignore[misc]
        _tagged(_ENTITY_TYPES[kind], document)
        for kind in kinds or list(EntityKind)
        for document in _documents(blog, kind)[:limit]
    ]


def _as_object(kind: EntityKind, document: Mapping[str, Any]) -> Entity:
    """A document as an instance of its entity class, with Python values for the scalars."""
    common = {"id": uuid.UUID(document["id"]), "identifier": document["identifier"]}
    if kind is EntityKind.ORGANISATION:
        return OrganisationEntity(
            **common,
            name=document["name"],
            created_at=dt.datetime.fromisoformat(document["created_at"]),
        )
    if kind is EntityKind.USER:
        return UserEntity(
            **common,
            name=document["name"],
            email=document["email"],
            role=UserRole(document["role"]),
            bio=document["bio"],
            organisation=OrganisationRef(
                id=uuid.UUID(document["organisation"]["id"]),
                identifier=document["organisation"]["identifier"],
                name=document["organisation"]["name"],
            ),
        )
    published = document["published_at"]
    return PostEntity(
        **common,
        title=document["title"],
        status=PostStatus(document["status"]),
        tags=list(document["tags"]),
        rating=document["rating"],
        published_at=dt.datetime.fromisoformat(published) if published else None,
        author=copy.deepcopy(document["author"]),
        comments=copy.deepcopy(document["comments"]),
    )


@fraiseql.query
def entity_objects(info, kind: EntityKind, offset: int = 0, limit: int = 3) -> list[Entity]:
    """Documents of one kind as class instances (``__typename`` told by the class)."""
    documents = _documents(_blog(info), kind)[offset : offset + limit]
    return [_as_object(kind, document) for document in documents]


EXTENDED_TYPES = [*TYPES, OrganisationEntity, UserEntity, PostEntity]
EXTENDED_QUERIES = [*QUERIES, search, entities, entity_objects]


def location(query: str, snippet: str, occurrence: int = 0) -> dict[str, int]:
    """The line and column (1-based) of the ``occurrence``-th ``snippet`` in ``query``."""
    index = -1
    for _ in range(occurrence + 1):
        index = query.index(snippet, index + 1)
    line = query.count("\n", 0, index) + 1
    column = index - (query.rfind("\n", 0, index) + 1) + 1
    return {"line": line, "column": column}


# --- running both and comparing -----------------------------------------------------------------


def _formatted(error: GraphQLError) -> dict[str, Any]:
    entry = dict(error.formatted)
    original = error.original_error
    if isinstance(original, FraiseQLError):
        entry["extensions"] = {"code": original.code, **original.extensions}
    elif "extensions" not in entry:
        # The oracle's resolvers only raise FraiseQLError; any other error is graphql-core's
        # own completion error (a null in a non-null field, a value a scalar cannot
        # represent), which FraiseQL tags with this code.
        entry["extensions"] = {"code": INVALID_RESPONSE_VALUE}
    return entry


async def execute_reference(
    schema: Schema,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    root_value: Any = None,
    context: Any = None,
) -> dict[str, Any]:
    """graphql-core's response to a valid query over ``schema.graphql_schema``, as JSON data."""
    document = parse(query)
    errors = validate(schema.graphql_schema, document)
    assert not errors, f"the reference only runs valid documents: {errors}"
    result = execute(
        schema.graphql_schema,
        document,
        root_value=root_value,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    if inspect.isawaitable(result):
        result = await result
    response: dict[str, Any] = {}
    if result.errors:
        response["errors"] = [_formatted(e) for e in result.errors]
    response["data"] = result.data
    # Round-trip through JSON, as FraiseQL's response is, so that both hold the same types.
    return orjson.loads(orjson.dumps(response))  # type: ignore[no-any-return]


def custom_root(schema: Schema) -> dict[str, Callable[..., Any]]:
    """A graphql-core root value calling the custom root resolvers of a schema as FraiseQL does."""
    root: dict[str, Callable[..., Any]] = {}
    for name, field in schema.model.queries.items():
        function = field.definition.function
        if field.info_parameter:
            root[name] = function
        else:
            root[name] = functools.partial(lambda f, _info, **args: f(**args), function)
    return root


async def run_graphql_core(
    schema: Schema,
    data: BlogData,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> dict[str, Any]:
    """graphql-core's response to a (valid) query over the oracle's data."""
    return await execute_reference(
        schema,
        query,
        variables,
        operation_name,
        root_value=oracle_root(data),
        context={"blog": data},
    )


def canonical(response: Mapping[str, Any]) -> dict[str, Any]:
    """A response in a form where ``==`` also checks the order of object keys.

    The order of errors is not specified by GraphQL, so errors are compared as a sorted list.
    """

    def keep_order(value: Any) -> Any:
        if isinstance(value, dict):
            return [("{}", key, keep_order(item)) for key, item in value.items()]
        if isinstance(value, list):
            return [keep_order(item) for item in value]
        return value

    result: dict[str, Any] = {"data": keep_order(response.get("data", "<missing>"))}
    errors = response.get("errors")
    if errors is not None:
        result["errors"] = sorted(
            errors, key=lambda e: orjson.dumps(e, option=orjson.OPT_SORT_KEYS)
        )
    return result


def _pretty(response: Mapping[str, Any]) -> list[str]:
    text = orjson.dumps(response, option=orjson.OPT_INDENT_2).decode()
    return text.splitlines()


def assert_same_response(
    actual: Mapping[str, Any], expected: Mapping[str, Any], note: str = ""
) -> None:
    """Fail with a readable diff unless the responses are equal (key order included)."""
    if canonical(actual) == canonical(expected):
        return
    diff = difflib.unified_diff(
        _pretty(expected), _pretty(actual), "graphql-core", "fraiseql", lineterm="", n=4
    )
    pytest.fail(f"{note}\n" + "\n".join(diff), pytrace=False)


async def fraiseql_and_oracle(
    schema: Schema,
    data: BlogData,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """FraiseQL's response and graphql-core's."""
    actual = await schema.run(query, variables, operation_name, context={"blog": data})
    expected = await run_graphql_core(schema, data, query, variables, operation_name)
    return actual, expected
