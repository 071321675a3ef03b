"""Decoding the GraphQL-over-HTTP request parameters from a GET query string or a POST body.

Parameters follow the GraphQL-over-HTTP draft, section "Request Parameters": ``query`` is a
required string, ``operationName`` an optional string, ``variables`` and ``extensions`` optional
maps; ``null`` is the same as absent. A request whose parameters have the wrong type is not a
well-formed GraphQL-over-HTTP request and is refused with ``400`` before any GraphQL work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from fraiseql.asgi.errors import bad_request
from fraiseql.execution.outcome import GraphQLRequest

# More parameters than this in a query string is not a GraphQL request worth parsing further.
MAX_QUERY_STRING_FIELDS = 100


def parse_query_string(query_string: bytes) -> dict[str, str]:
    """Decode a URL query string (WhatWG urlencoded, UTF-8) into a dict of single values.

    Invalid UTF-8 after percent-decoding and repeated parameters are refused with 400.
    """
    try:
        pairs = parse_qsl(
            query_string.decode("latin-1"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_QUERY_STRING_FIELDS,
        )
    except UnicodeDecodeError:
        raise bad_request("The query string is not valid UTF-8.") from None
    except ValueError:
        raise bad_request("The query string has too many parameters.") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise bad_request(f"The {key!r} parameter is given more than once.")
        params[key] = value
    return params


def _json_map_param(params: Mapping[str, str], name: str) -> dict[str, Any] | None:
    """A GET parameter holding a JSON-encoded object (``null`` and empty mean absent)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request(f"The {name!r} parameter is not valid JSON.") from None
    return _map_or_none(value, name)


def _map_or_none(value: object, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise bad_request(f"The {name!r} parameter must be a JSON object.")


def _string_or_none(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"The {name!r} parameter must be a string.")


def _required_query(value: object, extensions: dict[str, Any] | None) -> str | None:
    if value is None:
        if extensions is not None and isinstance(extensions.get("persistedQuery"), dict):
            return None  # a persisted query: the executor looks the document up by its hash
        raise bad_request("The 'query' parameter is required.")
    if not isinstance(value, str):
        raise bad_request("The 'query' parameter must be a string.")
    return value


def request_from_query_params(params: Mapping[str, str]) -> GraphQLRequest:
    """Build the request of a GET from its decoded query parameters.

    ``variables`` and ``extensions`` are JSON-encoded; an empty ``operationName`` means none
    (GraphQL-over-HTTP draft, section "GET").
    """
    extensions = _json_map_param(params, "extensions")
    return GraphQLRequest(
        query=_required_query(params.get("query"), extensions),
        variables=_json_map_param(params, "variables"),
        operation_name=params.get("operationName") or None,
        extensions=extensions,
    )


def request_from_json_body(body: bytes) -> GraphQLRequest:
    """Build the request of a POST from its JSON body (UTF-8; other property names ignored)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid UTF-8 encoded JSON.") from None
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.")
    return request_from_payload(payload)


def request_from_payload(payload: Mapping[str, Any]) -> GraphQLRequest:
    """Build a request from a decoded JSON object (a POST body, or one member of a batch)."""
    extensions = _map_or_none(payload.get("extensions"), "extensions")
    return GraphQLRequest(
        query=_required_query(payload.get("query"), extensions),
        variables=_map_or_none(payload.get("variables"), "variables"),
        operation_name=_string_or_none(payload.get("operationName"), "operationName"),
        extensions=extensions,
    )
