"""The example blog's GraphQL types and queries, over the read models in db/."""

from __future__ import annotations

import enum
from typing import Annotated

import fraiseql
from fraiseql import Connection, OrderBy, Where
from fraiseql.types.scalars import UUID, DateTime, EmailAddress, LTree


@fraiseql.enum
class UserRole(enum.Enum):
    """What a user may do."""

    ADMIN = "admin"
    AUTHOR = "author"
    READER = "reader"


@fraiseql.enum
class PostStatus(enum.Enum):
    """Where a post is in its life."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@fraiseql.type
class OrganisationRef:
    """The organisation a user belongs to."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type(sql_source="tv_organisation")
class Organisation:
    """A tenant: every user, post and comment belongs to one."""

    id: UUID
    identifier: str
    name: str
    created_at: DateTime


@fraiseql.type
class Author:
    """The author of a post, as embedded in the post."""

    id: UUID
    identifier: str
    name: str
    email: EmailAddress


@fraiseql.type
class CommentAuthor:
    """The author of a comment, as embedded in the comment."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type
class PostComment:
    """A comment as embedded in its post."""

    id: UUID
    identifier: str
    body: str
    created_at: DateTime
    author: CommentAuthor


@fraiseql.type(sql_source="tv_user")
class User:
    """Someone who writes posts or comments."""

    id: UUID
    identifier: str
    name: str
    email: EmailAddress
    role: UserRole
    bio: str | None
    created_at: DateTime
    organisation: OrganisationRef

    @fraiseql.field(description="The name with the handle, computed in Python.")
    def display_name(self, info: object) -> str:
        return f"{self.name} (@{self.identifier})"


@fraiseql.type(sql_source="tv_post")
class Post:
    """A blog post with its author and comments embedded."""

    id: UUID
    identifier: str
    title: str
    body: str
    status: PostStatus
    tags: list[str]
    rating: float | None
    view_count: int
    version: int
    published_at: DateTime | None
    created_at: DateTime
    category_path: LTree
    author: Author
    comments: list[PostComment]


@fraiseql.type
class PostRef:
    """The post a comment belongs to."""

    id: UUID
    identifier: str
    title: str


@fraiseql.type(sql_source="tv_comment")
class Comment:
    """A comment on a post."""

    id: UUID
    identifier: str
    body: str
    created_at: DateTime
    post: PostRef
    author: CommentAuthor


SearchResult = Annotated[Post | User, fraiseql.union("SearchResult")]


@fraiseql.query
async def post(info, id: UUID | None = None, identifier: str | None = None) -> Post | None:
    """One post by id or identifier."""


@fraiseql.query
async def posts(
    info,
    where: Where[Post] | None = None,
    order_by: list[OrderBy[Post]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Post]:
    """Posts, filtered and ordered."""


@fraiseql.query
async def posts_connection(
    info,
    where: Where[Post] | None = None,
    order_by: list[OrderBy[Post]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Post]:
    """Posts as a Relay connection."""


@fraiseql.query
async def user(info, id: UUID | None = None, identifier: str | None = None) -> User | None:
    """One user by id or identifier."""


@fraiseql.query
async def users(
    info,
    where: Where[User] | None = None,
    order_by: list[OrderBy[User]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[User]:
    """Users as a Relay connection."""


@fraiseql.query
async def organisations(info, where: Where[Organisation] | None = None) -> list[Organisation]:
    """All organisations."""


@fraiseql.query
async def comments(
    info,
    where: Where[Comment] | None = None,
    order_by: list[OrderBy[Comment]] | None = None,
    limit: int | None = None,
) -> list[Comment]:
    """Comments, filtered and ordered."""


QUERIES = [post, posts, posts_connection, user, users, organisations, comments]
TYPES = [Organisation, User, Post, Comment]


@fraiseql.input
class CreatePostInput:
    """A new post; ``author`` is the user's id or identifier."""

    identifier: str
    title: str
    body: str = ""
    author: str
    status: PostStatus = PostStatus.DRAFT
    tags: list[str] | None = None
    category_path: LTree


@fraiseql.input
class UpdatePostInput:
    """Changes to a post (given by id or identifier); fields left out stay as they are.

    With ``expected_version`` the change applies only if the post is still at that version
    (optimistic locking); otherwise the mutation answers CONFLICT with the current post.
    """

    post: str
    title: str | None
    body: str | None
    status: PostStatus | None
    tags: list[str] | None
    expected_version: int | None


@fraiseql.input
class DeletePostInput:
    """The post to delete, by id or identifier."""

    post: str


@fraiseql.mutation
async def create_post(info, input: CreatePostInput) -> Post:
    """Create a post (calls fn_create_post)."""


@fraiseql.mutation
async def update_post(info, input: UpdatePostInput) -> Post:
    """Change a post (calls fn_update_post)."""


@fraiseql.mutation
async def delete_post(info, input: DeletePostInput) -> Post:
    """Delete a post and its comments (calls fn_delete_post)."""


@fraiseql.mutation(sql_function="fn_create_post")
async def create_posts(info, input: list[CreatePostInput]) -> list[Post]:
    """Create several posts in one call, all or none (fn_create_post once per item)."""


@fraiseql.mutation(sql_function="fn_update_post", batch="partial")
async def update_posts(info, input: list[UpdatePostInput]) -> list[Post]:
    """Change several posts in one call; the changes that fail leave the others standing."""


MUTATIONS = [create_post, update_post, delete_post, create_posts, update_posts]


def printable_schema() -> fraiseql.Schema:
    """The blog's schema without a database (``fraiseql schema`` prints it)."""
    return fraiseql.Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS)
