"""A mutation payload names its entity after the type, unless that hides one of its fields."""

from __future__ import annotations

from typing import Any

import fraiseql
from fraiseql.schema.graphql_types import payload_entity_field
from fraiseql.types.scalars import UUID


@fraiseql.type(sql_source="tv_message")
class Message:
    """A message."""

    id: UUID
    body: str


@fraiseql.input
class PostMessageInput:
    """What to post."""

    body: str


@fraiseql.query
async def message(info: Any, id: UUID | None = None) -> Message | None:
    """One message."""
    ...


@fraiseql.mutation
async def post_message(info: Any, input: PostMessageInput) -> Message:
    """Post a message."""
    ...


def test_a_colliding_entity_field_keeps_the_payload_message_text() -> None:
    schema = fraiseql.Schema(queries=[message], mutations=[post_message])
    payload = schema.graphql_schema.get_type("PostMessagePayload")
    assert payload is not None
    fields = payload.fields  # type: ignore[attr-defined]
    assert str(fields["message"].type) == "String"
    assert str(fields["messageEntity"].type) == "Message"


def test_other_types_keep_their_plain_name() -> None:
    assert payload_entity_field("Post") == "post"
    assert payload_entity_field("Status") == "statusEntity"
    assert payload_entity_field("ID") == "iD"
