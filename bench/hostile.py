"""How long the query limits take to refuse a 1 MiB hostile document (no database needed).

``python -m bench.hostile`` builds hostile documents of about 1 MiB (the default body limit)
and times, for each, median over rounds (variants interleaved, as in ``bench.common``):

- ``http``: a whole POST through the ASGI handler in-process (body read, JSON decode, limits,
  parse and validation when the limits let it through) up to the response; the execution is
  replaced by an empty answer, so nothing reaches a database;
- ``limits``: the document cache's ``get`` on a cold cache (token limit, then parse, the depth
  and alias limits, validation and cost when it gets that far);
- ``graphql-core``: ``graphql.parse(document, max_tokens=2000)``, the check FraiseQL used before
  its lexer-only pass (it builds the syntax tree up to the limit);

and as the reference, ``small``: parsing and validating a typical small query on a cold
document cache. Documents that stay within the token limit (one huge string or comment) are
parsed by graphql-core: they are listed to show what a long single token costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from examples.blog.schema import QUERIES, TYPES
from graphql import GraphQLError, parse

from bench.common import cpu_model
from fraiseql import Schema
from fraiseql.asgi.http import GraphQLHTTPHandler
from fraiseql.execution.document_cache import DocumentCache
from fraiseql.execution.outcome import (
    ExecutionResponse,
    GraphQLRequest,
    PreparedOperation,
    RequestError,
)

SIZE = 1 << 20
SMALL = "{ posts(limit: 10) { id title author { name } comments { body } } }"


def _fill(head: str, unit: str, tail: str) -> str:
    """``head + unit * n + tail`` of just under 1 MiB once wrapped in a JSON body."""
    encoded = len(orjson.dumps(unit)) - 2  # a line break is two bytes in JSON
    count = (SIZE - 64 - len(orjson.dumps(head + tail))) // encoded
    return head + unit * count + tail


def hostile_documents() -> dict[str, str]:
    """The hostile documents, by name."""
    aliases = "".join(f"a{n}: posts {{ id }} " for n in range(60_000))
    return {
        "many-fields": _fill("{ ", "posts { id } ", "}"),
        "deep-nesting": _fill("", "{", ""),
        "deep-fields": _fill("{ ", "posts { ", "id }"),
        "many-aliases": ("{ " + aliases)[: SIZE - 64],
        "many-comments": _fill("", "#\n", "{ posts { id } }"),
        "one-comment": _fill("# ", "x", "\n{ posts { id } }"),
        "one-string": _fill('{ post(identifier: "', "x", '") { id } }'),
        "unterminated-string": _fill('{ post(identifier: "', "x", ""),
    }


def _body(document: str) -> bytes:
    body = orjson.dumps({"query": document})
    assert len(body) <= SIZE, len(body)
    return body


async def _post(handler: GraphQLHTTPHandler, body: bytes) -> int:
    sent: list[dict[str, object]] = []
    delivered = False

    async def receive() -> dict[str, object]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    await handler(scope, receive, send)  # type: ignore[arg-type]
    return int(sent[0]["status"])  # type: ignore[call-overload]


class _PrepareOnly:
    """The schema's ``prepare``; ``execute`` answers at once (this measures no execution)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        # A fresh cache every time: a repeated document would otherwise be a cache hit.
        entry = _cold_cache(self.schema).get(request.query or "")
        if entry.errors:
            raise RequestError(entry.errors)
        return PreparedOperation("query")

    async def execute(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> ExecutionResponse:
        return ExecutionResponse(b'{"data":null}')


def _cold_cache(schema: Schema) -> DocumentCache:
    documents = schema.executor.documents
    return DocumentCache(
        schema.graphql_schema, limits=documents.limits, root_sizes=documents.root_sizes
    )


def _prepare(schema: Schema, document: str) -> str:
    """Limits, parse and validation of ``document`` on a cold cache; the first error or "valid"."""
    entry = _cold_cache(schema).get(document)
    return str(entry.errors[0]["message"]) if entry.errors else "valid"


def _graphql_core(document: str) -> str:
    try:
        parse(document, max_tokens=2000)
    except GraphQLError as error:
        return error.message
    return "parsed"


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    arguments = parser.parse_args(argv)
    schema = Schema(types=TYPES, queries=QUERIES)
    handler = GraphQLHTTPHandler(_PrepareOnly(schema), graphiql=False)
    loop = asyncio.new_event_loop()
    variants: dict[str, Callable[[str, bytes], object]] = {
        "http": lambda _, body: loop.run_until_complete(_post(handler, body)),
        "limits": lambda document, _: _prepare(schema, document),
        "graphql-core": lambda document, _: _graphql_core(document),
    }
    print(f"python {platform.python_version()}, {cpu_model()}, {os.cpu_count()} cores,")
    print(f"FRAISEQL_IMPL={os.environ.get('FRAISEQL_IMPL', 'default')}, {arguments.rounds} rounds")
    small = []
    for _ in range(arguments.rounds):
        started = time.perf_counter()
        _prepare(schema, SMALL)
        small.append(time.perf_counter() - started)
    print(f"reference: parse + validate a small query (cold cache): {_median_ms(small):.2f} ms\n")
    print(f"{'document':<22}{'bytes':>9}{'http ms':>10}{'limits ms':>11}{'g-core ms':>11}  outcome")
    for name, document in hostile_documents().items():
        body = _body(document)
        samples: dict[str, list[float]] = {variant: [] for variant in variants}
        for round_number in range(arguments.rounds):
            names = list(variants)
            shift = round_number % len(names)
            for variant in names[shift:] + names[:shift]:
                started = time.perf_counter()
                variants[variant](document, body)
                samples[variant].append(time.perf_counter() - started)
        outcome = _prepare(schema, document)
        status = variants["http"](document, body)
        print(
            f"{name:<22}{len(body):>9}{_median_ms(samples['http']):>10.2f}"
            f"{_median_ms(samples['limits']):>11.2f}{_median_ms(samples['graphql-core']):>11.2f}"
            f"  {status} {outcome[:60]}"
        )
    loop.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
