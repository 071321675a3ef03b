"""The JSON of a request: 400s that say what is wrong, and request objects that repeat a key."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.asgi.conftest import FakeExecutor

from fraiseql.asgi import build_asgi_app
from fraiseql.asgi.batch import decode_post_body
from fraiseql.asgi.errors import TransportError
from fraiseql.asgi.json_input import _scan_repeated_key, may_repeat, quoted, repeated_key
from fraiseql.asgi.params import REQUEST_PARAMETERS, request_from_payload

JSON = {"Content-Type": "application/json"}
NOT_JSON = "The request body is not valid JSON: "


async def _post(executor: FakeExecutor, body: bytes, **options: Any) -> httpx.Response:
    app = build_asgi_app(executor, **options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post("/graphql", content=body, headers=JSON)


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    message: str = error["message"]
    return message


def _decode_refusal(body: bytes, max_batch_size: int | None = None) -> str:
    with pytest.raises(TransportError) as info:
        decode_post_body(body, max_batch_size)
    assert info.value.status == 400
    return info.value.message


# --- what a body that is not JSON is told ----------------------------------------------------

NUMBER_5000_DIGITS = b"9" * 5000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"query": "{ a }", "variables": {"x": NaN}}',
            NOT_JSON + "NaN and Infinity are not JSON numbers (line 1, column 39).",
        ),
        (
            b'{"x": Infinity}',
            NOT_JSON + "NaN and Infinity are not JSON numbers (line 1, column 7).",
        ),
        (
            b'{"x": -Infinity}',
            NOT_JSON + "NaN and Infinity are not JSON numbers (line 1, column 8).",
        ),
        (b'{"x": [1, nan]}', None),  # not the NaN sentence: lower case is just a bad literal
        (b'{"x": 1e999}', NOT_JSON + "a number is out of range (line 1, column 7)."),
        (b'{"x": -1e400}', NOT_JSON + "a number is out of range (line 1, column 7)."),
        (
            b'{"x": ' + NUMBER_5000_DIGITS + b"}",
            NOT_JSON + "a number is out of range (line 1, column 7).",
        ),
        (b'{"query": "\xff"}', "The request body is not valid UTF-8 (at byte offset 11)."),
        (  # an encoded surrogate is not UTF-8 either
            b'{"query": "{ a }", "x": "\xed\xa0\x80"}',
            "The request body is not valid UTF-8 (at byte offset 25).",
        ),
        (
            b"[" * 1025 + b"]" * 1025,
            NOT_JSON + "nesting is too deep, the limit is 1024 levels (line 1, column 1026).",
        ),
        (  # orjson says "failed to allocate memory", and its position is no use
            b"[" * 300 + b"x",
            NOT_JSON + "its arrays or objects are not properly closed.",
        ),
        (b"", "The request body is empty: it holds no JSON value."),
        (b" \r\n\t", "The request body is empty: it holds no JSON value."),
    ],
)
async def test_each_kind_of_bad_json_gets_its_own_400(
    executor: FakeExecutor, body: bytes, message: str | None
) -> None:
    text = _refusal(await _post(executor, body))
    if message is None:
        assert text.startswith(NOT_JSON)
        assert "NaN" not in text
    else:
        assert text == message
    assert executor.prepared == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"query": "{ a }" "x"}', "(line 1, column 19)."),  # a missing comma
        (b'{"query": "{ a }",}', "(line 1, column 18)."),  # a trailing comma
        (b'{"query": "{ a }"', "(line 1, column 18)."),  # cut short
        (b"{'query': '{ a }'}", "(line 1, column 2)."),  # not JSON quotes
        (b'{"query": "{ a }"}\n\n  }', "(line 3, column 3)."),  # something after the object
        (b'{\n  "query": "{ a }",\n  "variables": {"x": tru}\n}', "(line 3, column 22)."),
        (b'{"caf\xc3\xa9": 1, x}', "(line 1, column 13)."),  # columns count characters
        (b'\xef\xbb\xbf{"query": "{ a }"}', "(line 1, column 1)."),  # a byte order mark
    ],
)
async def test_syntax_errors_say_where(executor: FakeExecutor, body: bytes, where: str) -> None:
    text = _refusal(await _post(executor, body))
    assert text.startswith(NOT_JSON)
    assert text.endswith(where)


async def test_the_body_is_never_echoed(executor: FakeExecutor) -> None:
    secret = b"hunter2-" * 20
    bodies = [
        b'{"query": "' + secret + b'" ' + secret + b"}",
        b'{"' + secret + b'": NaN}',
        b'{"query": "' + secret + b'\xff"}',
        b'{"query": ' + secret + b"}",
        b'{"x": 1' + NUMBER_5000_DIGITS + b"}",
    ]
    for body in bodies:
        response = await _post(executor, body)
        text = _refusal(response)
        assert b"hunter2" not in response.content
        assert "99999" not in text
        assert len(text) < 160


async def test_bad_json_in_a_batch_is_told_the_same_way(executor: FakeExecutor) -> None:
    body = b'[{"query": "{ a }"}, {"query": "{ b }", "variables": {"n": NaN}}]'
    text = _refusal(await _post(executor, body, batching=True))
    assert text == NOT_JSON + "NaN and Infinity are not JSON numbers (line 1, column 60)."


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"variables": "{not json"},
            "The 'variables' parameter is not valid JSON: ",
        ),
        (
            {"variables": '{"n": NaN}'},
            "The 'variables' parameter is not valid JSON: NaN and Infinity are not JSON numbers "
            "(line 1, column 7).",
        ),
        (
            {"variables": '{"n": 1e999}'},
            "The 'variables' parameter is not valid JSON: a number is out of range "
            "(line 1, column 7).",
        ),
        (
            {"extensions": "[" * 1100 + "]" * 1100},
            "The 'extensions' parameter is not valid JSON: nesting is too deep, the limit is "
            "1024 levels (line 1, column 1026).",
        ),
        ({"variables": " "}, "The 'variables' parameter is empty: it holds no JSON value."),
    ],
)
async def test_get_parameters_holding_bad_json_are_told_what_is_wrong(
    client: httpx.AsyncClient, executor: FakeExecutor, params: dict[str, str], message: str
) -> None:
    response = await client.get("/graphql", params={"query": "{ a }", **params})
    text = _refusal(response)
    assert text.startswith(message)
    assert executor.prepared == []


# --- request objects that repeat a key --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"query": "{ a }", "query": "mutation { drop }"}', "query"),
        (b'{"query": "{ a }", "variables": {"n": 1}, "variables": {"n": 2}}', "variables"),
        (b'{"operationName": "A", "query": "{ a }", "operationName": "B"}', "operationName"),
        (b'{"query": "{ a }", "extensions": {}, "extensions": null}', "extensions"),
        (b'{"query": "{ a }", "qu\\u0065ry": "{ b }"}', "query"),  # the same key once decoded
        (b'{"\\u0071\\u0075\\u0065\\u0072\\u0079": "{ a }", "query": "{ b }"}', "query"),
        (b'{"query": "{ a }", "\\u006FperationName": "A", "operationName": "B"}', "operationName"),
        (b'{ "query" : "{ a }" ,\n  "query"\t:\n"{ b }" }', "query"),  # any whitespace
        (b'{"query": "{ a }", "x": {"query": 1}, "query": "{ b }"}', "query"),
    ],
)
async def test_a_repeated_parameter_is_refused(
    executor: FakeExecutor, body: bytes, key: str
) -> None:
    text = _refusal(await _post(executor, body))
    assert text == f"The request body repeats the key {key!r}."
    assert executor.prepared == []


async def test_a_batch_member_that_repeats_a_parameter_is_named(executor: FakeExecutor) -> None:
    body = b'[{"query": "{ a }"}, {"query": "{ b }", "qu\\u0065ry": "{ c }"}, {"query": "{ d }"}]'
    text = _refusal(await _post(executor, body, batching=True))
    assert text == "Member 1 of the batch repeats the key 'query'."
    assert executor.prepared == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ a }", "variables": {"text": "query"}}',  # "query" as a value
        b'{"query": "query", "operationName": "query"}',
        b'{"query": "{ a }", "variables": {"query": 1, "query": 2}}',  # left to the map's reader
        b'{"query": "{ a }", "extensions": {"variables": {}, "variables": {}}}',
        b'{"query": "{ a }", "variables": {"s": "\\"query\\": 1, \\"query\\": 2"}}',
        b'{"query": "{ a }", "unknown": 1, "unknown": 2}',  # other keys are ignored, repeats too
        b'{"query": "{ caf\\u00e9 }", "variables": {"\\u00e9": "\\u00e9"}}',
    ],
)
async def test_bodies_that_only_look_repeated_are_accepted(
    executor: FakeExecutor, body: bytes
) -> None:
    response = await _post(executor, body)
    assert response.status_code == 200, response.text
    assert executor.prepared == [request_from_payload(json.loads(body))]


async def test_a_batch_whose_members_share_keys_is_accepted(executor: FakeExecutor) -> None:
    body = b'[{"query": "{ a }", "variables": {"query": 1}}, {"query": "query"}]'
    response = await _post(executor, body, batching=True)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 2


def test_deeper_than_the_recursion_limit_is_still_checked() -> None:
    # orjson takes 1024 levels; the standard library's decoder recurses and gives up earlier,
    # so these bodies take the iterative scan.
    deep = b"[" * 1020 + b"]" * 1020
    body = b'{"query": "{ a }", "x": ' + deep + b', "query": "{ b }"}'
    assert _decode_refusal(body) == "The request body repeats the key 'query'."
    fine = b'{"query": "{ a }", "x": ' + deep + b', "variables": {"query": 1}}'
    request = decode_post_body(fine, None)
    assert not isinstance(request, list)
    assert request.variables == {"query": 1}
    batch = b'[{"x": ' + deep + b'}, {"query": "{ a }", "operationName": "A", '
    batch += b'"operationName": "B"}]'
    assert _decode_refusal(batch, 10) == "Member 1 of the batch repeats the key 'operationName'."


def test_the_checked_keys_are_the_ones_a_request_is_built_from() -> None:
    class Recording(Mapping[str, Any]):
        def __init__(self) -> None:
            self.read: set[str] = set()

        def __getitem__(self, key: str) -> Any:
            self.read.add(key)
            if key == "query":
                return "{ a }"
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    payload = Recording()
    request_from_payload(payload)
    assert payload.read == set(REQUEST_PARAMETERS)
    # may_repeat is sound for such names only: an escape in one of them is a \u00XX escape.
    assert all(name.isascii() and name.isalnum() for name in REQUEST_PARAMETERS)


# --- the check against an oracle: the standard library's pairs --------------------------------

KEYS = frozenset(REQUEST_PARAMETERS)
_names = st.sampled_from([*REQUEST_PARAMETERS, "x", "id", "queries", "qu", "\u00e9"])
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=5)  # no lone surrogates
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), _names, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(st.tuples(_names, inner), max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def _json_text(draw: st.DrawFn, value: Any, escaping: bool) -> str:
    """``value`` as JSON text; a list of pairs is an object, and its keys may repeat."""
    space = draw(st.sampled_from(["", " ", "\n\t "]))
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        members = [
            f"{draw(_string_text(name, escaping))}{space}:{space}{draw(_json_text(item, escaping))}"
            for name, item in value
        ]
        return "{" + f",{space}".join(members) + "}"
    if isinstance(value, list):
        return "[" + f",{space}".join(draw(_json_text(item, escaping)) for item in value) + "]"
    if isinstance(value, str):
        return draw(_string_text(value, escaping))
    return json.dumps(value)


@st.composite
def _string_text(draw: st.DrawFn, name: str, escaping: bool) -> str:
    """A JSON string for ``name``; with ``escaping``, some characters are ``\\u`` escapes."""
    escapes = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    escapes = [escaping and escape for escape in escapes]
    body = "".join(
        f"\\u{ord(char):04{draw(st.sampled_from('xX'))}}" if escape else json.dumps(char)[1:-1]
        for char, escape in zip(name, escapes, strict=True)
    )
    return f'"{body}"'


def _oracle(text: str, *, batch: bool) -> tuple[int, str] | None:
    decoded = json.loads(text, object_pairs_hook=list)
    for index, pairs in enumerate(decoded if batch else [decoded]):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in KEYS:
                if name in seen:
                    return index, name
                seen.add(name)
    return None


_objects = st.lists(st.tuples(_names, _values), max_size=5)


@given(st.data(), st.lists(_objects, min_size=1, max_size=3), st.booleans(), st.booleans())
def test_the_check_agrees_with_the_oracle(
    data: st.DataObject, members: list[list[tuple[str, Any]]], batch: bool, escaping: bool
) -> None:
    texts = [data.draw(_json_text(member, escaping)) if member else "{}" for member in members]
    text = "[" + ",".join(texts) + "]" if batch else texts[0]
    body = text.encode()
    expected = _oracle(text, batch=batch)
    if expected is not None:
        assert may_repeat(body, quoted(REQUEST_PARAMETERS))  # the pre-filter is sound
    assert repeated_key(body, KEYS, batch=batch) == expected
    assert _scan_repeated_key(body, KEYS, batch=batch) == expected
    try:
        decode_post_body(body, 10 if batch else None)
    except TransportError as error:  # a repeat, or a parameter of the wrong type
        refused: str | None = error.message
    else:
        refused = None
    if expected is None:
        assert refused is None or "repeats" not in refused
    else:
        index, key = expected
        member = f"Member {index} of the batch" if batch else "The request body"
        assert refused == f"{member} repeats the key {key!r}."
