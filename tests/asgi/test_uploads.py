"""File uploads over HTTP (the GraphQL multipart request spec), the transport on its own.

An executor that reads every file it is handed stands in for the schema here; the schema and
PostgreSQL are in ``test_uploads_db.py``. Requests are built by httpx (``data=`` and
``files=``, which is how a client library encodes a multipart form), or written by hand for
what a client library would never send: broken bodies, slow and vanishing clients.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from fraiseql.asgi import build_asgi_app
from fraiseql.execution.outcome import ExecutionResponse, GraphQLRequest, PreparedOperation
from fraiseql.uploads import UploadedFile, Uploads

from .conftest import CallASGI

PREFLIGHT = {"X-Requested-With": "test"}
MUTATION = "mutation($file: Upload!) { upload(file: $file) }"


def open_temp_files(directory: Path) -> list[str]:
    """This process's open files that live in ``directory`` (deleted ones included)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of ``value`` with its dotted path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}.{index}")
    else:
        yield path, value


@dataclass
class FileExecutor:
    """Reads every file of the variables; answers what it read, by variable path."""

    temp_dir: Path | None = None
    seen: list[UploadedFile] = field(default_factory=list)
    open_during: list[int] = field(default_factory=list)
    requests: list[GraphQLRequest] = field(default_factory=list)
    whole_reads: bool = True
    """Also read each file whole, with ``read()`` and with ``file.read()``."""
    chunk_size: int = 1000

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        return PreparedOperation("mutation")

    async def execute(
        self, prepared: PreparedOperation, request: GraphQLRequest, context: dict[str, Any]
    ) -> ExecutionResponse:
        self.requests.append(request)
        if self.temp_dir is not None:
            self.open_during.append(len(open_temp_files(self.temp_dir)))
        files: dict[str, Any] = {}
        for path, value in walk(request.variables or {}):
            if isinstance(value, UploadedFile):
                self.seen.append(value)
                await value.seek(0)  # one file in two places is one object: rewind
                digest = hashlib.sha256()
                async for chunk in value.chunks(self.chunk_size):
                    digest.update(chunk)
                files[path] = {
                    "filename": value.filename,
                    "contentType": value.content_type,
                    "size": value.size,
                    "sha256": digest.hexdigest(),
                }
                if self.whole_reads:
                    await value.seek(0)
                    files[path]["again"] = hashlib.sha256(await value.read()).hexdigest()
                    value.file.seek(0)
                    files[path]["sync"] = hashlib.sha256(value.file.read()).hexdigest()
            else:
                files[path] = value
        return ExecutionResponse(orjson.dumps({"data": files}))


def make_app(executor: FileExecutor, **options: Any) -> Starlette:
    options.setdefault("uploads", Uploads(temp_dir=str(executor.temp_dir or "") or None))
    return build_asgi_app(executor, **options)


@pytest.fixture
def files_executor(tmp_path: Path) -> FileExecutor:
    return FileExecutor(temp_dir=tmp_path)


