"""Runs Python field resolvers before projection, concurrently, and records what they returned.

The projector then reads those values by ``(id(source), id(field plan))``, so projection itself
stays synchronous and identical for data from SQL and data from resolvers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import get_argument_values

from fraiseql.execution.shapes import ABSTRACT, LIST, OBJECT, FieldPlan, Shape
from fraiseql.native.projector import Path, ResolvedValue, materialize, path_list
from fraiseql.schema.graphql_types import typename_of
from fraiseql.schema.model import SchemaModel

InfoFactory = Callable[[FieldPlan, list[str | int]], Any]


def as_instance(cls: type, source: Any) -> Any:
    """``source`` as an instance of ``cls`` for ``self`` in a field resolver.

    Read-model documents (dicts) become instances whose attributes are the stored values; no
    constructor runs, so missing keys stay missing.
    """
    if not isinstance(source, dict):
        return source
    instance: Any = object.__new__(cls)
    if dataclasses.is_dataclass(cls) and hasattr(instance, "__dict__"):
        instance.__dict__.update(source)
    return instance


class ResolverPass:
    """Walks a value along its shape and resolves every Python-computed field in it."""

    def __init__(
        self,
        model: SchemaModel,
        variables: Any,
        make_info: InfoFactory,
        denied: frozenset[int] = frozenset(),
    ) -> None:
        self.denied = denied
        self.model = model
        self.variables = variables
        self.make_info = make_info
        self.resolved: dict[tuple[int, int], ResolvedValue] = {}

    async def run(self, shape: Shape, value: Any, path: Path) -> None:
        """Resolve every resolver field under ``value``."""
        if value is None or not shape.has_resolvers:
            return
        if shape.kind == LIST:
            if isinstance(value, list | tuple):
                item = shape.item
                assert item is not None
                await _gather([self.run(item, v, (path, i)) for i, v in enumerate(value)])
        elif shape.kind == ABSTRACT:
            name = typename_of(value)
            concrete = shape.by_type.get(name) if name is not None else None
            if concrete is not None:
                await self.run(concrete, value, path)
        elif shape.kind == OBJECT:
            await self._object(shape, value, path)

    async def _object(self, shape: Shape, source: Any, path: Path) -> None:
        pending: list[Awaitable[None]] = []
        for field in shape.fields:
            if field.requires and id(field) in self.denied:
                continue  # a field the caller may not see: its resolver never runs
            if field.resolver is not None:
                pending.append(self._resolve(field, source, (path, field.key)))
            elif field.shape is not None and field.shape.has_resolvers:
                try:
                    child = (
                        source.get(field.source)
                        if isinstance(source, dict)
                        else getattr(source, field.source, None)
                    )
                except Exception:  # the projector reports it when it reads the field
                    child = None
                pending.append(self.run(field.shape, child, (path, field.key)))
        await _gather(pending)

    async def _resolve(self, field: FieldPlan, source: Any, path: Path) -> None:
        model = field.model
        assert model is not None and model.resolver is not None and field.definition is not None
        parent = self.model.types.get(field.parent_type)
        instance = as_instance(parent.cls, source) if parent is not None else source
        key = (id(source), id(field))  # a source may be reached by several selections
        try:
            arguments = get_argument_values(field.definition, field.nodes[0], self.variables)
            if model.takes_info:
                result = model.resolver(
                    instance, self.make_info(field, path_list(path)), **arguments
                )
            else:
                result = model.resolver(instance, **arguments)
            if inspect.isawaitable(result):
                result = await result
            if field.shape is not None:
                result = materialize(field.shape, result)
        except (Exception, GraphQLError) as error:
            self.resolved[key] = ResolvedValue(error=error)
            return
        self.resolved[key] = ResolvedValue(result)
        if field.shape is not None:
            await self.run(field.shape, result, path)


async def _gather(pending: list[Awaitable[None]]) -> None:
    if len(pending) == 1:
        await pending[0]
    elif pending:
        await asyncio.gather(*pending)
