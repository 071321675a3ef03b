"""Which stored keys the planner leaves in the database, decided per root field selection.

No database: these tests read ``RootPlan.pruned`` from the plans the executor builds.
"""

from __future__ import annotations

from typing import Any

import pytest
from examples.blog.schema import MUTATIONS, QUERIES, TYPES, Author, Post, PostStatus

import fraiseql
from fraiseql import Schema
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.execution.pruning import unselected_keys
from fraiseql.execution.shapes import ABSTRACT, LIST, OBJECT, Shape
from fraiseql.sql.select import document_column, select_list
from fraiseql.types.scalars import UUID

POST_KEYS = (
    "id",
    "identifier",
    "title",
    "body",
    "status",
    "tags",
    "rating",
    "view_count",
    "version",
    "published_at",
    "created_at",
    "category_path",
    "author",
    "comments",
)
NESTED = (
    "__typename id identifier title status tags rating viewCount publishedAt createdAt "
    "categoryPath author { id name email } comments { id body createdAt author { name } } "
)


def without(*kept: str) -> tuple[str, ...]:
    """The post keys other than ``kept``, in field order."""
    return tuple(key for key in POST_KEYS if key not in kept)


@fraiseql.type(sql_source="tv_post")
class PostCard:
    """A post type with a field resolver that reads a key it does not declare."""

    id: UUID
    title: str
    author: Author

    @fraiseql.field
    def comment_count(self) -> int:
        return len(vars(self)["comments"])


@fraiseql.query
async def cards(info, limit: int | None = None) -> list[PostCard]:
    """Auto list of cards."""


@fraiseql.query
async def latest(info) -> list[Post]:
    """A custom resolver returning posts (it has a body)."""
    return []


@fraiseql.type(sql_source="tv_post")
class PostWithStatus:
    """Only scalar fields besides the author."""

    id: UUID
    title: str
    status: PostStatus
    author: Author


@fraiseql.query
async def statuses(info, limit: int | None = None) -> list[PostWithStatus]:
    """Auto list."""


EXTRA_TYPES = [*TYPES, PostCard, PostWithStatus]
EXTRA_QUERIES = [*QUERIES, cards, latest, statuses]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema(types=EXTRA_TYPES, queries=EXTRA_QUERIES, mutations=MUTATIONS)


def pruned(
    schema: Schema,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    prune: bool | None = None,
) -> Any:
    """``RootPlan.pruned`` of the only data root field of ``query`` (``prune``: the schema's)."""
    prepared = schema.prepare(GraphQLRequest(query, variables))
    model = schema.model
    roots = model.mutations if prepared.operation_type == "mutation" else model.queries
    plan = prepared.plan(  # type: ignore[attr-defined]
        schema.graphql_schema,
        roots,
        schema.executor.serializers,
        variables or {},
        prune=schema.executor.prune_documents if prune is None else prune,
    )
    (root,) = [root for root in plan.roots if root.model is not None]
    return root.pruned


def test_small_selection_drops_every_other_field(schema: Schema) -> None:
    assert pruned(schema, "{ posts { id title } }") == without("id", "title")
    assert pruned(schema, '{ post(identifier: "x") { title author { name } } }') == without(
        "title", "author"
    )


def test_only_scalars_left_out_reads_whole_documents(schema: Schema) -> None:
    """The measured case: leaving out only scalars costs more in SQL than it saves."""
    assert pruned(schema, f"{{ posts {{ {NESTED} }} }}") == ()
    assert pruned(schema, "{ posts { id author { name } comments { body } } }") == ()
    assert pruned(schema, "{ statuses { id author { id } } }") == ()
    assert pruned(schema, "{ statuses { id } }") == ("title", "status", "author")


def test_aliases_and_repeated_fields_keep_the_union(schema: Schema) -> None:
    query = "{ posts { a: title title b: author { name } author { id } c: id } }"
    assert pruned(schema, query) == without("title", "author", "id")


def test_fragments_and_typename(schema: Schema) -> None:
    query = """
    query { posts { ...P ... on Post { comments { body } } __typename } }
    fragment P on Post { id t: title }
    """
    assert pruned(schema, query) == ()  # the comments, a list of objects, are kept
    fragments = "query { posts { ...P __typename } } fragment P on Post { id t: title }"
    assert pruned(schema, fragments) == without("id", "title")
    assert pruned(schema, "{ posts { __typename } }") == POST_KEYS


def test_a_kept_list_of_objects_keeps_the_whole_document(schema: Schema) -> None:
    """Leaving out the author but keeping the comments removes little: measured slower."""
    assert pruned(schema, "{ posts { id comments { body } } }") == ()
    assert pruned(schema, "{ posts { id author { name } } }") == without("id", "author")


