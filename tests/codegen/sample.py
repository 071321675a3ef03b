"""A small schema for the DDL generator's tests: tenants, users, posts, categories."""

from __future__ import annotations

import enum

import fraiseql
from fraiseql import Connection, OrderBy, Schema, Where
from fraiseql.types.scalars import UUID, DateTime, Decimal, LTree


@fraiseql.enum
class PostStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


@fraiseql.type(sql_source="tv_organisation")
class Organisation:
    id: UUID
    identifier: str
    name: str
    users: list[User]


@fraiseql.type(sql_source="tv_user")
class User:
    id: UUID
    identifier: str
    name: str
    email: str | None
    organisation: Organisation
    posts: list[Post]


@fraiseql.type(sql_source="tv_category")
class Category:
    id: UUID
    identifier: str
    path: LTree


@fraiseql.type(sql_source="tv_post")
class Post:
    id: UUID
    identifier: str
    title: str
    status: PostStatus = PostStatus.DRAFT
    tags: list[str]
    rating: Decimal | None
    view_count: int = 0
    created_at: DateTime
    author: User
    category: Category | None


@fraiseql.input
class CreatePostInput:
    identifier: str
    title: str
    author: str
    created_at: DateTime
    tags: list[str]
    status: PostStatus | None = None
    rating: Decimal | None = None
    category: str | None = None


@fraiseql.input
class UpdatePostInput:
    id: UUID
    title: str | None = None
    status: PostStatus | None = None


@fraiseql.query
async def posts(
    info, where: Where[Post] | None = None, order_by: list[OrderBy[Post]] | None = None
) -> list[Post]: ...


@fraiseql.query
async def posts_connection(
    info,
    where: Where[Post] | None = None,
    order_by: list[OrderBy[Post]] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Post]: ...


@fraiseql.query
async def users(info) -> list[User]: ...


@fraiseql.query
async def organisations(info) -> list[Organisation]: ...


@fraiseql.query
async def post(info, id: UUID | None = None, identifier: str | None = None) -> Post | None: ...


@fraiseql.mutation
async def create_post(info, input: CreatePostInput) -> Post: ...


@fraiseql.mutation
async def update_post(info, input: UpdatePostInput) -> Post: ...


TYPES = [Organisation, User, Category, Post, PostStatus]
QUERIES = [posts, posts_connection, users, organisations, post]
MUTATIONS = [create_post, update_post]

schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS)
"""The schema without a database, for ``fraiseql generate ddl tests.codegen.sample:schema``."""