@pytest.fixture
async def upload_client(files_executor: FileExecutor) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(files_executor)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def form(operations: Any, mapping: Any) -> dict[str, str]:
    return {"operations": orjson.dumps(operations).decode(), "map": orjson.dumps(mapping).decode()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def post_upload(
    client: httpx.AsyncClient,
    operations: Any,
    mapping: Any,
    files: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/graphql",
        data=form(operations, mapping),
        files=files,
        headers=PREFLIGHT if headers is None else headers,
    )


def error(response: httpx.Response) -> tuple[str, str]:
    entry = response.json()["errors"][0]
    return entry["extensions"]["code"], entry["message"]


# -- what works --------------------------------------------------------------------------------


async def test_one_file(upload_client: httpx.AsyncClient, files_executor: FileExecutor) -> None:
    data = os.urandom(200_000)  # past the 64 KiB memory threshold: on disk
    response = await post_upload(
        upload_client,
        {"query": MUTATION, "variables": {"file": None}},
        {"0": ["variables.file"]},
        {"0": ("photo.jpg", data, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    answer = response.json()["data"]["file"]
    assert answer == {
        "filename": "photo.jpg",
        "contentType": "image/jpeg",
        "size": len(data),
        "sha256": sha(data),
        "again": sha(data),
        "sync": sha(data),
    }
    assert not files_executor.seen[0].in_memory


async def test_small_file_stays_in_memory(
    upload_client: httpx.AsyncClient, files_executor: FileExecutor
) -> None:
    response = await post_upload(
        upload_client,
        {"query": MUTATION, "variables": {"file": None}},
        {"0": ["variables.file"]},
        {"0": ("note.txt", b"hello", "text/plain")},
    )
    assert response.json()["data"]["file"]["sha256"] == sha(b"hello")
    assert files_executor.seen[0].in_memory
    assert files_executor.open_during == [0]


async def test_several_files_a_list_and_one_file_in_two_places(
    upload_client: httpx.AsyncClient,
) -> None:
    contents = [os.urandom(n) for n in (0, 10, 70_000)]
    operations = {
        "query": "mutation($files: [Upload!]!, $input: In!) { a }",
        "variables": {"files": [None, None, None], "input": {"avatar": None, "copy": [None]}},
    }
    mapping = {"a": ["variables.files.0"], "b": ["variables.files.1"], "c": ["variables.files.2"]}
    mapping["d"] = ["variables.input.avatar", "variables.input.copy.0"]
    files = {name: (f"{name}.bin", data, "application/octet-stream") for name, data in
             zip("abc", contents, strict=True)}  # fmt: skip
    files["d"] = ("face.png", b"\x89PNG", "image/png")
    response = await post_upload(upload_client, operations, mapping, files)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    for index, content in enumerate(contents):
        assert data[f"files.{index}"]["sha256"] == sha(content)
        assert data[f"files.{index}"]["size"] == len(content)
    assert data["input.avatar"]["filename"] == "face.png"
    assert data["input.copy.0"]["sha256"] == sha(b"\x89PNG")


async def test_a_request_without_files(upload_client: httpx.AsyncClient) -> None:
    response = await upload_client.post(
        "/graphql",
        data=form({"query": MUTATION, "variables": {"n": 1}}, {}),
        files={},
        headers={**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 400  # httpx sends no multipart body without files
    body = (
        b'--B\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        b'{"query": "mutation { a }", "variables": {"n": 1}}\r\n'
        b'--B\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--B--\r\n'
    )
    response = await upload_client.post(
        "/graphql",
        content=body,
        headers={**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"n": 1}}


async def test_filename_with_utf8_and_no_content_type(upload_client: httpx.AsyncClient) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        b'{"query": "mutation { a }", "variables": {"f": null}}\r\n'
        b'--B\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"x": ["variables.f"]}\r\n'
        b'--B\r\nContent-Disposition: form-data; name="x"; filename="'
        + "résumé 文件.txt".encode()
        + b'"\r\n\r\nabc\r\n--B--\r\nepilogue ignored'
    )
    response = await upload_client.post(
        "/graphql",
        content=body,
        headers={**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()["data"]["f"]
    assert answer["filename"] == "résumé 文件.txt"
    assert answer["contentType"] is None
    assert answer["sha256"] == sha(b"abc")


async def test_batch(files_executor: FileExecutor) -> None:
    app = make_app(files_executor, batching=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        operations = [
            {"query": MUTATION, "variables": {"file": None}},
            {"query": MUTATION, "variables": {"file": None, "other": "x"}},
        ]
        response = await post_upload(
            client,
            operations,
            {"0": ["0.variables.file"], "1": ["1.variables.file"]},
            {"0": ("a", b"first", "text/plain"), "1": ("b", b"second", "text/plain")},
        )
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["data"]["file"]["sha256"] == sha(b"first")
    assert second["data"]["file"]["sha256"] == sha(b"second")
    assert second["data"]["other"] == "x"


async def test_batch_refused_when_batching_is_off(upload_client: httpx.AsyncClient) -> None:
    response = await post_upload(
        upload_client,
        [{"query": MUTATION, "variables": {"file": None}}],
        {"0": ["0.variables.file"]},
        {"0": ("a", b"x", "text/plain")},
    )
    assert response.status_code == 400
    assert "batching" in error(response)[1]


async def test_the_context_getter_sees_a_consumed_body(files_executor: FileExecutor) -> None:
    bodies: list[bytes] = []

    async def context(request: Any) -> dict[str, Any]:
        bodies.append(await request.body())
        return {}

    app = make_app(files_executor, context_getter=context)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await post_upload(
            client,
            {"query": MUTATION, "variables": {"file": None}},
            {"0": ["variables.file"]},
            {"0": ("a", b"x", "text/plain")},
        )
    assert response.status_code == 200
    assert bodies == [b""]


# -- off by default, and CSRF ----------------------------------------------------------------


async def test_uploads_are_off_by_default(files_executor: FileExecutor) -> None:
    app = build_asgi_app(files_executor)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await post_upload(
            client,
            {"query": MUTATION, "variables": {"file": None}},
            {"0": ["variables.file"]},
            {"0": ("a", b"x", "text/plain")},
        )
    assert response.status_code == 415
    assert files_executor.requests == []


@pytest.mark.parametrize("mode", ["auto", "always", "off"])
async def test_an_upload_without_a_csrf_header_is_refused_in_every_mode(
    files_executor: FileExecutor, mode: str
) -> None:
    app = make_app(files_executor, csrf_prevention=mode)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        args = (
            {"query": MUTATION, "variables": {"file": None}},
            {"0": ["variables.file"]},
            {"0": ("a", b"x", "text/plain")},
        )
        refused = await post_upload(client, *args, headers={})
        accepted = await post_upload(client, *args, headers={"Apollo-Require-Preflight": "1"})
    assert refused.status_code == 400
    code, message = error(refused)
    assert code == "CSRF_HEADER_REQUIRED"
    assert "multipart/form-data" in message and "X-Requested-With" in message
    assert accepted.status_code == 200
    assert len(files_executor.requests) == 1


async def test_the_csrf_header_list_is_the_apps(files_executor: FileExecutor) -> None:
    app = make_app(files_executor, csrf_required_headers=("X-My-App",))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        args = (
            {"query": MUTATION, "variables": {"file": None}},
            {"0": ["variables.file"]},
            {"0": ("a", b"x", "text/plain")},
        )
        assert (await post_upload(client, *args, headers=PREFLIGHT)).status_code == 400
        assert (await post_upload(client, *args, headers={"x-my-app": ""})).status_code == 200


# -- limits --------------------------------------------------------------------------------------


def multipart_head(file_name: str = "0", boundary: bytes = b"B") -> bytes:
    """The parts before the data of one file, for bodies streamed by hand."""
    return (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        b'{"query": "mutation($file: Upload!) { a }", "variables": {"file": null}}\r\n'
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        b'{"' + file_name.encode() + b'": ["variables.file"]}\r\n'
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="'
        + file_name.encode()
        + b'"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )


HEADERS = [
    (b"content-type", b"multipart/form-data; boundary=B"),
    (b"x-requested-with", b"test"),
]


class Chunks:
    """A ``receive`` that yields ``head``, then ``count`` chunks of ``size`` bytes, then the end."""

    def __init__(self, head: bytes, count: int, size: int = 65536, tail: bytes = b"") -> None:
        self.head = head
        self.count = count
        self.size = size
        self.tail = tail
        self.pulled = 0
        self.chunk = b"\0" * size

    async def __call__(self) -> Message:
        self.pulled += 1
        if self.pulled == 1:
            return {"type": "http.request", "body": self.head, "more_body": True}
        if self.pulled <= self.count + 1:
            return {"type": "http.request", "body": self.chunk, "more_body": True}
        if self.pulled == self.count + 2:
            return {"type": "http.request", "body": self.tail, "more_body": False}
        await asyncio.sleep(3600)  # the client waits for the answer
        raise AssertionError("unreachable")


def status_and_body(sent: list[Message]) -> tuple[int, dict[str, Any]]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], orjson.loads(body)


async def test_a_file_over_the_limit_stops_the_read_at_once(
    call_asgi: CallASGI, files_executor: FileExecutor, tmp_path: Path
) -> None:
    app = make_app(files_executor, uploads=Uploads(max_file_size=1 << 20, temp_dir=str(tmp_path)))
    receive = Chunks(multipart_head(), count=160)  # 10 MiB announced by nothing but the data
    status, body = status_and_body(await call_asgi(app, receive, headers=HEADERS))
    assert status == 413
    assert body["errors"][0] == {
        "message": "The file '0' is larger than the limit of 1048576 bytes.",
        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
    }
    assert receive.pulled == 1 + 16 + 1  # the head, 1 MiB, and the chunk that crossed it
    assert files_executor.requests == []
    assert open_temp_files(tmp_path) == []


async def test_the_body_over_max_total_size(call_asgi: CallASGI, tmp_path: Path) -> None:
    executor = FileExecutor(temp_dir=tmp_path)
    uploads = Uploads(max_total_size=1 << 20, temp_dir=str(tmp_path))
    app = make_app(executor, uploads=uploads)
    receive = Chunks(multipart_head(), count=100)
    status, body = status_and_body(await call_asgi(app, receive, headers=HEADERS))
    assert status == 413
    assert body["errors"][0]["message"] == "The request body is larger than 1048576 bytes."
    assert receive.pulled == 1 + 16
    declared = [*HEADERS, (b"content-length", str(2 << 20).encode())]
    receive = Chunks(multipart_head(), count=32)
    status, body = status_and_body(await call_asgi(app, receive, headers=declared))
    assert status == 413
    assert receive.pulled == 0  # refused on the Content-Length alone
    assert open_temp_files(tmp_path) == []


async def test_too_many_files(files_executor: FileExecutor) -> None:
    app = make_app(files_executor, uploads=Uploads(max_files=2))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await post_upload(
            client,
            {"query": MUTATION, "variables": {"files": [None, None, None]}},
            {str(i): [f"variables.files.{i}"] for i in range(3)},
            {str(i): (f"{i}", b"x", "text/plain") for i in range(3)},
        )
    assert response.status_code == 413
    assert error(response) == ("TOO_MANY_FILES", "The request maps 3 files; the limit is 2.")
    assert files_executor.seen == []


async def test_operations_over_max_body_size(files_executor: FileExecutor) -> None:
    app = make_app(files_executor, max_body_size=1000)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await post_upload(
            client,
            {"query": MUTATION, "variables": {"file": None, "pad": "x" * 2000}},
            {"0": ["variables.file"]},
            {"0": ("a", b"x" * 5000, "text/plain")},  # the file may be larger
        )
    assert response.status_code == 413
    assert error(response) == (
        "PAYLOAD_TOO_LARGE",
        "The 'operations' part is larger than 1000 bytes.",
    )


async def test_a_slow_upload_gets_408(
    call_asgi: CallASGI, files_executor: FileExecutor, tmp_path: Path
) -> None:
    app = make_app(
        files_executor,
        body_timeout=0.3,
        uploads=Uploads(memory_threshold=0, temp_dir=str(tmp_path)),
    )
    pulled = 0
    open_while_waiting: list[int] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        if pulled <= 3:
            return {"type": "http.request", "body": multipart_head() if pulled == 1 else b"x" * 100,
                    "more_body": True}  # fmt: skip
        open_while_waiting.append(len(open_temp_files(tmp_path)))
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    sent = await call_asgi(app, receive, headers=HEADERS)
    status, body = status_and_body(sent)
    assert status == 408
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert (b"connection", b"close") in start["headers"]
    assert open_while_waiting == [1]  # the file was on disk while the client stalled ...
    assert open_temp_files(tmp_path) == []  # ... and is gone with the request


async def test_a_client_that_leaves_mid_upload(
    call_asgi: CallASGI, files_executor: FileExecutor, tmp_path: Path
) -> None:
    app = make_app(files_executor, uploads=Uploads(memory_threshold=0, temp_dir=str(tmp_path)))
    messages: list[Message] = [
        {"type": "http.request", "body": multipart_head(), "more_body": True},
        {"type": "http.request", "body": b"y" * 100_000, "more_body": True},
        {"type": "http.disconnect"},
    ]
    opened: list[int] = []

    async def receive() -> Message:
        if len(messages) == 1:
            opened.append(len(open_temp_files(tmp_path)))
        return messages.pop(0)

    sent = await call_asgi(app, receive, headers=HEADERS)
    assert sent == []
    assert opened == [1]
    assert open_temp_files(tmp_path) == []


async def test_temp_files_are_closed_after_the_request(
    files_executor: FileExecutor, tmp_path: Path
) -> None:
    app = make_app(files_executor, uploads=Uploads(memory_threshold=1000, temp_dir=str(tmp_path)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await post_upload(
            client,
            {"query": MUTATION, "variables": {"files": [None, None, None]}},
            {str(i): [f"variables.files.{i}"] for i in range(3)},
            {str(i): (f"{i}", os.urandom(size), "x/y") for i, size in enumerate((10, 5000, 9000))},
        )
    assert response.status_code == 200
    assert files_executor.open_during == [2]  # two files past the threshold were on disk
    assert open_temp_files(tmp_path) == []
    assert [upload.closed for upload in files_executor.seen] == [True, True, True]


# -- refused requests: 400, never 500 -----------------------------------------------------------


def raw_body(*parts: tuple[str, bytes, str | None], boundary: bytes = b"B") -> bytes:
    out = b""
    for name, data, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disposition.encode()
        out += b"\r\n\r\n" + data + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


OPS = orjson.dumps({"query": MUTATION, "variables": {"file": None, "n": 3}})
GOOD_MAP = b'{"0": ["variables.file"]}'


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("map", GOOD_MAP, None)], "The first part of a multipart request must be 'operations'"),
        ([("operations", OPS, None), ("0", b"x", "a")], "The second part of a multipart request"),
        ([("operations", OPS, None)], "The multipart request has no 'map' part."),
        ([], "The multipart request has no 'operations' part."),
        ([("operations", b"{nope", None), ("map", GOOD_MAP, None)],
         "The request body is not valid JSON"),
        ([("operations", b'{"variables": {}}', None), ("map", b"{}", None)],
         "The 'query' parameter is required."),
        ([("operations", OPS, None), ("map", b"[1]", None)], "The 'map' part must be a JSON object"),
        ([("operations", OPS, None), ("map", b"{x", None)], "The 'map' part is not valid JSON"),
        ([("operations", OPS, None), ("map", b'{"0": "variables.file"}', None)],
         "The map entry '0' must be a non-empty array of paths"),
        ([("operations", OPS, None), ("map", b'{"0": []}', None)],
         "The map entry '0' must be a non-empty array of paths"),
        ([("operations", OPS, None), ("map", b'{"0": ["variables.nope"]}', None)],
         "The map path 'variables.nope' (of '0') does not exist in the operations."),
        ([("operations", OPS, None), ("map", b'{"0": ["variables.file.0"]}', None)],
         "The map path 'variables.file.0' (of '0') does not exist"),
        ([("operations", OPS, None), ("map", b'{"0": ["variables.n"]}', None)],
         "must point at a null, which the file replaces."),
        ([("operations", OPS, None), ("map", b'{"0": ["query"]}', None)],
         "must point inside the variables: start it with 'variables'."),
        ([("operations", OPS, None), ("map", b'{"0": ["variables"]}', None)],
         "must point inside the variables"),
        ([("operations", OPS, None), ("map", b'{"0": ["variables.file"], "1": ["variables.file"]}', None)],
         "The map names the path 'variables.file' twice."),
        ([("operations", OPS, None), ("map", b'{"0": ["variables.file"], "0": ["variables.n"]}', None)],
         "The 'map' part repeats the key '0'."),
        ([("operations", OPS, None), ("map", b'{"map": ["variables.file"]}', None)],
         "The 'map' part cannot name a file 'map'."),
        ([("operations", OPS, None), ("map", GOOD_MAP, None)],
         "File missing in the request: the map names '0'."),
        ([("operations", OPS, None), ("map", GOOD_MAP, None), ("1", b"x", "a")],
         "The multipart part '1' is not named by the 'map'."),
        ([("operations", OPS, None), ("map", GOOD_MAP, None), ("0", b"x", "a"), ("0", b"y", "b")],
         "The multipart request sends the part '0' twice."),
        ([("operations", OPS, None), ("map", GOOD_MAP, None), ("0", b"x", "a"),
          ("operations", OPS, None)],
         "The multipart request sends the part 'operations' twice."),
    ],
)  # fmt: skip
async def test_requests_against_the_spec_get_400(
    upload_client: httpx.AsyncClient,
    files_executor: FileExecutor,
    parts: list[tuple[str, bytes, str | None]],
    message: str,
) -> None:
    response = await upload_client.post(
        "/graphql",
        content=raw_body(*parts),
        headers={**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 400, response.text
    code, text = error(response)
    assert code == "BAD_REQUEST"
    assert message in text
    assert files_executor.requests == []


async def test_map_paths_of_a_batch_are_checked(files_executor: FileExecutor) -> None:
    app = make_app(files_executor, batching=True)
    operations = orjson.dumps([{"query": MUTATION, "variables": {"file": None}}])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for path, message in [
            ("variables.file", "must start with the index of an operation of the batch"),
            ("1.variables.file", "must start with the index of an operation of the batch"),
            ("0.query", "start it with '0.variables'"),
        ]:
            mapping = orjson.dumps({"0": [path]})
            response = await client.post(
                "/graphql",
                content=raw_body(("operations", operations, None), ("map", mapping, None)),
                headers={**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=B"},
            )
            assert response.status_code == 400
            assert message in error(response)[1]


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", raw_body(), "has no boundary parameter"),
        ("multipart/form-data; boundary=", raw_body(), "The multipart boundary is not valid"),
        ("multipart/form-data; boundary=" + "x" * 71, raw_body(), "boundary is not valid"),
        ('multipart/form-data; boundary="a\\"b"', raw_body(), "boundary is not valid"),
        ("multipart/form-data; boundary=OTHER", raw_body(), "not a valid multipart body"),
        ("multipart/form-data; boundary=B", b"garbage", "not a valid multipart body"),
        ("multipart/form-data; boundary=B", b"", "ended before its closing boundary"),
        ("multipart/form-data; boundary=B", raw_body(("operations", OPS, None))[:40],
         "ended before its closing boundary"),
        ("multipart/form-data; boundary=B", b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
         "has no Content-Disposition header"),
        ("multipart/form-data; boundary=B",
         b'--B\r\nContent-Disposition: attachment; name="operations"\r\n\r\nx\r\n--B--',
         "must be form-data with a name parameter"),
        ("multipart/form-data; boundary=B",
         b"--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n"
         + b"X-Pad: " + b"p" * 3000 + b"\r\n" + b"X-Pad2: " + b"p" * 3000 + b"\r\n"
         + b"X-Pad3: " + b"p" * 3000 + b"\r\n\r\nx\r\n--B--",
         "headers of a multipart part are longer than 8192 bytes"),
    ],
)  # fmt: skip
async def test_malformed_multipart_gets_400(
    upload_client: httpx.AsyncClient, content_type: str, body: bytes, message: str
) -> None:
    response = await upload_client.post(
        "/graphql", content=body, headers={**PREFLIGHT, "Content-Type": content_type}
    )
    assert response.status_code == 400, response.text
    assert message in error(response)[1]


async def test_every_truncation_of_a_valid_body_gets_400(
    upload_client: httpx.AsyncClient, files_executor: FileExecutor, tmp_path: Path
) -> None:
    body = raw_body(("operations", OPS, None), ("map", GOOD_MAP, None), ("0", b"z" * 300, "f"))
    headers = {**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=B"}
    statuses = set()
    for cut in range(0, len(body) - 1, 7):
        response = await upload_client.post("/graphql", content=body[:cut], headers=headers)
        statuses.add(response.status_code)
    assert statuses == {400}
    complete = await upload_client.post("/graphql", content=body, headers=headers)
    assert complete.status_code == 200
    assert open_temp_files(tmp_path) == []


async def test_uploads_limits_are_checked() -> None:
    for bad in ({"max_file_size": 0}, {"max_files": -1}, {"max_total_size": True},
                {"memory_threshold": -1}):  # fmt: skip
        with pytest.raises(ValueError, match="Uploads"):
            Uploads(**bad)


# -- memory ------------------------------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_a_50_mib_upload_is_streamed_not_held_in_memory(
    call_asgi: CallASGI, tmp_path: Path
) -> None:
    """50 MiB through the whole path: Python allocations and the RSS stay within a few MiB."""
    import tracemalloc

    size = 50 << 20
    executor = FileExecutor(temp_dir=tmp_path, whole_reads=False, chunk_size=65536)
    app = make_app(executor, uploads=Uploads(max_file_size=size, max_total_size=size + 4096,
                                             temp_dir=str(tmp_path)))  # fmt: skip
    chunk_count = size // 65536
    receive = Chunks(multipart_head(), count=chunk_count, tail=b"\r\n--B--\r\n")
    rss_before = rss_kib()
    tracemalloc.start()
    started = time.monotonic()
    try:
        sent = await asyncio.wait_for(call_asgi(app, receive, headers=HEADERS), timeout=30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    rss_growth = rss_kib() - rss_before
    status, body = status_and_body(sent)
    assert status == 200, body
    assert body["data"]["file"]["size"] == size
    assert body["data"]["file"]["sha256"] == hashlib.sha256(b"\0" * size).hexdigest()
    assert peak < 2 << 20, f"peak of Python allocations {peak} bytes"
    assert rss_growth < 8 << 10, f"RSS grew by {rss_growth} KiB"
    assert elapsed < 30
    assert open_temp_files(tmp_path) == []


async def test_the_fastapi_router_takes_uploads(files_executor: FileExecutor) -> None:
    from fastapi import FastAPI

    from fraiseql.fastapi import graphql_router

    app = FastAPI()
    app.include_router(graphql_router(files_executor, uploads=Uploads()), prefix="/api")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.post(
            "/api/graphql",
            data=form({"query": MUTATION, "variables": {"file": None}}, {"0": ["variables.file"]}),
            files={"0": ("a.txt", b"fastapi", "text/plain")},
            headers=PREFLIGHT,
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["file"]["sha256"] == sha(b"fastapi")
