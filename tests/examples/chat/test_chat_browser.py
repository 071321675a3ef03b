"""The chat page in a real browser: two users chat live, tenants stay apart, nothing leaves.

Headless Chromium (Debian's ``chromium``, driven over CDP by ``tests/asgi/browser.py``) loads
the page from the chat app served by uvicorn on 127.0.0.1 with the seeded database (the
``chat_app_dsn`` fixture of ``conftest.py``). Every HTTP request of a page is intercepted and
only the app's origin is let through; WebSocket handshakes are not seen by that interception,
so the page's sockets are watched through CDP's ``Network`` events instead. What a page shows
is read from its DOM (``#messages``, ``#typing``); ``window.chatReady`` says its socket is
acknowledged and its room's subscriptions are sent (see the comment at the top of the page).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from examples.chat.app import TENANT_HEADER, USER_HEADER
from examples.chat.database import seed_uuid
from tests.asgi.browser import Browser, Page, chromium, find_chromium

from .conftest import serving_chat

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium executable (Debian package 'chromium', which .ci/run installs; "
        "or set FRAISEQL_CHROMIUM)",
    ),
]

GLOBEX = str(seed_uuid("organisation", "globex"))
ERIN = str(seed_uuid("user", "globex", "erin"))
ACME = str(seed_uuid("organisation", "acme"))
CAROL = str(seed_uuid("user", "acme", "carol"))

POST = """
mutation($room: String!, $body: String!) {
  postMessage(input: {room: $room, body: $body}) { status id }
}
"""

MESSAGES = """[...document.querySelectorAll('#messages li')].map((li) => ({
    id: li.dataset.id,
    author: li.querySelector('.author').textContent,
    body: li.querySelector('.body').textContent,
}))"""
"""The messages a page shows, as text, in order."""


def js(value: Any) -> str:
    """``value`` as a JavaScript literal."""
    return orjson.dumps(value).decode()


@pytest.fixture(scope="module")
def origin(chat_app_dsn: str) -> Any:
    """The chat app with its page, served for the whole module: ``http://host:port``."""
    with serving_chat(chat_app_dsn) as host:
        yield f"http://{host}"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with chromium(CHROMIUM) as running:
        yield running


@pytest.fixture
async def pages(browser: Browser, origin: str) -> AsyncIterator[list[Page]]:
    """The pages a test opens (see :func:`open_chat`); each is checked, then closed.

    A page may ask for nothing outside the app's origin and may log no error; its WebSockets go
    to the app's ``/graphql`` only, and they connected (the handshake answered 101).
    """
    opened: list[Page] = []
    yield opened
    try:
        for page in opened:
            assert page.refused == [], "requests that would have left the machine"
            outside = [url for url in page.requested if not url.startswith(origin + "/")]
            assert outside == []
            assert page.problems == [], "\n".join(page.problems)
            ws = origin.replace("http://", "ws://", 1) + "/graphql"
            assert page.sockets, "the page opened no WebSocket"
            assert [s["url"] for s in page.sockets.values()] == [ws] * len(page.sockets)
            assert all(s["status"] == 101 for s in page.sockets.values()), page.sockets
    finally:
        for page in opened:
            await page.close()


async def open_chat(
    browser: Browser, origin: str, pages: list[Page], tenant: str, user: str, room: str
) -> Page:
    """The chat page signed in as ``user`` of ``tenant`` in ``room`` (identifiers), live."""
    page = await browser.new_page(allowed=[origin + "/"])
    pages.append(page)
    await page.goto(f"{origin}/?tenant={tenant}&user={user}&room={room}")
    await page.wait_for("window.chatReady === true", f"the page of {user}@{tenant} to be live")
    assert await page.evaluate("document.querySelector('#status').textContent") == "live"
    shown = await page.evaluate(
        "[document.querySelector('#tenant').selectedOptions[0].dataset.identifier,"
        " document.querySelector('#user').selectedOptions[0].dataset.identifier,"
        " document.querySelector('#rooms li.active').dataset.identifier]"
    )
    assert shown == [tenant, user, room]
    return page


async def messages(page: Page) -> list[dict[str, str]]:
    shown: list[dict[str, str]] = await page.evaluate(MESSAGES)
    return shown


async def wait_for_message(page: Page, body: str) -> dict[str, str]:
    """The message with this exact text once the page shows it."""
    found: dict[str, str] = await page.wait_for(
        f"({MESSAGES}).find((message) => message.body === {js(body)})", f"the message {body!r}"
    )
    return found


