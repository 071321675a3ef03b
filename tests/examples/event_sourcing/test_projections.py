"""Projections: replay from scratch gives byte-identical read models, the catch-up projector
goes on from its checkpoint and skips nothing, and snapshots speed up loading without
changing its result."""

from __future__ import annotations

import asyncpg
import orjson
import pytest
from examples.event_sourcing.database import load_schema
from examples.event_sourcing.seed import seed, seed_uuid
from tests.conftest import temporary_database

from examples.event_sourcing import projector

from .conftest import command, dump_read_models, open_account


class _RollbackError(Exception):
    """Raised to roll a test's transaction back."""


async def _checkpoint(connection: asyncpg.Connection, projection: str) -> tuple[int, int]:
    row = await connection.fetchrow(
        "SELECT position, events_applied FROM tb_projection_checkpoint WHERE projection = $1",
        projection,
    )
    return row["position"], row["events_applied"]


async def test_a_replay_from_scratch_gives_byte_identical_read_models(
    connection: asyncpg.Connection,
) -> None:
    for amount in ("1.10", "2.20", "3.30", "4.40", "5.50", "6.60"):
        identifier = await open_account(connection, deposit=amount)
        await command(connection, "fn_withdraw", {"account": identifier, "amount": "0.10"})
    await command(connection, "fn_withdraw", {"account": identifier, "amount": "6.50"})
    await command(connection, "fn_close_account", {"account": identifier})
    await projector.wait_caught_up(connection)
    before = await dump_read_models(connection)
    assert len(before["tv_account"]) >= 10 and before["tb_snapshot"]

    await connection.execute("SELECT fn_reset_projections()")
    assert await connection.fetchval("SELECT count(*) FROM tv_account") == 0
    assert await connection.fetchval("SELECT count(*) FROM tb_snapshot") == 0
    await projector.wait_caught_up(connection)
    assert await dump_read_models(connection) == before

    # And again through the projector's own replay, with a changed document in between: the
    # replay repairs it.
    await connection.execute(
        'UPDATE tv_account SET data = data || \'{"balance": "1000000.00"}\' WHERE id = $1',
        seed_uuid("alice-checking"),
    )
    await projector.replay(connection)
    assert await dump_read_models(connection) == before


async def test_the_sync_function_recomputes_the_same_documents(
    connection: asyncpg.Connection,
) -> None:
    await projector.wait_caught_up(connection)
    before = await dump_read_models(connection)
    assert await connection.fetchval("SELECT fn_sync_tv_account()") == 0  # nothing differs
    await connection.execute(
        'UPDATE tv_account SET data = data || \'{"owner": "Mallory"}\' WHERE id = $1',
        seed_uuid("bob-savings"),
    )
    assert (
        await connection.fetchval(
            "SELECT fn_sync_tv_account($1::uuid[])", [seed_uuid("bob-savings")]
        )
        == 1
    )
    assert await dump_read_models(connection) == before


_TODAY_COUNT = """
SELECT (data->>'event_count')::integer FROM tv_daily_activity
WHERE identifier = (now() AT TIME ZONE 'UTC')::date::text
"""


async def test_the_catch_up_goes_on_from_its_checkpoint(connection: asyncpg.Connection) -> None:
    await projector.wait_caught_up(connection)
    position, applied = await _checkpoint(connection, "daily_activity")
    day = await connection.fetchval(
        "SELECT data::text FROM tv_daily_activity WHERE identifier = '2024-05-01'"
    )
    counted_before = await connection.fetchval(_TODAY_COUNT) or 0
    identifier = await open_account(connection, deposit="7.00")
    await command(connection, "fn_withdraw", {"account": identifier, "amount": "2.00"})
    # The commands projected tv_account themselves; tv_daily_activity waits for the projector.
    assert await projector.lag(connection, "daily_activity") == 3
    assert (await connection.fetchval(_TODAY_COUNT) or 0) == counted_before

    await projector.wait_caught_up(connection)
    new_position, new_applied = await _checkpoint(connection, "daily_activity")
    assert new_applied == applied + 3 and new_position > position
    assert await connection.fetchval(_TODAY_COUNT) == counted_before + 3
    # Older days are not touched again.
    assert (
        await connection.fetchval(
            "SELECT data::text FROM tv_daily_activity WHERE identifier = '2024-05-01'"
        )
        == day
    )
    assert await connection.fetchval("SELECT fn_catch_up('daily_activity')") == 0


