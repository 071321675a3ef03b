"""Variable coercion per request: graphql-core's ``get_variable_values`` vs the compiled coercer.

    python -m bench.variables [--quick]

No database: the blog's schema (with its mutations) and three operations, each with the raw
variables of a request: ``uuid`` (one ``$id: UUID!``, the lookup of a post), ``create_post``
(``$input: CreatePostInput!``, the blog's typical mutation input: seven fields, an enum, a list
of tags, a default left to apply) and ``where`` (``$where: PostWhereInput``, a filter with
``or``: a recursive input type, for which the coercer also pays graphql-core's nesting walk).
Every timed call gets a fresh variables dict (``orjson.loads`` of the request's JSON, outside
the timing), as a server gets one per request. Before timing, both sides must give the same
coerced values.

The two sides are interleaved round by round (``bench.common``); ``speedup`` is the median of
per-round ratios (graphql-core's time / the coercer's).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

import orjson
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from bench.common import Variant, calibrate, interleave, log, paired_ratio, spread

SETTINGS = {
    "full": {"rounds": 21, "batch_s": 0.05},
    "quick": {"rounds": 5, "batch_s": 0.01},
}

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "uuid": (
        "query($id: UUID!) { post(id: $id) { id title } }",
        {"id": "6b3f3c2e-2f7e-4c2e-9a7e-1c2b3d4e5f60"},
    ),
    "create_post": (
        "mutation($input: CreatePostInput!) { createPost(input: $input) { status } }",
        {
            "input": {
                "identifier": "postgres-tips",
                "title": "Ten PostgreSQL tips",
                "body": "Use EXPLAIN (ANALYZE, BUFFERS) before guessing.",
                "author": "alice",
                "status": "PUBLISHED",
                "tags": ["postgres", "sql", "performance"],
                "categoryPath": "tech.databases.postgres",
            }
        },
    ),
    "where": (
        "query($where: PostWhereInput) { posts(where: $where, limit: 10) { id } }",
        {
            "where": {
                "status": {"eq": "PUBLISHED"},
                "or": [{"viewCount": {"gte": 100}}, {"title": {"icontains": "sql"}}],
            }
        },
    ),
}


def measure(schema: Any, query: str, variables: dict[str, Any], settings: dict[str, Any]) -> Any:
    from fraiseql.execution.variables import VariableCoercer

    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    definitions = operation.variable_definitions
    coercer = VariableCoercer(schema, definitions)
    payload = orjson.dumps(variables)
    expected, got = get_variable_values(schema, definitions, variables), coercer(variables)
    if isinstance(expected, list) or isinstance(got, list) or expected.coerced != got.coerced:
        raise SystemExit(f"variables: the two sides differ on {query}: {expected} vs {got}")

    def fresh(number: int) -> list[Any]:
        return [orjson.loads(payload) for _ in range(number)]

    variants = {
        "graphql_core": Variant(lambda raw: get_variable_values(schema, definitions, raw), fresh),
        "compiled": Variant(coercer, fresh),
    }
    for variant in variants.values():
        variant.number = calibrate(variant, settings["batch_s"], 1_000_000)
    samples = interleave(variants, rounds=settings["rounds"])
    return {
        "median_us": {name: statistics.median(s) * 1e6 for name, s in samples.items()},
        "spread": {name: spread(s) for name, s in samples.items()},
        "speedup": paired_ratio(samples["graphql_core"], samples["compiled"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    arguments = parser.parse_args(argv)
    from examples.blog.schema import printable_schema

    settings = SETTINGS["quick" if arguments.quick else "full"]
    schema = printable_schema().graphql_schema
    for name, (query, variables) in CASES.items():
        log(f"variables: {name}")
        result = measure(schema, query, variables, settings)
        us, noise = result["median_us"], result["spread"]
        print(
            f"{name:>12} | µs per call: graphql-core {us['graphql_core']:.2f}"
            f"  compiled {us['compiled']:.2f} | speedup {result['speedup']:.1f}x"
            f" | noise ±{noise['graphql_core']:.0%}, ±{noise['compiled']:.0%}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
