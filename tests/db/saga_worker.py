"""A three-step saga over a ledger table, run in-process by the tests or in a child process
that a test kills with SIGKILL in the middle of a step.

Every call of an action or compensation is logged in ``saga_calls`` (committed at once); the
effects go to ``saga_ledger`` keyed by the step's idempotency key, so running an action twice
writes once. Command line: ``python -m tests.db.saga_worker DSN SAGA_ID RECOVERY`` runs the
saga and, in step 1 after its write, prints ``READY`` and waits forever.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from fraiseql.db.saga import SAGA_SQL, Saga, SagaRunner, SagaStep, StepContext

LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS saga_ledger (key text PRIMARY KEY, what text NOT NULL);
CREATE TABLE IF NOT EXISTS saga_calls (
    n bigserial PRIMARY KEY, saga uuid NOT NULL, call text NOT NULL, key text NOT NULL
);
"""

STEPS = ("reserve", "charge", "confirm")


def build_saga(
    pool: asyncpg.Pool,
    recovery: str,
    *,
    after_write: Callable[[int, StepContext], Awaitable[None]] | None = None,
    failing: set[str] | None = None,
) -> Saga:
    """The ``order`` saga; ``after_write(index, context)`` runs inside a step after its write,
    and the calls named in ``failing`` (``"charge"``, ``"undo reserve"``...) raise."""
    failing = failing if failing is not None else set()

    async def log(call: str, context: StepContext) -> None:
        await pool.execute(
            "INSERT INTO saga_calls (saga, call, key) VALUES ($1, $2, $3)",
            context.saga_id,
            call,
            context.idempotency_key,
        )
        if call in failing:
            raise RuntimeError(f"{call} refused")

    def action(index: int) -> Callable[[StepContext], Awaitable[Any]]:
        async def run(context: StepContext) -> Any:
            await log(context.step_name, context)
            await pool.execute(
                "INSERT INTO saga_ledger (key, what) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                context.idempotency_key,
                f"{context.step_name} {context.payload['order']}",
            )
            if after_write is not None:
                await after_write(index, context)
            return {"step": context.step_name, "seen": sorted(context.results)}

        return run

    async def undo(context: StepContext) -> None:
        await log(f"undo {context.step_name}", context)
        await pool.execute("DELETE FROM saga_ledger WHERE key = $1", context.idempotency_key)

    return Saga(
        "order",
        tuple(
            SagaStep(name, action(i), undo if name != "confirm" else None)
            for i, name in enumerate(STEPS)
        ),
        recovery=recovery,  # type: ignore[arg-type]
    )


async def install(pool: asyncpg.Pool) -> None:
    """The saga table and the test's ledger."""
    async with pool.acquire() as connection:
        await connection.execute(SAGA_SQL + LEDGER_SQL)


async def _main(dsn: str, saga_id: str, recovery: str) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)

    async def block_in_charge(index: int, context: StepContext) -> None:
        if context.step_name == "charge":
            print("READY", flush=True)
            await asyncio.sleep(3600)

    runner = SagaRunner(pool, [build_saga(pool, recovery, after_write=block_in_charge)])
    await runner.start("order", {"order": 42}, saga_id=uuid.UUID(saga_id))


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:4]))
