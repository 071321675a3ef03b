"""FraiseQL's side: ``uvicorn bench.subscriptions.fraiseql_server:app`` (one worker).

A schema of one read model, ``tv_bench_message``, with one query (GraphQL needs one) and the
auto subscription ``messageAdded``, written to the subscriptions contract: it follows the
``bench_message`` inserts and reads each event's rows again through the executor. The database
URL comes from ``FRAISEQL_DATABASE_URL``. The app is built on first access of ``app``, so
importing this module needs neither a database nor FraiseQL's subscriptions.
"""

from __future__ import annotations

from typing import Any

import fraiseql
from fraiseql import Info, Where
from fraiseql.types.scalars import UUID


@fraiseql.type(sql_source="tv_bench_message")
class Message:
    """One message of the benchmark; ``seq`` numbers the events of a run."""

    id: UUID
    seq: int
    body: str


@fraiseql.query
async def messages(
    info: Info, where: Where[Message] | None = None, limit: int = 20
) -> list[Message]:
    """Messages, filtered."""


def available() -> str | None:
    """Why FraiseQL's side cannot run in this checkout, or ``None`` when it can."""
    if not hasattr(fraiseql, "subscription"):
        return "fraiseql.subscription does not exist yet (the subscriptions core has not landed)"
    return None


def build() -> Any:
    """The ASGI app (needs ``fraiseql.subscription``)."""
    reason = available()
    if reason is not None:
        raise RuntimeError(reason)

    @fraiseql.subscription(on=("insert",))
    async def message_added(info: Info, where: Where[Message] | None = None) -> Message:
        """Each message inserted (that ``where`` keeps)."""

    return fraiseql.create_app(
        types=[Message],
        queries=[messages],
        subscriptions=[message_added],
        graphiql=False,
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return build()
    raise AttributeError(name)