async def post(origin: str, tenant: str, user: str, body: str) -> str:
    """Post ``body`` in the tenant's general room over HTTP, as ``user``; the message's id."""
    headers = {TENANT_HEADER: tenant, USER_HEADER: user}
    async with httpx.AsyncClient(base_url=origin, timeout=5) as client:
        response = await client.post(
            "/graphql",
            json={"query": POST, "variables": {"room": "general", "body": body}},
            headers=headers,
        )
    payload = response.json()["data"]["postMessage"]
    assert payload["status"] == "SUCCESS", payload
    message_id: str = payload["id"]
    return message_id


async def test_a_message_typed_by_bob_appears_on_alices_page_as_text(
    browser: Browser, origin: str, pages: list[Page]
) -> None:
    alice = await open_chat(browser, origin, pages, "acme", "alice", "general")
    bob = await open_chat(browser, origin, pages, "acme", "bob", "general")
    history = await messages(alice)
    assert history == await messages(bob)  # the same room, the same history
    script = next(m for m in history if m["body"].startswith("<script>"))
    assert script["body"] == "<script>alert('xss')</script> should stay text"
    assert await alice.evaluate("document.querySelector('#messages script') === null")

    body = f"<b>hi</b> & <i>welcome</i> {uuid.uuid4().hex[:8]}"
    await bob.type("#body", body)
    assert await bob.evaluate("document.querySelector('#body').value") == body
    # While bob types, alice sees him typing (his page does not show himself).
    typing = await alice.wait_for(
        "document.querySelector('#typing').textContent", "bob's typing notice"
    )
    assert typing == "Bob O'Brien is typing…"
    assert await bob.evaluate("document.querySelector('#typing').textContent") == ""

    await bob.click("#send")
    shown = await wait_for_message(alice, body)
    assert shown["author"] == "Bob O'Brien"
    # Rendered as text: the markup is in the text, and no element was made of it.
    assert await alice.evaluate(
        "document.querySelector('#messages b, #messages i') === null"
        " && document.querySelector('#messages').innerHTML.includes('&lt;b&gt;hi&lt;/b&gt;')"
    )
    assert (await messages(alice))[-1] == shown  # the newest, at the end
    await wait_for_message(bob, body)  # bob's own page got it from the subscription too
    await bob.wait_for("document.querySelector('#body').value === ''", "bob's cleared input")
    # Sending ends the typing notice on alice's page.
    await alice.wait_for(
        "document.querySelector('#typing').textContent === ''", "the typing notice to go"
    )
    assert await alice.evaluate("document.querySelector('#error').textContent") == ""


async def test_a_page_of_another_tenant_sees_nothing_of_acmes_messages(
    browser: Browser, origin: str, pages: list[Page]
) -> None:
    alice = await open_chat(browser, origin, pages, "acme", "alice", "general")
    dave = await open_chat(browser, origin, pages, "globex", "dave", "general")
    before = await messages(dave)
    assert before and before != await messages(alice)
    assert {m["body"] for m in before} & {m["body"] for m in await messages(alice)} == set()

    secret = f"acme only {uuid.uuid4().hex[:8]}"
    await post(origin, ACME, CAROL, secret)
    await wait_for_message(alice, secret)  # the event went out: acme's page has it
    await asyncio.sleep(0.5)  # time for a stray event to reach globex's page
    assert await messages(dave) == before
    assert secret not in await dave.evaluate("document.body.innerText")

    public = f"globex news {uuid.uuid4().hex[:8]}"
    await post(origin, GLOBEX, ERIN, public)
    shown = await wait_for_message(dave, public)  # the globex page is live
    assert shown["author"] == "Erin <b>Bold</b> Ødegaard"  # a name is text too
    assert await dave.evaluate("document.querySelector('#messages b') === null")
    assert await messages(dave) == [*before, shown]
    assert public not in await alice.evaluate("document.body.innerText")


async def test_the_page_connects_its_websocket_and_asks_nothing_of_the_outside(
    browser: Browser, origin: str, pages: list[Page]
) -> None:
    page = await open_chat(browser, origin, pages, "globex", "dave", "ops")
    assert await page.evaluate("document.querySelector('#room-name').textContent") == "Ops 🚀"
    assert [m["body"] for m in await messages(page)] == [
        "Deploying 1.2.3 now.",
        "'; SELECT pg_sleep(10); --",
    ]
    assert page.requested[0] == f"{origin}/?tenant=globex&user=dave&room=ops"
    assert f"{origin}/organisations.json" in page.requested
    assert all(url.startswith(origin + "/") for url in page.requested)
    assert len(page.sockets) == 1 and page.refused == []
    (socket,) = page.sockets.values()
    assert socket["status"] == 101 and "closed" not in socket  # one socket, still open
    # (the ``pages`` fixture checks the same of every page of the module)
