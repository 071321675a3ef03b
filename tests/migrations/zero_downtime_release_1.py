"""Release 1 of the zero-downtime test's app: articles have a ``title``.

A FraiseQL app over the read model ``tv_article`` (one ``data`` document per article, synced by
``fn_sync_tv_article``), writing through ``fn_create_article`` / ``fn_update_article``. Served by
``uvicorn tests.migrations.zero_downtime_release_1:app`` with ``ZD_DATABASE_URL`` set.
"""

from __future__ import annotations

import os

import fraiseql
from fraiseql.types.scalars import UUID


@fraiseql.type(sql_source="tv_article")
class Article:
    """An article, as release 1 knows it."""

    id: UUID
    identifier: str
    title: str


@fraiseql.input
class CreateArticleInput:
    """A new article."""

    identifier: str
    title: str


@fraiseql.input
class UpdateArticleInput:
    """A new title for the article ``article`` (its id or identifier)."""

    article: str
    title: str


@fraiseql.query
async def articles(info, limit: int | None = None) -> list[Article]:
    """The articles, from the read model."""


@fraiseql.mutation
async def create_article(info, input: CreateArticleInput) -> Article:
    """Create an article (fn_create_article)."""


@fraiseql.mutation
async def update_article(info, input: UpdateArticleInput) -> Article:
    """Retitle an article (fn_update_article)."""


app = fraiseql.create_app(
    types=[Article],
    queries=[articles],
    mutations=[create_article, update_article],
    database_url=os.environ["ZD_DATABASE_URL"],
    graphiql=False,
)
