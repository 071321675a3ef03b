"""Lists may come from any iterable a resolver returns, as the spec allows."""

from __future__ import annotations

import fraiseql
from fraiseql import Schema


@fraiseql.type
class Box:
    label: str

    @fraiseql.field
    def letters(self) -> list[str]:
        return (c for c in self.label)


@fraiseql.query
def boxes() -> list[Box]:
    return (Box(label=name) for name in ("ab", "c"))


@fraiseql.query
def numbers() -> list[int]:
    return {3}


async def test_generators_and_sets_complete_as_lists() -> None:
    schema = Schema(types=[Box], queries=[boxes, numbers])
    result = await schema.run("{ boxes { label letters again: letters } numbers }")
    assert result == {
        "data": {
            "boxes": [
                {"label": "ab", "letters": ["a", "b"], "again": ["a", "b"]},
                {"label": "c", "letters": ["c"], "again": ["c"]},
            ],
            "numbers": [3],
        }
    }


async def test_strings_and_dicts_are_not_lists() -> None:
    @fraiseql.query
    def wrong() -> list[str]:
        return "abc"  # type: ignore[return-value]

    schema = Schema(queries=[wrong])
    result = await schema.run("{ wrong }")
    assert result["data"] is None
    assert "Expected a list" in result["errors"][0]["message"]