def test_skip_and_include_are_decided_per_variable_values(schema: Schema) -> None:
    query = "query($s: Boolean!) { posts { id author @include(if: $s) { name } } }"
    assert pruned(schema, query, {"s": True}) == without("id", "author")
    assert pruned(schema, query, {"s": False}) == without("id")


def test_connection_prunes_per_node_selection(schema: Schema) -> None:
    query = """{ postsConnection(first: 3) {
        totalCount pageInfo { hasNextPage }
        edges { node { id } }
        more: edges { cursor node { title } }
    } }"""
    assert pruned(schema, query) == without("id", "title")
    keeps_list = (
        "{ postsConnection { edges { node { id } } e: edges { node { comments { id } } } } }"
    )
    assert pruned(schema, keeps_list) == ()
    nested = f"{{ postsConnection {{ edges {{ node {{ {NESTED} }} }} }} }}"
    assert pruned(schema, nested) == ()
    assert pruned(schema, "{ postsConnection { totalCount } }") == POST_KEYS


def test_field_resolvers_are_never_pruned(schema: Schema) -> None:
    """A resolver sees the whole document as ``self``: selected or not, nothing is removed."""
    assert pruned(schema, '{ user(identifier: "x") { id } }') == ()
    assert pruned(schema, "{ users { edges { node { id } } } }") == ()
    assert pruned(schema, "{ cards { id } }") == ()
    assert pruned(schema, "{ cards { id commentCount } }") == ()


def test_custom_root_fields_read_nothing(schema: Schema) -> None:
    assert pruned(schema, "{ latest { id } }") == ()


def test_abstract_values_are_never_pruned(schema: Schema) -> None:
    """No auto root field returns an interface or a union today; the rule refuses them anyway."""
    root = schema.model.queries["posts"]
    abstract = Shape(LIST, False, item=Shape(ABSTRACT, False, type_name="Node"))
    assert unselected_keys(root, abstract) == ()
    assert unselected_keys(root, Shape(LIST, False, item=Shape(OBJECT, False, "Post"))) == POST_KEYS
    assert unselected_keys(root, Shape(LIST, False, item=Shape(OBJECT, False, "User"))) == ()


def test_mutation_read_back(schema: Schema) -> None:
    create = "mutation { createPost(input: %s) { status %s } }"
    value = '{identifier: "x", title: "t", author: "a", categoryPath: "a"}'
    assert pruned(schema, create % (value, "post { title }")) == without("title")
    assert pruned(schema, create % (value, "a: post { id } b: post { author { id } }")) == without(
        "id", "author"
    )
    assert pruned(schema, create % (value, "")) == POST_KEYS
    assert pruned(schema, create % (value, f"post {{ {NESTED} }}")) == ()
    batch = f"mutation {{ createPosts(input: [{value}]) {{ status items {{ post {{ id }} }} }} }}"
    assert pruned(schema, batch) == without("id")


def test_the_option_turns_it_off() -> None:
    schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS, prune_documents=False)
    assert pruned(schema, "{ posts { id title } }") == ()
    assert pruned(schema, "{ postsConnection { edges { node { id } } } }") == ()


def test_plans_are_cached_per_prune_value(schema: Schema) -> None:
    query = "{ posts { id } }"
    assert pruned(schema, query, prune=False) == ()
    assert pruned(schema, query, prune=True) == without("id")
    assert pruned(schema, query, prune=False) == ()


def test_statement_removes_keys_in_the_select_list_only(schema: Schema) -> None:
    """``where`` and ``orderBy`` keep reading the whole column; keys are quoted literals."""
    assert document_column('t."data"') == 't."data"::text'
    assert document_column('t."data"', as_bytes=True) == 'textsend(t."data"::text)'
    assert document_column('t."data"', ["o'k", "b"]) == (
        "(t.\"data\" - ARRAY['o''k', 'b']::text[])::text"
    )
    model = schema.model
    statement = select_list(
        model,
        model.types["Post"],
        where={"author": {"name": {"eq": "x"}}},
        order_by=[{"viewCount": "DESC"}],
        limit=5,
        offset=0,
        drop=("author", "view_count"),
    )
    head, rest = statement.sql.split(" FROM ", 1)
    assert head == "SELECT (t.\"data\" - ARRAY['author', 'view_count']::text[])::text"
    assert "t.\"data\"->'author'" in rest and "'view_count'" in rest
    assert "ARRAY" not in rest
