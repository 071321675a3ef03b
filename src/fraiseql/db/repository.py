"""``QueryRepository``: read models by id, identifier, filter, order and page, from Python.

The executor uses the same statements for auto root fields; custom resolvers reach the
repository as ``info.repository`` and share the request's connection and transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from fraiseql.db.session import RequestSession
from fraiseql.execution.errors import FraiseQLError
from fraiseql.schema.model import SchemaModel, TypeModel
from fraiseql.sql.select import Statement, read_page, select_list, select_one, select_page


class QueryRepository:
    """Reads the read models of one schema within one request session.

    Filters use the GraphQL input shape with GraphQL field names
    (``{"viewCount": {"gt": 10}}``); results are the stored JSON documents as dicts
    (snake_case keys), which resolvers may return as they are.
    """

    def __init__(self, model: SchemaModel, session: RequestSession) -> None:
        self._model = model
        self._session = session

    @property
    def session(self) -> RequestSession:
        """The request session the repository reads through."""
        return self._session

    def type_model(self, cls: type) -> TypeModel:
        """The schema's model of ``cls``; it must have a ``sql_source``."""
        model = self._model.type_by_class.get(cls)
        if model is None or model.definition.sql_source is None:
            raise TypeError(f"{cls!r} is not a type with sql_source in this schema")
        return model

    async def fetch_value(self, statement: Statement) -> Any:
        """Run a statement and return the first column of the first row (or ``None``)."""
        async with self._session.use() as connection:
            return await connection.fetchval(statement.sql, *statement.params)

    async def fetch_rows(self, statement: Statement) -> list[Any]:
        """Run a statement and return its rows."""
        async with self._session.use() as connection:
            return list(await connection.fetch(statement.sql, *statement.params))

    async def find_one_json(
        self, cls: type, *, id: Any = None, identifier: str | None = None
    ) -> str | None:
        """The JSON text of one document by ``id`` or ``identifier`` (exactly one given)."""
        model = self.type_model(cls)
        if (id is None) == (identifier is None):
            raise FraiseQLError("give exactly one of 'id' and 'identifier'")
        if id is not None:
            statement = select_one(model, "id", str(id))
        else:
            assert identifier is not None
            statement = select_one(model, "identifier", identifier)
        value = await self.fetch_value(statement)
        return value if isinstance(value, str) else None

    async def find_one(
        self, cls: type, *, id: Any = None, identifier: str | None = None
    ) -> dict[str, Any] | None:
        """One document by ``id`` or ``identifier``, or ``None`` when there is none."""
        text = await self.find_one_json(cls, id=id, identifier=identifier)
        return None if text is None else orjson.loads(text)

    async def find_json(
        self,
        cls: type,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[str]:
        """The JSON texts of the documents matching ``where``, ordered and limited."""
        model = self.type_model(cls)
        statement = select_list(
            self._model,
            model,
            where=where,
            order_by=order_by,
            limit=limit
            if limit is not None
            else model.definition.max_page_size or self._model.max_page_size,
            offset=offset,
        )
        return [row[0] for row in await self.fetch_rows(statement)]

    async def find(
        self,
        cls: type,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The documents matching ``where``, ordered and limited (default: the max page size)."""
        texts = await self.find_json(
            cls, where=where, order_by=order_by, limit=limit, offset=offset
        )
        return [orjson.loads(text) for text in texts]

    async def paginate(
        self,
        cls: type,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        with_total: bool = False,
    ) -> dict[str, Any]:
        """One page of documents with Relay cursors, in the shape a connection resolver returns.

        The result has ``edges`` (``node`` and ``cursor``), ``page_info`` and ``total_count``
        (``None`` unless ``with_total``); the cursors are those of auto connections.
        """
        model = self.type_model(cls)
        if (first is None) == (last is None):
            raise FraiseQLError("give exactly one of 'first' and 'last'")
        statement = select_page(
            self._model,
            model,
            where=where,
            order_by=order_by,
            first=first,
            after=after,
            last=last,
            before=before,
            with_total=with_total,
            with_previous=True,
            with_next=True,
        )
        return read_page(statement, await self.fetch_rows(statement))
