"""The ``map`` of a GraphQL multipart request: which variable each file part fills.

The spec's ``map`` is a JSON object from a file part's field name to the paths, in the
``operations``, of the values the file replaces: ``{"0": ["variables.file"]}``, or with a batch
``{"0": ["1.variables.files.0"]}``. A path is the dot-separated keys and list indexes from the
operation (or the batch) to the value. The client sent ``null`` in each place; the server puts
the file there. Every path is checked when the map arrives, before any file is read: it must lie
inside an operation's ``variables``, lead to a value that exists and is ``null``, and be named
once in the whole map. A map that fails is refused with 400, and one naming more files than
allowed with 413.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql.asgi import json_input
from fraiseql.asgi.errors import TransportError, bad_request
from fraiseql.execution.outcome import GraphQLRequest

MAX_PATHS = 1000
"""The most paths a map may hold, all files together."""

RESERVED_NAMES = frozenset({"operations", "map"})


@dataclass(frozen=True, slots=True)
class Slot:
    """One place a file goes: ``container[key]``, a variables object or a list in it."""

    container: dict[str, Any] | list[Any]
    key: Any

    def fill(self, value: object) -> None:
        """Put ``value`` in the place."""
        self.container[self.key] = value


def decode_map(
    body: bytes, posted: GraphQLRequest | list[GraphQLRequest], max_files: int
) -> dict[str, list[Slot]]:
    """The places of each file part named by the ``map`` part ``body``, checked."""
    value = json_input.loads(body, "The 'map' part")
    if not isinstance(value, dict):
        raise bad_request("The 'map' part must be a JSON object: file field name to paths.")
    if len(value) > max_files:
        raise TransportError(
            413,
            f"The request maps {len(value)} files; the limit is {max_files}.",
            code="TOO_MANY_FILES",
        )
    repeated = json_input.repeated_key(body, value.keys(), batch=False)
    if repeated is not None:
        raise bad_request(f"The 'map' part repeats the key {repeated[1]!r}.")
    slots: dict[str, list[Slot]] = {}
    seen: set[str] = set()
    for name, paths in value.items():
        if name in RESERVED_NAMES:
            raise bad_request(f"The 'map' part cannot name a file {name!r}.")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise bad_request(
                f"The map entry {name!r} must be a non-empty array of paths (strings)."
            )
        places = slots[name] = []
        for path in paths:
            if path in seen:
                raise bad_request(f"The map names the path {path!r} twice.")
            seen.add(path)
            if len(seen) > MAX_PATHS:
                raise bad_request(f"The map holds more than {MAX_PATHS} paths.")
            places.append(_slot(posted, path, name))
    return slots


def _slot(posted: GraphQLRequest | list[GraphQLRequest], path: str, name: str) -> Slot:
    segments = path.split(".")
    where = f"The map path {path!r} (of {name!r})"
    if isinstance(posted, list):
        index = _index(segments[0])
        if index is None or index >= len(posted):
            raise bad_request(f"{where} must start with the index of an operation of the batch.")
        request, segments = posted[index], segments[1:]
        prefix = f"{index}.variables"
    else:
        request, prefix = posted, "variables"
    if len(segments) < 2 or segments[0] != "variables":
        raise bad_request(f"{where} must point inside the variables: start it with {prefix!r}.")
    container: Any = request.variables
    if container is None:
        raise bad_request(f"{where} does not exist in the operations: there are no variables.")
    for segment in segments[1:-1]:
        container = _step(container, segment, where)
    key = _key(container, segments[-1], where)
    if container[key] is not None:
        raise bad_request(f"{where} must point at a null, which the file replaces.")
    return Slot(container, key)


def _index(segment: str) -> int | None:
    return int(segment) if segment.isascii() and segment.isdigit() else None


def _key(container: Any, segment: str, where: str) -> Any:
    if isinstance(container, dict):
        if segment in container:
            return segment
    elif isinstance(container, list):
        index = _index(segment)
        if index is not None and index < len(container):
            return index
    raise bad_request(f"{where} does not exist in the operations.")


def _step(container: Any, segment: str, where: str) -> Any:
    return container[_key(container, segment, where)]
