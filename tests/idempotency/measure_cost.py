"""What a key costs a mutation: ``python -m tests.idempotency.measure_cost`` (a local server).

Runs ``createNote`` in process (no HTTP) against a fresh database, alternating rounds without a
key (one ``fraiseql_mutate`` statement) and with a new key each time (the request
transaction, the claim and the stored answer), and prints the median per mutation of each and
of replays.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time

import asyncpg
from tests.conftest import temporary_database
from tests.idempotency.notes import CREATE, NOTES_SQL, build_schema, note

from fraiseql import Idempotency, Schema
from fraiseql.db.contract import CONTRACT_SQL
from fraiseql.db.locate import find_test_dsn
from fraiseql.execution.outcome import GraphQLRequest

ROUNDS, PER_ROUND = 11, 200


async def _round(schema: Schema, keyed: str | None) -> float:
    """Seconds per mutation over one round; ``keyed``: None, "new" or "replay"."""
    replay_key = secrets.token_hex(8)
    started = time.perf_counter()
    for index in range(PER_ROUND):
        name = "replayed" if keyed == "replay" else f"n-{secrets.token_hex(6)}-{index}"
        extensions = None
        if keyed == "new":
            extensions = {"idempotencyKey": secrets.token_hex(8)}
        elif keyed == "replay":
            extensions = {"idempotencyKey": replay_key}
        request = GraphQLRequest(CREATE, note(name), extensions=extensions)
        prepared = schema.prepare(request)
        response = await schema.execute(prepared, request, {"tenant": "acme"})
        assert b'"SUCCESS"' in response.body
    return (time.perf_counter() - started) / PER_ROUND


async def main() -> None:
    async with temporary_database(await find_test_dsn()) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(CONTRACT_SQL)
            await connection.execute(NOTES_SQL)
        finally:
            await connection.close()
        schema = build_schema(dsn, Idempotency(install=True, purge_interval=None))
        await schema.open()
        try:
            times: dict[str, list[float]] = {"no key": [], "new key": [], "replay": []}
            await _round(schema, None)  # warm up
            for _ in range(ROUNDS):
                times["no key"].append(await _round(schema, None))
                times["new key"].append(await _round(schema, "new"))
                times["replay"].append(await _round(schema, "replay"))
        finally:
            await schema.close()
    base = statistics.median(times["no key"])
    for label, values in times.items():
        median = statistics.median(values)
        print(f"{label:8} {median * 1000:.2f} ms per mutation ({median / base:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
