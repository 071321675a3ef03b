"""Batched POST requests: a JSON array of GraphQL requests answered by a JSON array of results.

Batching is off by default (DESIGN.md section 8). When it is on, a batch is refused as a whole,
with 400 and before any GraphQL parsing or database work, when it is empty, longer than the cap
or has a malformed member. Otherwise its operations run one after another, in order, each
through the executor's single path exactly as if it had been sent alone: its own limits check,
document-cache lookup, authorization, session claims and transaction. They do not share a
transaction: a mutation commits or rolls back on its own, and a later member's failure does not
undo it (the same semantics as sending the requests one by one). Each member's outcome, request
errors and 503s included, is the matching entry of the response array, which is a 200.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

import orjson
from starlette.exceptions import HTTPException

from fraiseql.asgi import json_input
from fraiseql.asgi.errors import (
    INTERNAL_SERVER_ERROR,
    ClientDisconnectedError,
    TransportError,
    bad_request,
    error_body,
    request_errors_body,
)
from fraiseql.asgi.params import refuse_repeated_parameters, request_from_payload
from fraiseql.execution.outcome import GraphQLRequest, RequestError, ServiceUnavailable
from fraiseql.observability import hooks

logger = logging.getLogger("fraiseql.asgi")

DEFAULT_MAX_BATCH_SIZE = 10
"""How many operations a batch may hold when batching is on and no other cap is given."""


def decode_post_body(
    body: bytes, max_batch_size: int | None
) -> GraphQLRequest | list[GraphQLRequest]:
    """The request(s) of a POST body; ``max_batch_size=None`` means batching is off.

    Only the JSON structure is checked here: no document is parsed and nothing runs, so an
    oversized or malformed batch costs one JSON decode (two when the bytes say that a request
    object may repeat a parameter, see :func:`~fraiseql.asgi.params.refuse_repeated_parameters`).
    """
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise json_input.decode_error(error, body, "The request body") from None
    if isinstance(payload, dict):
        refuse_repeated_parameters(body, decoded=payload)
        return request_from_payload(payload)
    if not isinstance(payload, list):
        raise bad_request("The request body must be a JSON object.")
    if max_batch_size is None:
        raise bad_request(
            "The request body must be a JSON object: batching (a JSON array of requests) is off."
        )
    if not payload:
        raise bad_request("A batch must hold at least one request.")
    if len(payload) > max_batch_size:
        raise TransportError(
            400,
            f"The batch holds {len(payload)} operations; the limit is {max_batch_size}.",
            code="BATCH_TOO_LARGE",
        )
    for index, member in enumerate(payload):
        if not isinstance(member, dict):
            raise bad_request(f"Member {index} of the batch must be a JSON object.")
    refuse_repeated_parameters(body, batch=True)
    requests = []
    for index, member in enumerate(payload):
        try:
            requests.append(request_from_payload(member))
        except TransportError as error:
            raise bad_request(f"Member {index} of the batch: {error.message}") from None
    return requests


RunOne = Callable[[GraphQLRequest], Awaitable[bytes]]
"""Runs one member of a batch and returns its response body."""


async def run_batch(requests: Sequence[GraphQLRequest], run_one: RunOne) -> bytes:
    """Run ``requests`` in order; the JSON array of their response bodies.

    A member that cannot run gets the error body it would have had alone, in its place; the
    other members still run. A client disconnect (or an ``HTTPException``) ends the whole batch.
    """
    bodies = [await _member_body(request, run_one) for request in requests]
    return b"[" + b",".join(bodies) + b"]"


async def _member_body(request: GraphQLRequest, run_one: RunOne) -> bytes:
    try:
        return await run_one(request)
    except RequestError as error:
        hooks.request_errors(error.errors)
        return request_errors_body(error.errors)
    except TransportError as error:
        hooks.request_refused(error.code, error.message)
        return error.body()
    except ServiceUnavailable as error:
        hooks.request_refused("SERVICE_UNAVAILABLE", error.message)
        return error_body(error.message, "SERVICE_UNAVAILABLE", retryAfter=error.retry_after)
    except (ClientDisconnectedError, HTTPException):
        raise
    except Exception as error:
        error_id = uuid.uuid4().hex
        logger.exception("Unhandled error in a batched operation (errorId=%s)", error_id)
        hooks.internal_error(error_id, error)
        return error_body("Internal server error", INTERNAL_SERVER_ERROR, errorId=error_id)
