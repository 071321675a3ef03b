"""The Strawberry peer: ``uvicorn bench.compare.strawberry_app:app`` (in .venv-strawberry).

Written as Strawberry's documentation recommends: typed classes, async resolvers over an
asyncpg pool, ``strawberry.dataloader.DataLoader`` instances created per request in the
context (authors batched by primary key, comments by post), the ASGI ``GraphQL`` app.
The database URL comes from ``BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import datetime
import enum
import os
import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, ValidationCache

from bench.compare import peer_sql

_pool: asyncpg.Pool | None = None


async def pool() -> asyncpg.Pool:
    global _pool  # one pool per process, opened on first use
    if _pool is None:
        _pool = await asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=peer_sql.POOL_SIZE
        )
    return _pool


@strawberry.enum
class PostStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@strawberry.enum
class MutationStatus(enum.Enum):
    SUCCESS = "success"


@strawberry.type
class User:
    id: uuid.UUID
    identifier: str
    name: str
    email: str


@strawberry.type
class Comment:
    id: uuid.UUID
    identifier: str
    body: str
    created_at: datetime.datetime
    fk_user: strawberry.Private[int]

    @strawberry.field
    async def author(self, info: strawberry.Info) -> User:
        return await info.context["users"].load(self.fk_user)


@strawberry.type
class Post:
    id: uuid.UUID
    identifier: str
    title: str
    body: str
    status: PostStatus
    tags: list[str]
    view_count: int
    created_at: datetime.datetime
    pk_post: strawberry.Private[int]
    fk_user: strawberry.Private[int]

    @strawberry.field
    async def author(self, info: strawberry.Info) -> User:
        return await info.context["users"].load(self.fk_user)

    @strawberry.field
    async def comments(self, info: strawberry.Info) -> list[Comment]:
        return await info.context["comments"].load(self.pk_post)


def post_of(row: Any) -> Post:
    return Post(
        id=row["id"],
        identifier=row["identifier"],
        title=row["title"],
        body=row["body"],
        status=PostStatus(row["status"]),
        tags=row["tags"],
        view_count=row["view_count"],
        created_at=row["created_at"],
        pk_post=row["pk_post"],
        fk_user=row["fk_user"],
    )


@strawberry.type
class PageInfo:
    has_next_page: bool


@strawberry.type
class PostEdge:
    node: Post
    cursor: str


@strawberry.type
class PostConnection:
    total_count: int
    page_info: PageInfo
    edges: list[PostEdge]


@strawberry.input
class CreatePostInput:
    identifier: str
    title: str
    author: uuid.UUID
    category_path: str
    body: str = ""
    status: PostStatus = PostStatus.DRAFT
    tags: list[str] | None = None


@strawberry.type
class CreatePostPayload:
    status: MutationStatus
    post: Post | None


@strawberry.type
class Query:
    @strawberry.field
    async def post(self, id: uuid.UUID) -> Post | None:
        row = await (await pool()).fetchrow(peer_sql.POST_BY_ID, id)
        return post_of(row) if row is not None else None

    @strawberry.field
    async def posts(self, limit: int = 20) -> list[Post]:
        rows = await (await pool()).fetch(peer_sql.POSTS, min(limit, 100))
        return [post_of(row) for row in rows]

    @strawberry.field
    async def posts_connection(
        self, author_id: uuid.UUID, first: int = 10, after: str | None = None
    ) -> PostConnection:
        created_at, post_id = peer_sql.decode_cursor(after)
        database = await pool()
        rows = await database.fetch(
            peer_sql.POSTS_OF_AUTHOR, author_id, min(first, 100) + 1, created_at, post_id
        )
        total = await database.fetchval(peer_sql.COUNT_POSTS_OF_AUTHOR, author_id)
        page = rows[:first]
        return PostConnection(
            total_count=total,
            page_info=PageInfo(has_next_page=len(rows) > first),
            edges=[
                PostEdge(node=post_of(r), cursor=peer_sql.encode_cursor(r["created_at"], r["id"]))
                for r in page
            ],
        )


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_post(self, input: CreatePostInput) -> CreatePostPayload:
        row = await (await pool()).fetchrow(
            peer_sql.CREATE_POST,
            input.identifier,
            input.author,
            input.title,
            input.body,
            input.status.value,
            input.tags or [],
            input.category_path,
        )
        if row is None:
            raise ValueError("Unknown author.")
        return CreatePostPayload(status=MutationStatus.SUCCESS, post=post_of(row))


async def load_users(keys: list[int]) -> list[User]:
    rows = await (await pool()).fetch(peer_sql.USERS_BY_PK, keys)
    by_pk = {
        r["pk_user"]: User(id=r["id"], identifier=r["identifier"], name=r["name"], email=r["email"])
        for r in rows
    }
    return [by_pk[k] for k in keys]


async def load_comments(keys: list[int]) -> list[list[Comment]]:
    rows = await (await pool()).fetch(peer_sql.COMMENTS_BY_POST, keys)
    return [
        [
            Comment(
                id=r["id"],
                identifier=r["identifier"],
                body=r["body"],
                created_at=r["created_at"],
                fk_user=r["fk_user"],
            )
            for r in group
        ]
        for group in peer_sql.group_by(rows, "fk_post", keys)
    ]


class App(GraphQL[dict[str, Any], None]):
    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {
            "request": request,
            "users": DataLoader(load_fn=load_users),
            "comments": DataLoader(load_fn=load_comments),
        }


# The documented caches of parsed and validated documents (Strawberry parses every request
# otherwise); Graphene has no counterpart.
schema = strawberry.Schema(
    query=Query, mutation=Mutation, extensions=[ParserCache(), ValidationCache()]
)
app = App(schema, graphql_ide=None)
