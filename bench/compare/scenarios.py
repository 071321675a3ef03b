"""The scenarios: one GraphQL document per system, and the check that the answers agree.

Every system answers the same question in each scenario; only the document's spelling differs:

- FraiseQL: the example blog's API (``examples/blog/schema.py``);
- Strawberry and Graphene: written for this comparison with the same field names, except that
  ``posts`` takes only ``limit`` (ordered by identifier) and ``postsConnection`` takes the
  author's id as ``authorId``;
- PostGraphile: its generated API over the ``tb_*`` tables, with GraphQL aliases giving the
  answer FraiseQL's shape. What aliases cannot do is ``normalise``'s mapping, kept explicit:
  enum values come as the column's lower-case text, nested lists as ``{nodes: [...]}``, and its
  create payload has no status;
- the floor answers FraiseQL's documents (it serves exactly these bodies).

``check`` compares parsed JSON strictly (same keys, values and list order); date-times are
compared as instants, since each system prints them its own way (``+00:00`` with or without
``.000000``).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

SYSTEMS = ("fraiseql", "floor", "strawberry", "graphene", "postgraphile")
SCENARIOS = (
    "post_by_id",
    "posts20_author",
    "posts100_nested",
    "posts_connection",
    "create_post",
    "mix",
)
IDENT = "__IDENT__"
"""Replaced in the create documents by a fresh identifier per request (the load script does)."""
CREATED_PREFIX = "zzz-bench-"
"""Identifiers of the posts the benchmark creates: after every seeded one, removed after a run."""

MIX = (
    "post_by_id",
    "post_by_id",
    "post_by_id",
    "posts20_author",
    "posts20_author",
    "posts_connection",
    "posts_connection",
    "posts100_nested",
    "create_post",
)
"""The mix, sent round-robin: mostly small reads, some lists, one write in nine."""

DATETIME_KEYS = frozenset({"createdAt", "publishedAt"})


@dataclass(frozen=True, slots=True)
class Parameters:
    """The rows the scenarios are about, picked from the seeded data."""

    post_id: str  # a published post with comments
    author_id: str  # an author with more than ten posts (the connection)
    author_pk: int
    creator_id: str  # another author, who writes the created posts
    creator_pk: int
    creator_organisation_pk: int  # the creator's organisation (posts are per tenant)


async def parameters(dsn: str) -> Parameters:
    """Deterministic picks: the lowest identifiers that fit."""
    connection = await asyncpg.connect(dsn)
    try:
        post_id = await connection.fetchval(
            "SELECT p.id::text FROM tb_post p WHERE p.status = 'published' "
            "AND EXISTS (SELECT 1 FROM tb_comment c WHERE c.fk_post = p.pk_post) "
            "ORDER BY p.identifier LIMIT 1"
        )
        authors = await connection.fetch(
            "SELECT u.id::text, u.pk_user, u.fk_organisation FROM tb_user u "
            "WHERE (SELECT count(*) FROM tb_post p WHERE p.fk_user = u.pk_user) > 10 "
            "ORDER BY u.pk_user LIMIT 2"
        )
    finally:
        await connection.close()
    if post_id is None or len(authors) < 2:
        raise SystemExit("bench: the database holds too little data for the scenarios")
    return Parameters(
        post_id, authors[0][0], authors[0][1], authors[1][0], authors[1][1], authors[1][2]
    )


# --- the documents -------------------------------------------------------------------------------

_POST = "id identifier title status tags viewCount createdAt author { id name }"
_LIST20 = "id title author { id name }"
_LIST100 = "id title author { id name } comments { id body createdAt author { id name } }"
_PAGE = "totalCount pageInfo { hasNextPage } edges { node { id title createdAt } }"
_CREATED = "status post { id identifier title status tags author { id name } }"
# Creates send their input as variables, as GraphQL clients do: the document stays the same
# (and cached where the system caches documents), the identifier changes per request.
_CREATE = "mutation Create($input: @!) { @(input: $input) { @ } }"


def _fill(template: str, *values: object) -> str:
    """``template`` with each ``@`` replaced by the next value (documents are full of braces)."""
    parts = template.split("@")
    if len(parts) != len(values) + 1:
        raise ValueError(f"{template!r} takes {len(parts) - 1} values")
    return (
        "".join(part + str(value) for part, value in zip(parts, values, strict=False)) + parts[-1]
    )


def _fraiseql(p: Parameters) -> dict[str, str]:
    return {
        "post_by_id": _fill('{ post(id: "@") { @ } }', p.post_id, _POST),
        "posts20_author": _fill(
            "{ posts(limit: 20, orderBy: [{identifier: ASC}]) { @ } }", _LIST20
        ),
        "posts100_nested": _fill(
            "{ posts(limit: 100, orderBy: [{identifier: ASC}]) { @ } }", _LIST100
        ),
        "posts_connection": _fill(
            '{ postsConnection(where: {author: {id: {eq: "@"}}}, orderBy: [{createdAt: DESC}], '
            "first: 10) { @ } }",
            p.author_id,
            _PAGE,
        ),
        "create_post": _fill(_CREATE, "CreatePostInput", "createPost", _CREATED),
    }


def _python_peer(p: Parameters) -> dict[str, str]:
    documents = _fraiseql(p)
    documents["posts20_author"] = _fill("{ posts(limit: 20) { @ } }", _LIST20)
    documents["posts100_nested"] = _fill("{ posts(limit: 100) { @ } }", _LIST100)
    documents["posts_connection"] = _fill(
        '{ postsConnection(authorId: "@", first: 10) { @ } }', p.author_id, _PAGE
    )
    return documents


# Foreign keys are per tenant, (fk_user, fk_organisation): PostGraphile names the relations
# after both columns.
_PG_AUTHOR = "author: tbUserByFkUserAndFkOrganisation { id: rowId name }"


def _postgraphile(p: Parameters) -> dict[str, str]:
    comments = _fill(
        "comments: tbCommentsByFkPostAndFkOrganisation(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) "
        "{ nodes { id: rowId body createdAt @ } }",
        _PG_AUTHOR,
    )
    return {
        "post_by_id": _fill(
            '{ post: tbPostByRowId(rowId: "@") '
            "{ id: rowId identifier title status tags viewCount createdAt @ } }",
            p.post_id,
            _PG_AUTHOR,
        ),
        "posts20_author": _fill(
            "{ posts: allTbPosts(first: 20, orderBy: [IDENTIFIER_ASC]) "
            "{ nodes { id: rowId title @ } } }",
            _PG_AUTHOR,
        ),
        "posts100_nested": _fill(
            "{ posts: allTbPosts(first: 100, orderBy: [IDENTIFIER_ASC]) "
            "{ nodes { id: rowId title @ @ } } }",
            _PG_AUTHOR,
            comments,
        ),
        "posts_connection": _fill(
            "{ postsConnection: allTbPosts(condition: {fkUser: @}, "
            "orderBy: [CREATED_AT_DESC, ROW_ID_ASC], first: 10) { totalCount "
            "pageInfo { hasNextPage } edges { node { id: rowId title createdAt } } } }",
            p.author_pk,
        ),
        "create_post": _fill(
            _CREATE,
            "CreateTbPostInput",
            "createPost: createTbPost",
            _fill("post: tbPost { id: rowId identifier title status tags @ }", _PG_AUTHOR),
        ),
    }


def documents(system: str, p: Parameters) -> dict[str, str]:
    """The GraphQL document of each scenario but ``mix`` for ``system``."""
    if system in ("fraiseql", "floor"):
        return _fraiseql(p)
    if system in ("strawberry", "graphene"):
        return _python_peer(p)
    if system == "postgraphile":
        return _postgraphile(p)
    raise ValueError(system)


def create_variables(system: str, p: Parameters, identifier: str = IDENT) -> dict[str, Any]:
    """The variables of the create document: a draft post by ``p.creator``."""
    if system == "postgraphile":
        post = {
            "identifier": identifier,
            "title": "Benchmark post",
            "body": "Written by bench.compare.",
            "fkUser": p.creator_pk,
            "fkOrganisation": p.creator_organisation_pk,
            "status": "draft",
            "tags": ["performance"],
            "categoryPath": "tech.databases",
        }
        return {"input": {"tbPost": post}}
    return {
        "input": {
            "identifier": identifier,
            "title": "Benchmark post",
            "body": "Written by bench.compare.",
            "author": p.creator_id,
            "status": "DRAFT",
            "tags": ["performance"],
            "categoryPath": "tech.databases",
        }
    }


def body(system: str, p: Parameters, scenario: str, identifier: str = IDENT) -> str:
    """The JSON request body of one scenario but ``mix``."""
    payload: dict[str, Any] = {"query": documents(system, p)[scenario]}
    if scenario == "create_post":
        payload["variables"] = create_variables(system, p, identifier)
    return json.dumps(payload)


def bodies(system: str, p: Parameters) -> dict[str, list[str]]:
    """The request bodies (JSON text) of each scenario, ``mix`` included, sent round-robin."""
    single = {name: [body(system, p, name)] for name in documents(system, p)}
    single["mix"] = [single[name][0] for name in MIX]
    return single


# --- the check -----------------------------------------------------------------------------------


def normalise(system: str, data: Any) -> Any:
    """``data`` in FraiseQL's shape and with comparable values (see the module docstring)."""
    if isinstance(data, list):
        return [normalise(system, item) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if system == "postgraphile" and isinstance(value, dict) and set(value) == {"nodes"}:
            value = value["nodes"]  # a connection's nodes as the plain list
        if system == "postgraphile" and key == "status" and isinstance(value, str):
            value = value.upper()  # the text column as the enum's name
        if key in DATETIME_KEYS and isinstance(value, str):
            out[key] = datetime.datetime.fromisoformat(value)
        else:
            out[key] = normalise(system, value)
    if system == "postgraphile" and set(out) == {"createPost"} and out["createPost"]:
        out["createPost"] = {"status": "SUCCESS", **out["createPost"]}
    return out


def created_view(data: Any, identifier: str) -> Any:
    """A create answer with the new post's id and identifier replaced by placeholders.

    The identifier must be the one sent; the id is random, so only its presence is checked.
    """
    payload = data["createPost"]
    post = payload["post"]
    if post["identifier"] != identifier or not post.get("id"):
        raise AssertionError(f"created post {post!r} is not {identifier!r}")
    return {"createPost": {**payload, "post": {**post, "id": "<new>", "identifier": "<ident>"}}}


def differences(expected: Any, got: Any, path: str = "$") -> list[str]:
    """Where ``got`` differs from ``expected`` (strict: keys, values, list lengths and order)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        found = []
        for key in sorted(set(expected) | set(got)):
            if key not in got or key not in expected:
                found.append(f"{path}.{key}: only on one side")
            else:
                found.extend(differences(expected[key], got[key], f"{path}.{key}"))
        return found
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{path}: {len(expected)} items expected, {len(got)} got"]
        found = []
        for index, (left, right) in enumerate(zip(expected, got, strict=True)):
            found.extend(differences(left, right, f"{path}[{index}]"))
        return found
    if type(expected) is not type(got) or expected != got:
        return [f"{path}: expected {expected!r}, got {got!r}"]
    return []
