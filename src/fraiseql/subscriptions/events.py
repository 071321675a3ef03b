"""What the database says when it changes: events sent by ``fraiseql_notify``.

An event names an entity (``message``), what happened to it (``insert``, ``update``,
``delete``) and the ids of the rows concerned, never their data: each subscriber reads the rows
again with its own claims, so an event cannot leak a row to someone who could not query it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import orjson

from fraiseql.types.decorators import EVENT_OPERATIONS

EVENTS_CHANNEL = "fraiseql_events"
"""The PostgreSQL channel ``fraiseql_notify`` sends on and every process LISTENs to."""

MAX_PAYLOAD_BYTES = 8000
"""PostgreSQL refuses NOTIFY payloads from 8000 bytes: nothing longer can arrive."""

MISSED_EVENTS_BODY = b'{"extensions":{"fraiseql":{"missedEvents":true}}}'
"""Sent to every live subscription when events may have been lost (the listener reconnected,
or the subscription's reads failed): the client should read the current state again."""

_ENTITY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,62}")


@dataclass(frozen=True, slots=True)
class Event:
    """``op`` happened to the rows ``ids`` (UUID texts) of ``entity``.

    ``at`` is when the database sent it (seconds since the epoch), for measuring delays.
    """

    entity: str
    op: str
    ids: tuple[str, ...]
    at: float | None = None


def parse_event(payload: str) -> Event | None:
    """The event of a notification's payload, or ``None`` when it is not a well-formed one.

    Anything on the channel is untrusted text: a malformed payload is dropped (the caller logs
    it), never allowed to reach a read.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    entity, op, ids = value.get("entity"), value.get("op"), value.get("ids")
    if not isinstance(entity, str) or not _ENTITY.fullmatch(entity):
        return None
    if op not in EVENT_OPERATIONS or not isinstance(ids, list):
        return None
    texts: list[str] = []
    for item in ids:
        if not isinstance(item, str):
            return None
        try:
            texts.append(str(uuid.UUID(item)))
        except ValueError:
            return None
    at = value.get("at")
    sent = float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None
    return Event(entity, op, tuple(texts), sent)
