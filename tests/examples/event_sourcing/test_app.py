"""The example through FraiseQL over HTTP (ASGI): commands as mutations with the result
contract, the read models, and the audit history query."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from examples.event_sourcing.app import ACTOR_HEADER, build
from examples.event_sourcing.schema import printable_schema
from examples.event_sourcing.seed import SEEDED_AT, seed_uuid

from examples.event_sourcing import projector

from .conftest import new_identifier

OPEN = """
mutation($identifier: String!) {
  openAccount(input: {identifier: $identifier, owner: "Über Owner", currency: "CHF"}) {
    status errors { field code } account { identifier status balance version currency }
  }
}
"""
DEPOSIT = """
mutation($account: String!, $amount: Decimal!, $expected: Int) {
  deposit(input: {account: $account, amount: $amount, expectedVersion: $expected}) {
    status message errors { field message code } account { balance version }
  }
}
"""
WITHDRAW = DEPOSIT.replace("deposit(", "withdraw(")
CLOSE = """
mutation($account: String!) {
  closeAccount(input: {account: $account}) { status errors { field code } account { status } }
}
"""
HISTORY = """
query($account: String!, $after: Int, $limit: Int! = 100) {
  accountHistory(account: $account, afterVersion: $after, limit: $limit) {
    version type payload amount actor occurredAt accountId
  }
}
"""


@pytest.fixture(scope="module")
async def client(events_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the module's database, served in process."""
    app = build(events_dsn)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _graphql(
    client: httpx.AsyncClient, query: str, actor: str | None = "web-tester", **variables: Any
) -> dict[str, Any]:
    headers = {ACTOR_HEADER: actor} if actor is not None else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_schema_has_the_documented_fields() -> None:
    sdl = printable_schema().print_schema()
    for field in (
        "accountHistory(account: String!, afterVersion: Int = null, limit: Int! = 100):"
        " [AccountEvent!]!",
        "deposit(input: MoveMoneyInput!): DepositPayload!",
        "openAccount(input: OpenAccountInput!): OpenAccountPayload!",
        "closeAccount(input: CloseAccountInput!): CloseAccountPayload!",
        "balance: Decimal!",
    ):
        assert field in sdl, field


async def test_the_seeded_history_is_served_from_the_store(client: httpx.AsyncClient) -> None:
    result = await _graphql(client, HISTORY, account="alice-checking")
    assert "errors" not in result, result
    events = result["data"]["accountHistory"]
    assert [(e["version"], e["type"], e["amount"], e["actor"]) for e in events] == [
        (1, "AccountOpened", None, "teller-anna"),
        (2, "MoneyDeposited", "1200.00", "teller-anna"),
        (3, "MoneyWithdrawn", "75.25", "online-banking"),
        (4, "MoneyWithdrawn", "24.75", "online-banking"),
    ]
    assert events[0]["payload"] == {
        "identifier": "alice-checking",
        "owner": "Alice Smith",
        "currency": "EUR",
    }
    assert events[0]["occurredAt"] == SEEDED_AT.isoformat()
    assert {e["accountId"] for e in events} == {str(seed_uuid("alice-checking"))}
    by_id = await _graphql(
        client, HISTORY, account=str(seed_uuid("dave-business")), after=10, limit=2
    )
    assert [e["version"] for e in by_id["data"]["accountHistory"]] == [11, 12]


