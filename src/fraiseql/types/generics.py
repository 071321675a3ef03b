"""Generic markers for the shapes FraiseQL generates from a type: connections, filters, ordering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(kw_only=True, slots=True)
class PageInfo:
    """Relay page information of a connection."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(kw_only=True, slots=True)
class Edge(Generic[T]):
    """One item of a connection with its opaque cursor."""

    node: T
    cursor: str


@dataclass(kw_only=True, slots=True)
class Connection(Generic[T]):
    """A Relay connection of ``T``; as a return type it makes a paginated root field.

    An auto query returning ``Connection[Post]`` accepts ``where``, ``order_by``, ``first``,
    ``after``, ``last`` and ``before``; ``totalCount`` is counted only when selected.
    """

    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None = None


class Where(Generic[T]):
    """The generated filter input of ``T`` (``PostWhereInput``); annotate ``where`` with it."""


class OrderBy(Generic[T]):
    """The generated ordering input of ``T`` (``PostOrderByInput``); use ``list[OrderBy[T]]``."""


class Aggregate(Generic[T]):
    """Aggregates of ``T``'s read model; as a return type it makes an aggregate root field.

    An auto query returning ``Aggregate[Post]`` accepts ``where`` and answers ``count``,
    ``sum``/``avg`` (numeric fields), ``min``/``max`` (orderable fields) and
    ``groupBy(by: ..., having: ..., orderBy: ..., limit: ...)`` with one SQL statement.
    """