async def test_an_open_transaction_holds_the_projector_back_and_nothing_is_skipped(
    events_dsn: str, connection: asyncpg.Connection
) -> None:
    # `early` takes a transaction id first but appends last: its event has a smaller
    # transaction id and a larger position than `late`'s.
    early_account = await open_account(connection)
    late_account = await open_account(connection)
    await projector.wait_caught_up(connection)
    _, applied = await _checkpoint(connection, "daily_activity")
    early = await asyncpg.connect(events_dsn)
    try:
        transaction = early.transaction()
        await transaction.start()
        await early.execute("SELECT pg_current_xact_id()")  # assigns its transaction id
        late = await command(connection, "fn_deposit", {"account": late_account, "amount": "5"})
        assert late["status"] == "success"
        assert await connection.fetchval("SELECT fn_catch_up('daily_activity')") == 0
        assert await projector.lag(connection, "daily_activity") == 1
        await early.execute("SELECT set_config('app.actor', 'early', true)")
        status = await early.fetchval(
            "SELECT status FROM fn_deposit($1::jsonb)",
            orjson.dumps({"account": early_account, "amount": "6"}).decode(),
        )
        assert status == "success"
        await transaction.commit()
    finally:
        await early.close()
    await projector.wait_caught_up(connection)
    assert (await _checkpoint(connection, "daily_activity"))[1] == applied + 2
    order = await connection.fetch(
        "SELECT e.actor FROM tb_event e WHERE e.actor IN ('early', 'tester')"
        " ORDER BY e.transaction_id DESC, e.pk_event DESC LIMIT 2"
    )
    assert [r["actor"] for r in order] == ["tester", "early"]


async def _load_with_a_doctored_snapshot(
    connection: asyncpg.Connection, stream: int, seen: list[str]
) -> None:
    """Change snapshot 10, load the stream, roll back (by raising)."""
    async with connection.transaction():
        await connection.execute(
            'UPDATE tb_snapshot SET state = state || \'{"owner": "From the snapshot"}\''
            " WHERE fk_stream = $1 AND version = 10",
            stream,
        )
        seen.append(
            await connection.fetchval("SELECT (fn_load_account($1)).state ->> 'owner'", stream)
        )
        raise _RollbackError


async def test_snapshots_are_used_and_equal_a_full_fold(connection: asyncpg.Connection) -> None:
    stream = await connection.fetchval(
        "SELECT pk_stream FROM tb_stream WHERE id = $1", seed_uuid("dave-business")
    )
    loaded = await connection.fetchrow("SELECT * FROM fn_load_account($1)", stream)
    full = await connection.fetchrow("SELECT * FROM fn_load_account($1, false)", stream)
    assert (loaded["snapshot_version"], loaded["events_folded"]) == (10, 3)
    assert (full["snapshot_version"], full["events_folded"]) == (0, 13)
    assert loaded["state"] == full["state"]
    assert loaded["state"] == await connection.fetchval(
        "SELECT data::text FROM tv_account WHERE id = $1", seed_uuid("dave-business")
    )
    snapshots = await connection.fetch(
        "SELECT version, state::text FROM tb_snapshot WHERE fk_stream = $1 ORDER BY version",
        stream,
    )
    assert [s["version"] for s in snapshots] == [5, 10]
    # Every snapshot is the full fold up to its version.
    for version, state in snapshots:
        folded = await connection.fetchval(
            """
            WITH RECURSIVE fold(version, state) AS (
                SELECT 0, NULL::jsonb
                UNION ALL
                SELECT e.version, fn_apply_account_event(f.state, s.id, e)
                FROM fold f
                JOIN tb_event e ON e.fk_stream = $1 AND e.version = f.version + 1
                JOIN tb_stream s ON s.pk_stream = e.fk_stream
            )
            SELECT state::text FROM fold WHERE version = $2
            """,
            stream,
            version,
        )
        assert folded == state
    # The load really starts from the snapshot: a doctored one shows through (rolled back).
    seen: list[str] = []
    with pytest.raises(_RollbackError):
        await _load_with_a_doctored_snapshot(connection, stream, seen)
    assert seen == ["From the snapshot"]
    assert (
        await connection.fetchval("SELECT (fn_load_account($1)).state ->> 'owner'", stream)
        == "Robert'); DROP TABLE tb_event; --"
    )


async def test_the_seed_is_the_same_on_every_run(server_dsn: str) -> None:
    dumps = []
    for _ in range(2):
        async with temporary_database(server_dsn) as dsn:
            await load_schema(dsn)
            await seed(dsn)
            connection = await asyncpg.connect(dsn)
            try:
                dumps.append(await dump_read_models(connection))
                dumps.append(
                    [
                        tuple(row)
                        for row in await connection.fetch(
                            "SELECT s.id, e.version, e.event_type, e.payload::text, e.actor,"
                            " e.occurred_at FROM tb_event e JOIN tb_stream s"
                            " ON s.pk_stream = e.fk_stream ORDER BY e.pk_event"
                        )
                    ]
                )
            finally:
                await connection.close()
    assert dumps[0] == dumps[2] and dumps[1] == dumps[3]