async def test_the_history_refuses_bad_arguments_clearly(client: httpx.AsyncClient) -> None:
    unknown = await _graphql(client, HISTORY, account="nobody-here")
    assert unknown["data"] is None
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert unknown["errors"][0]["extensions"]["field"] == "account"
    for arguments, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"after": -1}, "afterVersion"),
    ):
        refused = await _graphql(client, HISTORY, account="alice-checking", **arguments)
        assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_a_life_of_commands_through_graphql(client: httpx.AsyncClient) -> None:
    identifier = new_identifier("web")
    opened = (await _graphql(client, OPEN, identifier=identifier))["data"]["openAccount"]
    assert opened == {
        "status": "SUCCESS",
        "errors": [],
        "account": {
            "identifier": identifier,
            "status": "OPEN",
            "balance": "0.00",
            "version": 1,
            "currency": "CHF",
        },
    }
    paid = await _graphql(client, DEPOSIT, account=identifier, amount="19.99", expected=1)
    assert paid["data"]["deposit"]["account"] == {"balance": "19.99", "version": 2}
    exact = await _graphql(client, DEPOSIT, account=identifier, amount=0.01)
    assert exact["data"]["deposit"]["account"] == {"balance": "20.00", "version": 3}

    stale = await _graphql(client, DEPOSIT, account=identifier, amount="1", expected=2)
    payload = stale["data"]["deposit"]
    assert payload["status"] == "CONFLICT"
    assert payload["errors"] == [
        {
            "field": "expected_version",
            "code": "stale_version",
            "message": "stale version; the current one is 3",
        }
    ]
    assert payload["account"] == {"balance": "20.00", "version": 3}  # as it stands

    overdraft = await _graphql(client, WITHDRAW, account=identifier, amount="20.01")
    assert overdraft["data"]["withdraw"]["status"] == "VALIDATION_ERROR"
    assert overdraft["data"]["withdraw"]["errors"][0]["code"] == "insufficient_funds"
    not_empty = (await _graphql(client, CLOSE, account=identifier))["data"]["closeAccount"]
    assert not_empty["errors"] == [{"field": "account", "code": "balance_not_zero"}]
    emptied = await _graphql(client, WITHDRAW, account=identifier, amount="20")
    assert emptied["data"]["withdraw"]["account"] == {"balance": "0.00", "version": 4}
    closed = (await _graphql(client, CLOSE, account=identifier))["data"]["closeAccount"]
    assert closed == {"status": "SUCCESS", "errors": [], "account": {"status": "CLOSED"}}
    late = (await _graphql(client, DEPOSIT, account=identifier, amount="1"))["data"]["deposit"]
    assert (late["status"], late["errors"][0]["code"]) == ("VALIDATION_ERROR", "account_closed")

    history = (await _graphql(client, HISTORY, account=identifier))["data"]["accountHistory"]
    assert [(e["type"], e["amount"], e["actor"]) for e in history] == [
        ("AccountOpened", None, "web-tester"),
        ("MoneyDeposited", "19.99", "web-tester"),
        ("MoneyDeposited", "0.01", "web-tester"),
        ("MoneyWithdrawn", "20.00", "web-tester"),
        ("AccountClosed", None, "web-tester"),
    ]


async def test_bad_input_gets_clear_errors_and_writes_nothing(
    client: httpx.AsyncClient, connection: Any
) -> None:
    identifier = new_identifier("bad")
    await _graphql(client, OPEN, identifier=identifier)
    before = await connection.fetchval("SELECT count(*) FROM tb_event")
    for amount, code in (
        ("-1", "not_positive"),
        ("1e30", "too_large"),
        ("0.001", "scale"),
        ("1E+9999", "too_large"),
        ("1000000000.01", "too_large"),
    ):
        result = await _graphql(client, DEPOSIT, account=identifier, amount=amount)
        payload = result["data"]["deposit"]
        assert payload["status"] == "VALIDATION_ERROR", (amount, result)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("amount", code)]
    unknown = await _graphql(client, DEPOSIT, account="no-such-account", amount="1")
    assert unknown["data"]["deposit"]["status"] == "NOT_FOUND"
    assert unknown["data"]["deposit"]["account"] is None
    not_a_number = await _graphql(client, DEPOSIT, account=identifier, amount="ten")
    assert not_a_number["errors"][0]["extensions"]["code"] in {
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    }
    nobody = await _graphql(client, DEPOSIT, actor=None, account=identifier, amount="1")
    assert nobody["data"]["deposit"]["status"] == "FORBIDDEN"
    for actor in ("x" * 101, " padded", "bell\x07"):
        refused = await _graphql(client, DEPOSIT, actor=actor, account=identifier, amount="1")
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_CLAIMS"
    assert await connection.fetchval("SELECT count(*) FROM tb_event") == before


async def test_concurrent_mutations_with_one_expected_version(
    client: httpx.AsyncClient,
) -> None:
    identifier = new_identifier("race")
    await _graphql(client, OPEN, identifier=identifier)
    results = await asyncio.gather(
        *(_graphql(client, DEPOSIT, account=identifier, amount="5", expected=1) for _ in range(3))
    )
    statuses = sorted(r["data"]["deposit"]["status"] for r in results)
    assert statuses == ["CONFLICT", "CONFLICT", "SUCCESS"]


async def test_the_catch_up_projection_is_served(
    client: httpx.AsyncClient, connection: Any
) -> None:
    await projector.wait_caught_up(connection)
    result = await _graphql(
        client,
        "{ dailyActivity(orderBy: [{day: ASC}], limit: 2) { day eventCount deposited withdrawn"
        " accountsOpened accountsClosed } }",
    )
    assert result["data"]["dailyActivity"][0] == {
        "day": "2024-05-01",
        "eventCount": 5,  # 09:00 to 21:00: the four openings and Alice's deposit
        "deposited": "1200.00",
        "withdrawn": "0.00",
        "accountsOpened": 4,
        "accountsClosed": 0,
    }
