"""Sagas: steps that call other services, each with a compensation, surviving a crash.

A saga is a list of steps. Each step is an async action with an optional async compensation.
Progress is written to the ``fraiseql_saga`` table (``SAGA_SQL``) after every step, each write
committed on its own, so a process that dies between two steps leaves a row telling how far
it got. :meth:`SagaRunner.recover` finds such rows and finishes them.

Policy:

- A step that raises ends the forward run: the saga turns ``compensating`` and the
  compensations of that step and of every step before it run, last first.
- On recovery, a ``compensating`` saga goes on compensating from where it stopped. A
  ``running`` saga follows its ``recovery`` setting: ``"compensate"`` (the default) compensates
  the interrupted step and those before it; ``"forward"`` runs the interrupted step again and
  goes on.
- A compensation that raises leaves the saga ``compensating`` with the error recorded; the next
  :meth:`~SagaRunner.recover` tries again from that compensation.

So an interrupted step may run twice, and a compensation may run for an action that never
took effect or run twice: actions and compensations must be idempotent. Each receives the
step's ``idempotency_key`` (the same for a step's action and its compensation, and across
retries) to pass to the services it calls or to key its own writes with.

A running saga holds a session advisory lock on its id (on the connection it writes its progress
with). The lock disappears with the process, so ``recover`` takes over exactly the sagas whose
runner is gone and never one that is still running elsewhere.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
import orjson

logger = logging.getLogger("fraiseql.saga")

SAGA_SQL = """
CREATE TABLE IF NOT EXISTS fraiseql_saga (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    state       text NOT NULL
                CHECK (state IN ('running', 'compensating', 'completed', 'compensated')),
    step        integer NOT NULL,
    payload     jsonb NOT NULL,
    results     jsonb NOT NULL DEFAULT '{}',
    error       text,
    recoveries  integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS fraiseql_saga_unfinished ON fraiseql_saga (created_at)
    WHERE state IN ('running', 'compensating');
COMMENT ON COLUMN fraiseql_saga.step IS
    'running: the step in progress (the ones before it are done); '
    'compensating: the step whose compensation runs next';
"""
"""The saga table; run once per database (idempotent), e.g. with :meth:`SagaRunner.install`."""

_LOCK = "SELECT pg_try_advisory_lock(hashtext('fraiseql_saga'), hashtext($1::text))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('fraiseql_saga'), hashtext($1::text))"

SagaState = Literal["running", "compensating", "completed", "compensated"]


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step's action or compensation receives.

    ``results`` holds what the earlier steps returned, by index; ``recovering`` is true when
    the call happens in :meth:`SagaRunner.recover` after a crash.
    """

    saga_id: uuid.UUID
    saga_name: str
    index: int
    step_name: str
    payload: dict[str, Any]
    results: dict[int, Any]
    idempotency_key: str
    recovering: bool


StepCall = Callable[[StepContext], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class SagaStep:
    """One step: ``action`` returns a JSON-serializable result; ``compensate`` undoes it."""

    name: str
    action: StepCall
    compensate: StepCall | None = None


@dataclass(frozen=True, slots=True)
class Saga:
    """A named list of steps and what recovery does with an interrupted forward run."""

    name: str
    steps: tuple[SagaStep, ...]
    recovery: Literal["forward", "compensate"] = "compensate"

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"saga {self.name!r} has no steps")
        if self.recovery not in ("forward", "compensate"):
            raise ValueError(f"recovery must be 'forward' or 'compensate', not {self.recovery!r}")


@dataclass(slots=True)
class SagaResult:
    """How a saga ended (or where it stopped): its state, step results and first error."""

    id: uuid.UUID
    name: str
    state: SagaState
    results: dict[int, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def completed(self) -> bool:
        """Whether every step ran."""
        return self.state == "completed"


class SagaCompensationError(Exception):
    """A compensation raised: the saga stays ``compensating`` until a later recovery."""

    def __init__(self, result: SagaResult) -> None:
        super().__init__(f"saga {result.name} {result.id} could not compensate: {result.error}")
        self.result = result


class SagaRunner:
    """Runs and recovers the sagas it knows (by name), writing progress through ``pool``."""

    def __init__(self, pool: asyncpg.Pool, sagas: Iterable[Saga]) -> None:
        self.pool = pool
        self.sagas = {saga.name: saga for saga in sagas}

    async def install(self) -> None:
        """Create the saga table if it is missing."""
        async with self.pool.acquire() as connection:
            await connection.execute(SAGA_SQL)

    async def start(
        self, name: str, payload: dict[str, Any], *, saga_id: uuid.UUID | None = None
    ) -> SagaResult:
        """Run saga ``name`` to its end: ``completed``, or ``compensated`` after a failure.

        Raises :class:`SagaCompensationError` when a compensation fails.
        """
        saga = self.sagas[name]
        saga_id = saga_id or uuid.uuid4()
        async with self.pool.acquire() as connection:
            if not await connection.fetchval(_LOCK, str(saga_id)):
                raise RuntimeError(f"saga {saga_id} is already running")
            try:
                await connection.execute(
                    "INSERT INTO fraiseql_saga (id, name, state, step, payload) "
                    "VALUES ($1, $2, 'running', 0, $3::jsonb)",
                    saga_id,
                    name,
                    orjson.dumps(payload).decode(),
                )
                result = SagaResult(saga_id, name, "running")
                return await _Run(connection, saga, result, payload, 0, False).drive()
            finally:
                await connection.fetchval(_UNLOCK, str(saga_id))

    async def recover(self) -> list[SagaResult]:
        """Finish every unfinished saga whose runner is gone; return how each ended.

        Sagas still held by a live runner, and sagas of names this runner does not know, are
        left alone. A saga whose compensation fails again is returned ``compensating``.
        """
        async with self.pool.acquire() as connection:
            ids = await connection.fetch(
                "SELECT id FROM fraiseql_saga WHERE state IN ('running', 'compensating') "
                "ORDER BY created_at"
            )
        finished: list[SagaResult] = []
        for row in ids:
            result = await self._recover_one(row["id"])
            if result is not None:
                finished.append(result)
        return finished

    async def _recover_one(self, saga_id: uuid.UUID) -> SagaResult | None:
        async with self.pool.acquire() as connection:
            if not await connection.fetchval(_LOCK, str(saga_id)):
                return None  # its runner is alive
            try:
                row = await connection.fetchrow(
                    "UPDATE fraiseql_saga SET recoveries = recoveries + 1, updated_at = now() "
                    "WHERE id = $1 AND state IN ('running', 'compensating') "
                    "RETURNING name, state, step, payload::text, results::text, error",
                    saga_id,
                )
                if row is None:
                    return None  # it finished meanwhile
                saga = self.sagas.get(row["name"])
                if saga is None:
                    logger.warning("saga %s: no saga named %r to recover it", saga_id, row["name"])
                    return None
                results = {int(k): v for k, v in orjson.loads(row["results"]).items()}
                result = SagaResult(saga_id, saga.name, row["state"], results, row["error"])
                run = _Run(
                    connection, saga, result, orjson.loads(row["payload"]), row["step"], True
                )
                if result.state == "running" and saga.recovery == "compensate":
                    await run.turn_back(f"interrupted at step {row['step']}; compensating")
                try:
                    return await run.drive()
                except SagaCompensationError as error:
                    logger.warning("%s", error)
                    return error.result
            finally:
                await connection.fetchval(_UNLOCK, str(saga_id))


class _Run:
    """One saga driven to its end from a given state and step."""

    def __init__(
        self,
        connection: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
        saga: Saga,
        result: SagaResult,
        payload: dict[str, Any],
        step: int,
        recovering: bool,
    ) -> None:
        self.connection = connection
        self.saga = saga
        self.result = result
        self.payload = payload
        self.step = step
        self.recovering = recovering

    def context(self, index: int) -> StepContext:
        return StepContext(
            saga_id=self.result.id,
            saga_name=self.saga.name,
            index=index,
            step_name=self.saga.steps[index].name,
            payload=self.payload,
            results=dict(self.result.results),
            idempotency_key=f"{self.result.id}:{index}",
            recovering=self.recovering,
        )

    async def save(self, state: SagaState, error: str | None = None) -> None:
        self.result.state = state
        if error is not None and self.result.error is None:
            self.result.error = error
        await self.connection.execute(
            "UPDATE fraiseql_saga SET state = $2, step = $3, results = $4::jsonb, "
            "error = coalesce(error, $5), updated_at = now() WHERE id = $1",
            self.result.id,
            state,
            self.step,
            orjson.dumps({str(k): v for k, v in self.result.results.items()}).decode(),
            error,
        )

    async def turn_back(self, error: str) -> None:
        """Stop going forward: compensate from the current step (it may have run) down."""
        await self.save("compensating", error)

    async def drive(self) -> SagaResult:
        steps = self.saga.steps
        while self.result.state == "running" and self.step < len(steps):
            index = self.step
            try:
                outcome = await steps[index].action(self.context(index))
            except Exception as error:
                logger.info("saga %s step %s failed: %r", self.result.id, index, error)
                await self.turn_back(f"step {index} ({steps[index].name}) failed: {error!r}")
                break
            self.result.results[index] = outcome
            self.step = index + 1
            done = self.step == len(steps)
            await self.save("completed" if done else "running")
        while self.result.state == "compensating":
            index = self.step
            if index < 0:
                await self.save("compensated")
                break
            compensate = steps[index].compensate
            if compensate is not None:
                try:
                    await compensate(self.context(index))
                except Exception as error:
                    message = f"compensation of step {index} ({steps[index].name}): {error!r}"
                    self.result.error = message
                    await self.connection.execute(
                        "UPDATE fraiseql_saga SET error = $2, updated_at = now() WHERE id = $1",
                        self.result.id,
                        message,
                    )
                    raise SagaCompensationError(self.result) from error
            self.step = index - 1
            await self.save("compensating")
        return self.result
