"""A small schema with every shape the TypeScript generator handles that the blog lacks.

An interface with two implementations, a union, a deprecated field and argument-less custom
resolvers, every built-in scalar, a project scalar (``Color``), a subscription. It is never
executed: the tests only generate and compile TypeScript for it.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Annotated, Any

import fraiseql
from fraiseql.types.scalars import (
    CIDR,
    JSON,
    UUID,
    Date,
    DateTime,
    Decimal,
    EmailAddress,
    IPAddress,
    LTree,
    Time,
)

Color = Annotated[str, fraiseql.scalar("Color", serialize=str, parse_value=str)]


@fraiseql.enum
class Size(enum.Enum):
    """How big a shape is."""

    SMALL = "small"
    LARGE = "large"


@fraiseql.interface
class Shape:
    """Something with a name and a size."""

    name: str
    size: Size
    color: Color | None


@fraiseql.type
class Circle(Shape):
    """A round shape."""

    radius: float


@fraiseql.type
class Square(Shape):
    """A shape with four equal sides."""

    side: float
    corners: int = fraiseql.field(deprecation_reason="Always 4; use `side`.")


@fraiseql.type
class Note:
    """A note pinned next to the shapes."""

    text: str
    tags: list[str | None] | None


@fraiseql.type
class Sample:
    """One value of every built-in scalar."""

    id: UUID
    at: DateTime
    day: Date
    time: Time
    amount: Decimal
    data: JSON
    email: EmailAddress
    ip: IPAddress
    network: CIDR
    path: LTree
    count: int
    ratio: float
    flag: bool


Figure = Annotated[Circle | Square | Note, fraiseql.union("Figure")]


@fraiseql.input
class ShapeFilter:
    """Which shapes to return."""

    sizes: list[Size] | None = None
    min_size: float = 0.0
    color: Color | None = None


@fraiseql.query
def shapes(info: Any, filter: ShapeFilter | None = None) -> list[Shape]:
    """Every shape."""
    raise NotImplementedError("never executed")


@fraiseql.query
def figures(info: Any) -> list[Figure | None]:
    """Shapes and notes."""
    raise NotImplementedError("never executed")


@fraiseql.query
def sample(info: Any) -> Sample | None:
    """A sample of every scalar."""
    raise NotImplementedError("never executed")


@fraiseql.query(deprecation_reason="Use `shapes`.")
def first_shape(info: Any) -> Shape | None:
    """The first shape."""
    raise NotImplementedError("never executed")


@fraiseql.mutation
def rename_shape(info: Any, name: str, new_name: str) -> Shape:
    """Rename a shape (a custom resolver)."""
    raise NotImplementedError


@fraiseql.subscription
async def ticks(info: Any, start: int = 0) -> AsyncIterator[int]:
    """A counter."""
    yield start


def schema() -> fraiseql.Schema:
    """The kitchen-sink schema (no database)."""
    return fraiseql.Schema(
        types=[Circle, Square, Note, Sample],
        queries=[shapes, figures, sample, first_shape],
        mutations=[rename_shape],
        subscriptions=[ticks],
    )
