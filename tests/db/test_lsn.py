"""Log positions: parsed strictly (they come from clients), written as PostgreSQL writes them."""

from __future__ import annotations

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraiseql.db.lsn import LsnError, format_lsn, parse_lsn


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_a_position_survives_a_round_trip(position: int) -> None:
    assert parse_lsn(format_lsn(position)) == position


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/",
        "0/",
        "/0",
        "0/0/0",
        "G/0",
        "-1/0",
        "0x1/0",
        "1/2 3",
        "123456789/0",
        "0/" + "0" * 9,
        "0/1;select",
        "Ⅷ/0",
        "0" * 41,
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(LsnError, match="log position"):
        parse_lsn(text)


async def test_the_format_is_postgresqls(server_dsn: str) -> None:
    connection = await asyncpg.connect(server_dsn)
    try:
        for position in (0, 1, 0x16B3748, (0x16 << 32) | 0xB374D848, (1 << 64) - 1):
            text = format_lsn(position)
            assert await connection.fetchval("SELECT $1::text::pg_lsn::text", text) == text
        current = await connection.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        assert format_lsn(parse_lsn(current)) == current
    finally:
        await connection.close()
