"""What one create costs in the database: ``python -m bench.write_cost [--quick]``.

On the side-by-side benchmark's database as it stands (``fraiseql_bench``: 1 000 000 posts; see
``bench.compare.seed``; ``--quick``: the 30 000-post one; ``--database``: another database
holding the example, e.g. a copy kept to compare a schema change against), one connection
times, in interleaved rounds of 100 writes each, each one its own transaction (durable commit,
as the servers run):

- ``createPost``: the statement FraiseQL's server sends for the benchmark's ``createPost``
  (``fraiseql_mutate``: ``fn_create_post`` and the read-back of the selected post), built by
  FraiseQL's own planner from the benchmark's document and variables;
- ``fn_create_post``: the example's mutation function alone (the insert into ``tb_post``, the
  post's ``tv_post`` row, the notify);
- ``insert``: a plain ``INSERT`` into ``tb_post``, what PostGraphile's create runs.

It prints the median time per write of each and, when the server runs on this machine and its
backend's ``/proc/<pid>/schedstat`` is readable, the median CPU time the backend spent per write
(PostgreSQL's side only: parsing, planning, executing, the commit), then the ratios to the
plain insert, and deletes what it wrote. ``docs/benchmarks/RESULTS.md`` quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from bench.common import server_url, with_database
from bench.compare import scenarios, seed

PREFIX = f"{scenarios.CREATED_PREFIX}write-cost-"
ROUNDS = 9
WRITES = 100


def create_post_statement(author_id: str) -> tuple[str, Callable[[str], tuple[Any, ...]]]:
    """The SQL FraiseQL's server sends for the benchmark's ``createPost``, and its arguments.

    Returns the statement and a function of the new post's identifier giving its parameters:
    the function, the input as JSON, the read-back statement, the (empty) settings of the
    single-tenant app the benchmark serves.
    """
    from examples.blog.schema import MUTATIONS, QUERIES, TYPES

    from fraiseql import Schema
    from fraiseql.db.commands import arguments_json
    from fraiseql.db.contract import MUTATE_SQL
    from fraiseql.execution.outcome import GraphQLRequest
    from fraiseql.sql.identifiers import quote_qualified
    from fraiseql.sql.select import select_one

    schema = Schema(types=TYPES, queries=QUERIES, mutations=MUTATIONS)
    # Only the creator matters to the create: the other picks are for the read scenarios.
    picks = scenarios.Parameters(
        "", "", 0, creator_id=author_id, creator_pk=0, creator_organisation_pk=0
    )
    document = scenarios.documents("fraiseql", picks)["create_post"]
    plan = schema.prepare(GraphQLRequest(document)).plan(
        schema.graphql_schema, schema.model.mutations, schema.executor.serializers, {}
    )
    (root,) = plan.roots
    (operation,) = parse(document).definitions
    assert isinstance(operation, OperationDefinitionNode)
    target, function = root.model.target, root.model.definition.sql_function
    read_sql = (
        select_one(target, "id", "", drop=root.pruned, as_bytes=True).sql
        if root.reads_entity
        else None
    )

    def parameters(identifier: str) -> tuple[Any, ...]:
        variables = scenarios.create_variables("fraiseql", picks, identifier)
        coerced = get_variable_values(
            schema.graphql_schema, operation.variable_definitions or (), variables
        )
        assert isinstance(coerced, VariableValues), coerced
        arguments = get_argument_values(root.definition, root.nodes[0], coerced)
        return quote_qualified(function), arguments_json(arguments), read_sql, []

    return MUTATE_SQL, parameters


def backend_cpu_reader(pid: int) -> Callable[[], float] | None:
    """Seconds of CPU the backend ``pid`` has run so far, if this machine can tell."""
    path = Path(f"/proc/{pid}/schedstat")
    try:
        path.read_text()
    except OSError:
        return None
    return lambda: int(path.read_text().split()[0]) / 1e9


async def connect(quick: bool, database: str | None) -> asyncpg.Connection:
    """A connection to the benchmark's database as it stands, or to ``database``."""
    if database is None:
        return await seed.connect_as_it_stands("quick" if quick else "full")
    return await asyncpg.connect(with_database(server_url(), database))


async def main(quick: bool, database: str | None) -> None:
    connection = await connect(quick, database)
    try:
        author, author_id, author_pk = await connection.fetchrow(
            "SELECT identifier, id::text, pk_user FROM tb_user ORDER BY pk_user LIMIT 1"
        )
        statement, parameters = create_post_statement(author_id)
        counter = 0

        def identifier() -> str:
            nonlocal counter
            counter += 1
            return f"{PREFIX}{counter}"

        async def server_statement() -> None:
            await connection.fetchrow(statement, *parameters(identifier()))

        async def function() -> None:
            body = {
                "identifier": identifier(),
                "title": "Cost",
                "body": "One write.",
                "author": author,
                "status": "draft",
                "tags": ["bench"],
                "category_path": "bench.cost",
            }
            await connection.fetchval("SELECT (fn_create_post($1::jsonb)).status", json.dumps(body))

        async def insert() -> None:
            await connection.execute(
                "INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, "
                "status, tags, category_path) SELECT $1, fk_organisation, pk_user, 'Cost', "
                "'One write.', 'draft', '{bench}', 'bench.cost' FROM tb_user WHERE pk_user = $2",
                identifier(),
                author_pk,
            )

        variants: dict[str, Callable[[], Awaitable[None]]] = {
            "createPost": server_statement,
            "fn_create_post": function,
            "insert": insert,
        }
        cpu = backend_cpu_reader(await connection.fetchval("SELECT pg_backend_pid()"))
        for variant in variants.values():  # plans cached, as on a server's pooled connections
            for _ in range(10):
                await variant()
        times: dict[str, list[float]] = {name: [] for name in variants}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        for round_ in range(ROUNDS):
            order = list(variants) if round_ % 2 == 0 else list(variants)[::-1]
            for variant in order:
                cpu_started = cpu() if cpu else 0.0
                started = time.perf_counter()
                for _ in range(WRITES):
                    await variants[variant]()
                times[variant].append((time.perf_counter() - started) / WRITES * 1e3)
                if cpu:
                    cpus[variant].append((cpu() - cpu_started) / WRITES * 1e6)
        for variant in variants:
            line = f"{variant:<15} {statistics.median(times[variant]):.3f} ms per write"
            if cpu:
                line += f", {statistics.median(cpus[variant]):.0f} us backend CPU"
            print(line + " (medians of rounds)")
        for variant in ("createPost", "fn_create_post"):
            ratio = statistics.median(times[variant]) / statistics.median(times["insert"])
            line = f"{variant} / insert: {ratio:.2f}x time"
            if cpu:
                cpu_ratio = statistics.median(cpus[variant]) / statistics.median(cpus["insert"])
                line += f", {cpu_ratio:.2f}x backend CPU"
            print(line)
    finally:
        await connection.execute("DELETE FROM tv_post WHERE identifier LIKE $1", PREFIX + "%")
        await connection.execute("DELETE FROM tb_post WHERE identifier LIKE $1", PREFIX + "%")
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 30 000-post database")
    parser.add_argument("--database", help="another database holding the example blog")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.quick, arguments.database))
