"""Decoding the GraphQL-over-HTTP request parameters from a GET query string or a POST body.

Parameters follow the GraphQL-over-HTTP draft, section "Request Parameters": ``query`` is a
required string, ``operationName`` an optional string, ``variables`` and ``extensions`` optional
maps; ``null`` is the same as absent. A request whose parameters have the wrong type is not a
well-formed GraphQL-over-HTTP request and is refused with ``400`` before any GraphQL work, and so
is a JSON request object that gives a parameter twice (:func:`refuse_repeated_parameters`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fraiseql.asgi import json_input
from fraiseql.asgi.errors import bad_request
from fraiseql.execution.outcome import GraphQLRequest

REQUEST_PARAMETERS = ("query", "variables", "operationName", "extensions", "documentId")
"""The keys of a JSON request object that :func:`request_from_payload` reads."""

_PARAMETER_NAMES = frozenset(REQUEST_PARAMETERS)
_QUOTED_PARAMETERS = json_input.quoted(REQUEST_PARAMETERS)
_QUOTED_BY_NAME = dict(zip(REQUEST_PARAMETERS, _QUOTED_PARAMETERS, strict=True))

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
    return _map_or_none(json_input.loads(raw, f"The {name!r} parameter"), name)


def _map_or_none(value: object, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise bad_request(f"The {name!r} parameter must be a JSON object.")


def _string_or_none(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"The {name!r} parameter must be a string.")


def _required_query(
    value: object, extensions: dict[str, Any] | None, document_id: str | None = None
) -> str | None:
    if value is None:
        if document_id is not None or (
            extensions is not None and isinstance(extensions.get("persistedQuery"), dict)
        ):
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
    document_id = params.get("documentId") or None
    return GraphQLRequest(
        query=_required_query(params.get("query"), extensions, document_id),
        variables=_json_map_param(params, "variables"),
        operation_name=params.get("operationName") or None,
        extensions=extensions,
        document_id=document_id,
    )


def request_from_json_body(body: bytes) -> GraphQLRequest:
    """Build the request of a POST from its JSON body (UTF-8; other property names ignored)."""
    payload = json_input.loads(body, "The request body")
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.")
    refuse_repeated_parameters(body, decoded=payload)
    return request_from_payload(payload)


def refuse_repeated_parameters(
    body: bytes, *, batch: bool = False, decoded: Mapping[str, Any] | None = None
) -> None:
    r"""Refuse (400) a request object of ``body`` that gives one of the parameters twice.

    ``body`` is valid JSON: one request object, or with ``batch`` an array of them. orjson keeps
    the last of two equal keys, but a proxy or firewall in front of the server may act on the
    first, so ``{"query": A, "query": B}`` is refused rather than run as ``B``; keys are compared
    once decoded (``"qu\u0065ry"`` is ``"query"``). Other keys are ignored, so are their repeats,
    and so are repeats inside ``variables`` and ``extensions``, which the executor reads as one
    map. A body without a parameter's name twice in its bytes and without a ``\u00XX`` escape
    cannot repeat one: that test alone runs for most requests. ``decoded`` (one request
    object, as decoded) narrows the test to the parameters it holds: a repeated one is among
    them, since orjson keeps the last of two equal keys.
    """
    if decoded is not None:
        if b"\\u00" not in body and not _repeats_present(body, decoded):
            return
    elif not json_input.may_repeat(body, _QUOTED_PARAMETERS):
        return
    found = json_input.repeated_key(body, _PARAMETER_NAMES, batch=batch)
    if found is None:
        return
    member, key = found
    if batch:
        raise bad_request(f"Member {member} of the batch repeats the key {key!r}.")
    raise bad_request(f"The request body repeats the key {key!r}.")


def _repeats_present(body: bytes, decoded: Mapping[str, Any]) -> bool:
    """Whether ``body`` holds one of the parameters of ``decoded`` twice, quoted, anywhere."""
    for key in decoded:
        quoted = _QUOTED_BY_NAME.get(key)
        if quoted is not None and body.count(quoted) > 1:
            return True
    return False


def request_from_payload(payload: Mapping[str, Any]) -> GraphQLRequest:
    """Build a request from a decoded JSON object (a POST body, or one member of a batch)."""
    get = payload.get
    query, variables, name = get("query"), get("variables"), get("operationName")
    if (
        type(query) is str
        and (variables is None or type(variables) is dict)
        and (name is None or type(name) is str)
        and get("extensions") is None
        and get("documentId") is None
    ):  # the common request, without the checks one by one
        return GraphQLRequest(query, variables, name)
    extensions = _map_or_none(payload.get("extensions"), "extensions")
    document_id = _string_or_none(payload.get("documentId"), "documentId")
    return GraphQLRequest(
        query=_required_query(payload.get("query"), extensions, document_id),
        variables=_map_or_none(payload.get("variables"), "variables"),
        operation_name=_string_or_none(payload.get("operationName"), "operationName"),
        extensions=extensions,
        document_id=document_id,
    )
