"""The Graphene peer: ``uvicorn bench.compare.graphene_app:app`` (in .venv-graphene).

Written as Graphene's documentation recommends: ``ObjectType`` classes with async resolvers
over an asyncpg pool, ``aiodataloader.DataLoader`` instances created per request (authors
batched by primary key, comments by post), executed with ``Schema.execute_async``. Graphene 3
ships no HTTP layer of its own: a Starlette endpoint reads the request and writes the result.
The database URL comes from ``BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import graphene
from aiodataloader import DataLoader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.compare import peer_sql

_pool: asyncpg.Pool | None = None


async def pool() -> asyncpg.Pool:
    global _pool  # one pool per process, opened on first use
    if _pool is None:
        _pool = await asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=peer_sql.POOL_SIZE
        )
    return _pool


class PostStatus(graphene.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class MutationStatus(graphene.Enum):
    SUCCESS = "success"


class User(graphene.ObjectType):
    id = graphene.UUID(required=True)
    identifier = graphene.String(required=True)
    name = graphene.String(required=True)
    email = graphene.String(required=True)


class Comment(graphene.ObjectType):
    id = graphene.UUID(required=True)
    identifier = graphene.String(required=True)
    body = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    author = graphene.Field(User, required=True)

    @staticmethod
    async def resolve_author(root: dict[str, Any], info: Any) -> dict[str, Any]:
        return await info.context["users"].load(root["fk_user"])


class Post(graphene.ObjectType):
    id = graphene.UUID(required=True)
    identifier = graphene.String(required=True)
    title = graphene.String(required=True)
    body = graphene.String(required=True)
    status = graphene.Field(PostStatus, required=True)
    tags = graphene.List(graphene.NonNull(graphene.String), required=True)
    view_count = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)
    author = graphene.Field(User, required=True)
    comments = graphene.List(graphene.NonNull(Comment), required=True)

    @staticmethod
    def resolve_status(root: dict[str, Any], info: Any) -> Any:
        return PostStatus.get(root["status"])

    @staticmethod
    async def resolve_author(root: dict[str, Any], info: Any) -> dict[str, Any]:
        return await info.context["users"].load(root["fk_user"])

    @staticmethod
    async def resolve_comments(root: dict[str, Any], info: Any) -> list[dict[str, Any]]:
        return await info.context["comments"].load(root["pk_post"])


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)


class PostEdge(graphene.ObjectType):
    node = graphene.Field(Post, required=True)
    cursor = graphene.String(required=True)


class PostConnection(graphene.ObjectType):
    total_count = graphene.Int(required=True)
    page_info = graphene.Field(PageInfo, required=True)
    edges = graphene.List(graphene.NonNull(PostEdge), required=True)


class Query(graphene.ObjectType):
    post = graphene.Field(Post, id=graphene.UUID(required=True))
    posts = graphene.List(
        graphene.NonNull(Post), required=True, limit=graphene.Int(default_value=20)
    )
    posts_connection = graphene.Field(
        PostConnection,
        required=True,
        author_id=graphene.UUID(required=True),
        first=graphene.Int(default_value=10),
        after=graphene.String(),
    )

    @staticmethod
    async def resolve_post(root: Any, info: Any, id: Any) -> dict[str, Any] | None:
        row = await (await pool()).fetchrow(peer_sql.POST_BY_ID, id)
        return dict(row) if row is not None else None

    @staticmethod
    async def resolve_posts(root: Any, info: Any, limit: int) -> list[dict[str, Any]]:
        return [dict(r) for r in await (await pool()).fetch(peer_sql.POSTS, min(limit, 100))]

    @staticmethod
    async def resolve_posts_connection(
        root: Any, info: Any, author_id: Any, first: int, after: str | None = None
    ) -> dict[str, Any]:
        created_at, post_id = peer_sql.decode_cursor(after)
        database = await pool()
        rows = await database.fetch(
            peer_sql.POSTS_OF_AUTHOR, author_id, min(first, 100) + 1, created_at, post_id
        )
        total = await database.fetchval(peer_sql.COUNT_POSTS_OF_AUTHOR, author_id)
        return {
            "total_count": total,
            "page_info": {"has_next_page": len(rows) > first},
            "edges": [
                {"node": dict(r), "cursor": peer_sql.encode_cursor(r["created_at"], r["id"])}
                for r in rows[:first]
            ],
        }


class CreatePostInput(graphene.InputObjectType):
    identifier = graphene.String(required=True)
    title = graphene.String(required=True)
    body = graphene.String(default_value="")
    author = graphene.UUID(required=True)
    status = PostStatus(default_value=PostStatus.DRAFT.value)
    tags = graphene.List(graphene.NonNull(graphene.String))
    category_path = graphene.String(required=True)


class CreatePost(graphene.Mutation):
    class Arguments:
        input = CreatePostInput(required=True)

    status = graphene.Field(MutationStatus, required=True)
    post = graphene.Field(Post)

    @staticmethod
    async def mutate(root: Any, info: Any, input: dict[str, Any]) -> CreatePost:
        status = input.get("status", PostStatus.DRAFT.value)
        row = await (await pool()).fetchrow(
            peer_sql.CREATE_POST,
            input["identifier"],
            input["author"],
            input["title"],
            input.get("body", ""),
            getattr(status, "value", status),
            input.get("tags") or [],
            input["category_path"],
        )
        if row is None:
            raise ValueError("Unknown author.")
        return CreatePost(status=MutationStatus.SUCCESS, post=dict(row))


class Mutation(graphene.ObjectType):
    create_post = CreatePost.Field()


async def load_users(keys: list[int]) -> list[dict[str, Any]]:
    rows = await (await pool()).fetch(peer_sql.USERS_BY_PK, keys)
    by_pk = {r["pk_user"]: dict(r) for r in rows}
    return [by_pk[k] for k in keys]


async def load_comments(keys: list[int]) -> list[list[dict[str, Any]]]:
    rows = await (await pool()).fetch(peer_sql.COMMENTS_BY_POST, keys)
    return [[dict(r) for r in group] for group in peer_sql.group_by(rows, "fk_post", keys)]


schema = graphene.Schema(query=Query, mutation=Mutation)


async def graphql(request: Request) -> JSONResponse:
    body = await request.json()
    result = await schema.execute_async(
        body["query"],
        variable_values=body.get("variables"),
        operation_name=body.get("operationName"),
        context_value={
            "request": request,
            "users": DataLoader(load_users),
            "comments": DataLoader(load_comments),
        },
    )
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return JSONResponse(payload)


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
