"""The example's seed: a fixed script of commands, the same events on every run.

``seed(dsn)`` runs :data:`SCRIPT` through the real command functions (so the seed obeys the
same rules as the API), in one transaction, with fixed actors and a fixed event clock
(``events.clock``: the first command at :data:`SEEDED_AT`, each next one three hours later),
then catches the projections up. Account ids come from :func:`seed_uuid`, so everything but
the event ids is the same on every run:

- ``alice-checking`` (EUR) and ``bob-savings`` (EUR) with a few movements;
- ``carol-travel`` (CHF), emptied and closed;
- ``dave-business`` (USD), owned by a hostile name on purpose, with 13 events: snapshots at
  versions 5 and 10, so loading it folds the last 3 events only.

The store must be empty (build it with :func:`examples.event_sourcing.database.load_schema`).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from examples.event_sourcing.projector import wait_caught_up

__all__ = ["SCRIPT", "SEEDED_AT", "seed", "seed_uuid"]

SEEDED_AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=3)


def seed_uuid(identifier: str) -> uuid.UUID:
    """The fixed id of a seeded account, e.g. ``seed_uuid("alice-checking")``."""
    return uuid.UUID(hashlib.md5(f"events:account:{identifier}".encode()).hexdigest())


def _open(identifier: str, owner: str, currency: str) -> dict[str, Any]:
    return {
        "id": str(seed_uuid(identifier)),
        "identifier": identifier,
        "owner": owner,
        "currency": currency,
    }


def _money(account: str, amount: str) -> dict[str, Any]:
    return {"account": account, "amount": amount}


SCRIPT: list[tuple[str, str, dict[str, Any]]] = [
    ("teller-anna", "fn_open_account", _open("alice-checking", "Alice Smith", "EUR")),
    ("teller-anna", "fn_open_account", _open("bob-savings", "Bob O'Brien", "EUR")),
    ("teller-ben", "fn_open_account", _open("carol-travel", "Carol Müller", "CHF")),
    (
        "teller-ben",
        "fn_open_account",
        _open("dave-business", "Robert'); DROP TABLE tb_event; --", "USD"),
    ),
    ("teller-anna", "fn_deposit", _money("alice-checking", "1200.00")),
    ("online-banking", "fn_withdraw", _money("alice-checking", "75.25")),
    ("teller-anna", "fn_deposit", _money("bob-savings", "5000")),
    ("teller-ben", "fn_deposit", _money("carol-travel", "300.10")),
    ("online-banking", "fn_withdraw", _money("carol-travel", "300.10")),
    ("teller-ben", "fn_close_account", {"account": "carol-travel"}),
    ("online-banking", "fn_deposit", _money("dave-business", "0.01")),
    ("online-banking", "fn_deposit", _money("dave-business", "999999999.99")),
    ("online-banking", "fn_withdraw", _money("dave-business", "500000000")),
    ("online-banking", "fn_deposit", _money("dave-business", "12.34")),
    ("online-banking", "fn_withdraw", _money("dave-business", "0.35")),
    ("online-banking", "fn_deposit", _money("dave-business", "100")),
    ("online-banking", "fn_deposit", _money("dave-business", "200")),
    ("online-banking", "fn_withdraw", _money("dave-business", "300")),
    ("online-banking", "fn_deposit", _money("dave-business", "1.50")),
    ("online-banking", "fn_withdraw", _money("alice-checking", "24.75")),
    ("online-banking", "fn_deposit", _money("dave-business", "2.50")),
    ("online-banking", "fn_withdraw", _money("dave-business", "4")),
    ("teller-anna", "fn_withdraw", _money("bob-savings", "1000")),
    ("online-banking", "fn_deposit", _money("dave-business", "42")),
]
"""``(actor, command function, input)`` in the order they run."""

_SETTINGS = "SELECT set_config('app.actor', $1, true), set_config('events.clock', $2, true)"


async def seed(dsn: str) -> None:
    """Run :data:`SCRIPT` into an empty store, then catch the projections up."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            if await connection.fetchval("SELECT EXISTS (SELECT FROM tb_stream)"):
                raise RuntimeError(
                    "the event store is not empty (it is append-only): rebuild it with"
                    " load_schema before seeding"
                )
            for number, (actor, function, arguments) in enumerate(SCRIPT):
                moment = (SEEDED_AT + number * STEP).isoformat()
                await connection.execute(_SETTINGS, actor, moment)
                # The function names come from SCRIPT above, never from input.
                row = await connection.fetchrow(
                    f"SELECT status, message FROM {function}($1::jsonb)",
                    orjson.dumps(arguments).decode(),
                )
                if row is None or row["status"] != "success":
                    raise RuntimeError(f"seed step {number} ({function}) failed: {dict(row or {})}")
        await wait_caught_up(connection)
    finally:
        await connection.close()
