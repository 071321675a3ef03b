"""The chat example's GraphQL types, queries, mutations and subscriptions, over db/.

The mutations act as the user of the ``app.user_id`` claim (see ``app.py``); the subscriptions
follow the events the mutation functions send with ``fraiseql_notify`` ('message', 'typing',
'room'), each event's rows read again under the subscriber's own claims.
"""

from __future__ import annotations

import fraiseql
from fraiseql import Connection, OrderBy, Where
from fraiseql.types.scalars import UUID, DateTime


@fraiseql.type
class OrganisationRef:
    """The organisation a user belongs to."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type(sql_source="tv_organisation")
class Organisation:
    """A tenant: its users, rooms and messages are visible to it only."""

    id: UUID
    identifier: str
    name: str
    created_at: DateTime


@fraiseql.type
class UserRef:
    """A user as embedded in a room, a message or a typing notice."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type(sql_source="tv_user")
class User:
    """Someone who chats; identifiers are unique within the organisation."""

    id: UUID
    identifier: str
    name: str
    created_at: DateTime
    organisation: OrganisationRef


@fraiseql.type
class RoomRef:
    """The room a message was posted in."""

    id: UUID
    identifier: str
    name: str


@fraiseql.type(sql_source="tv_room")
class Room:
    """A chat room of an organisation, with its members."""

    id: UUID
    identifier: str
    name: str
    topic: str | None
    created_at: DateTime
    created_by: UserRef | None
    member_count: int
    members: list[UserRef]


@fraiseql.type(sql_source="tv_message")
class Message:
    """A message; ``number`` counts the room's messages from 1, in the order they were posted."""

    id: UUID
    identifier: str
    number: int
    body: str
    created_at: DateTime
    room_id: UUID
    room: RoomRef
    author: UserRef


@fraiseql.type(sql_source="tv_typing")
class Typing:
    """Someone typing in a room: they are while ``expires_at`` is in the future."""

    id: UUID
    identifier: str
    room_id: UUID
    user: UserRef
    expires_at: DateTime
    updated_at: DateTime


TYPES = [Organisation, User, Room, Message, Typing]


# --- queries -----------------------------------------------------------------------------------


@fraiseql.query
async def organisations(info, where: Where[Organisation] | None = None) -> list[Organisation]:
    """The organisations the caller may see (under the example's RLS: its own)."""


@fraiseql.query
async def users(
    info,
    where: Where[User] | None = None,
    order_by: list[OrderBy[User]] | None = None,
    limit: int | None = None,
) -> list[User]:
    """Users, filtered and ordered."""


@fraiseql.query
async def room(info, id: UUID | None = None, identifier: str | None = None) -> Room | None:
    """One room by id or identifier (identifiers are unique within an organisation)."""


@fraiseql.query
async def rooms(
    info,
    where: Where[Room] | None = None,
    order_by: list[OrderBy[Room]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Room]:
    """Rooms, filtered and ordered."""


@fraiseql.query
async def messages(
    info,
    where: Where[Message] | None = None,
    order_by: list[OrderBy[Message]] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Message]:
    """Messages, e.g. ``where: {roomId: {eq: $room}}, orderBy: [{number: DESC}], limit: 50``."""


@fraiseql.query
async def messages_connection(
    info,
    where: Where[Message] | None = None,
    order_by: list[OrderBy[Message]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Message]:
    """Messages as a Relay connection (scroll back through a room's history)."""


@fraiseql.query
async def typings(
    info, where: Where[Typing] | None = None, limit: int | None = None
) -> list[Typing]:
    """Typing notices, e.g. a room's that have not expired yet."""


QUERIES = [organisations, users, room, rooms, messages, messages_connection, typings]


# --- mutations ---------------------------------------------------------------------------------


@fraiseql.input
class CreateRoomInput:
    """A new room of the caller's organisation; the caller becomes its first member."""

    identifier: str
    name: str
    topic: str | None = None


@fraiseql.input
class JoinRoomInput:
    """The room to join, by id or identifier."""

    room: str


@fraiseql.input
class PostMessageInput:
    """A message for a room (by id or identifier) the caller is a member of."""

    room: str
    body: str


@fraiseql.input
class SetTypingInput:
    """The caller is typing in ``room`` for the next 5 seconds, or (``typing: false``) stops."""

    room: str
    typing: bool = True


@fraiseql.mutation
async def create_room(info, input: CreateRoomInput) -> Room:
    """Create a room (calls fn_create_room; sends a 'room' 'insert' event)."""


@fraiseql.mutation
async def join_room(info, input: JoinRoomInput) -> Room:
    """Join a room (calls fn_join_room; sends a 'room' 'update' event)."""


@fraiseql.mutation
async def post_message(info, input: PostMessageInput) -> Message:
    """Post a message (calls fn_post_message; sends a 'message' 'insert' event)."""


@fraiseql.mutation
async def set_typing(info, input: SetTypingInput) -> Typing:
    """Say the caller is typing, or stopped (calls fn_set_typing; sends a 'typing' event)."""


MUTATIONS = [create_room, join_room, post_message, set_typing]


# --- subscriptions -----------------------------------------------------------------------------


@fraiseql.subscription(on=("insert",))
async def message_added(info, where: Where[Message] | None = None) -> Message:
    """Each new message the caller may see, e.g. ``where: {roomId: {eq: $room}}``."""


@fraiseql.subscription
async def typing_changed(info, where: Where[Typing] | None = None) -> Typing:
    """Each typing notice that starts, renews or stops, e.g. in one room."""


@fraiseql.subscription
async def room_changed(info, where: Where[Room] | None = None) -> Room:
    """Each room created or joined (its members changed)."""


SUBSCRIPTIONS = [message_added, typing_changed, room_changed]


def printable_schema() -> fraiseql.Schema:
    """The chat schema without a database (``fraiseql schema`` prints it)."""
    return fraiseql.Schema(
        types=TYPES, queries=QUERIES, mutations=MUTATIONS, subscriptions=SUBSCRIPTIONS
    )
