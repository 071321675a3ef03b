"""Uploads end to end: a custom mutation stores each file's SHA-256 and size in PostgreSQL.

The schema is a real one on a database of its own: ``fn_create_file`` writes ``tb_file`` and
syncs ``tv_file``, the mutation hashes the file as it reads it and calls the function through
``info.commands``, and the answer is read back from the read model. The same requests go
through the ASGI app in process and through uvicorn on 127.0.0.1 (httpx, and Node's own
``fetch`` with ``FormData`` when ``node`` is installed), and the database is checked directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from tests.conftest import temporary_database

import fraiseql
from fraiseql.db.commands import CONTRACT_SQL
from fraiseql.types.scalars import UUID

PREFLIGHT = {"X-Requested-With": "test"}
NODE = shutil.which("node")

SQL = """
CREATE TABLE tb_file (
    pk_file integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    identifier text NOT NULL UNIQUE,
    filename text,
    content_type text,
    size bigint NOT NULL,
    sha256 text NOT NULL
);
CREATE TABLE tv_file (id uuid PRIMARY KEY, identifier text NOT NULL, data jsonb NOT NULL);

CREATE FUNCTION fn_sync_tv_file(p_id uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tv_file (id, identifier, data)
    SELECT id, identifier, jsonb_build_object(
        'id', id, 'identifier', identifier, 'filename', filename,
        'content_type', content_type, 'size', size, 'sha256', sha256)
    FROM tb_file WHERE id = p_id
    ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data
$$;

CREATE FUNCTION fn_create_file(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE v_id uuid;
BEGIN
    INSERT INTO tb_file (identifier, filename, content_type, size, sha256)
    VALUES (input->>'identifier', input->>'filename', input->>'content_type',
            (input->>'size')::bigint, input->>'sha256')
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_file(v_id);
    RETURN ROW('success', v_id, 'Stored.', '[]')::fraiseql_mutation_result;
END $$;
"""


@fraiseql.type(sql_source="tv_file")
class StoredFile:
    """A file's fingerprint, as stored."""

    id: UUID
    identifier: str
    filename: str | None
    content_type: str | None
    size: int
    sha256: str


@fraiseql.query
async def stored_files(info: Any, limit: int | None = None) -> list[StoredFile]:
    """Every stored file."""


async def store(info: Any, file: fraiseql.UploadedFile, identifier: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    async for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    assert size == file.size
    outcome = await info.commands.run(
        "fn_create_file",
        {"identifier": identifier, "filename": file.filename,
         "content_type": file.content_type, "size": size, "sha256": digest.hexdigest()},
    )  # fmt: skip
    if outcome.status != "success":
        raise fraiseql.FraiseQLError(outcome.message or "not stored", code="NOT_STORED")
    stored = await info.repository.find_one(StoredFile, id=outcome.id)
    assert stored is not None
    return stored


@fraiseql.mutation
async def upload_file(info: Any, file: fraiseql.Upload, identifier: str) -> StoredFile:
    """Store the fingerprint of one file."""
    return await store(info, file, identifier)  # type: ignore[return-value]


@fraiseql.mutation
async def upload_files(
    info: Any, files: list[fraiseql.Upload], prefix: str, cover: fraiseql.Upload | None = None
) -> list[StoredFile]:
    """Store the fingerprints of several files (and of the optional cover)."""
    stored = [await store(info, file, f"{prefix}-{i}") for i, file in enumerate(files)]
    if cover is not None:
        stored.append(await store(info, cover, f"{prefix}-cover"))
    return stored  # type: ignore[return-value]


UPLOAD_ONE = (
    "mutation($file: Upload!, $id: String!) { uploadFile(file: $file, identifier: $id) "
    "{ identifier filename contentType size sha256 } }"
)
UPLOAD_MANY = (
    "mutation($files: [Upload!]!, $cover: Upload) { uploadFiles(files: $files, prefix: "
    '"many", cover: $cover) { identifier size sha256 } }'
)


@pytest.fixture
async def files_dsn(server_dsn: str) -> AsyncIterator[str]:
    async with temporary_database(server_dsn) as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(CONTRACT_SQL)
            await connection.execute(SQL)
        finally:
            await connection.close()
        yield dsn


def build(dsn: str, temp_dir: Path, **options: Any) -> Starlette:
    return fraiseql.create_app(
        types=[StoredFile],
        queries=[stored_files],
        mutations=[upload_file, upload_files],
        database_url=dsn,
        uploads=fraiseql.Uploads(max_file_size=8 << 20, temp_dir=str(temp_dir)),
        health_paths=None,
        **options,
    )


def open_temp_files(directory: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(directory)):
                found.append(fd)
    return found


@contextlib.contextmanager
def serving(app: Any) -> Iterator[int]:
    """``app`` under uvicorn on 127.0.0.1 and a free port, in a thread; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="on", ws="none", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@contextlib.asynccontextmanager
async def client_for(transport: str, app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    if transport == "asgi":
        schema = app.state.fraiseql_schema
        await schema.open()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client:
                yield client
        finally:
            await schema.close()
        return
    with serving(app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            yield client


async def rows(dsn: str) -> dict[str, tuple[int, str]]:
    connection = await asyncpg.connect(dsn)
    try:
        found = await connection.fetch("SELECT identifier, size, sha256 FROM tb_file")
    finally:
        await connection.close()
    return {row["identifier"]: (row["size"], row["sha256"]) for row in found}


@pytest.mark.parametrize("transport", ["asgi", "uvicorn"])
async def test_a_custom_mutation_stores_the_files_fingerprint(
    files_dsn: str, tmp_path: Path, transport: str
) -> None:
    app = build(files_dsn, tmp_path)
    one = os.urandom(300_000)
    many = [os.urandom(n) for n in (1, 70_000, 1_000_000)]
    cover = b"cover image"
    async with client_for(transport, app) as client:
        response = await client.post(
            "/graphql",
            data={"operations": orjson.dumps({"query": UPLOAD_ONE,
                                              "variables": {"file": None, "id": "one"}}).decode(),
                  "map": '{"f": ["variables.file"]}'},
            files={"f": ("report.pdf", one, "application/pdf")},
            headers=PREFLIGHT,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"uploadFile": {
            "identifier": "one", "filename": "report.pdf", "contentType": "application/pdf",
            "size": len(one), "sha256": hashlib.sha256(one).hexdigest()}}}  # fmt: skip
        mapping = {str(i): [f"variables.files.{i}"] for i in range(3)} | {"c": ["variables.cover"]}
        response = await client.post(
            "/graphql",
            data={"operations": orjson.dumps({"query": UPLOAD_MANY, "variables": {
                      "files": [None, None, None], "cover": None}}).decode(),
                  "map": orjson.dumps(mapping).decode()},
            files={**{str(i): (f"{i}.bin", data, "application/octet-stream")
                      for i, data in enumerate(many)}, "c": ("c.png", cover, "image/png")},
            headers=PREFLIGHT,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        answered = response.json()["data"]["uploadFiles"]
        assert [item["size"] for item in answered] == [1, 70_000, 1_000_000, len(cover)]
    expected = {"one": (len(one), hashlib.sha256(one).hexdigest())}
    for i, data in enumerate(many):
        expected[f"many-{i}"] = (len(data), hashlib.sha256(data).hexdigest())
    expected["many-cover"] = (len(cover), hashlib.sha256(cover).hexdigest())
    assert await rows(files_dsn) == expected
    assert open_temp_files(tmp_path) == []


async def test_an_upload_sent_as_json_is_a_clear_error(files_dsn: str, tmp_path: Path) -> None:
    app = build(files_dsn, tmp_path)
    async with client_for("asgi", app) as client:
        response = await client.post(
            "/graphql", json={"query": UPLOAD_ONE, "variables": {"file": "aGVsbG8=", "id": "x"}}
        )
        assert response.status_code == 200
        [entry] = response.json()["errors"]
        assert entry["extensions"]["code"] == "BAD_USER_INPUT"
        assert "Upload must be a file sent as a part of a multipart request" in entry["message"]
        literal = 'mutation { uploadFile(file: "x", identifier: "y") { id } }'
        response = await client.post("/graphql", json={"query": literal})
        [entry] = response.json()["errors"]
        assert entry["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "Upload must be a file" in entry["message"]
        # A multipart request whose map leaves the variable null: the non-null check speaks.
        body = (
            b'--B\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            + orjson.dumps({"query": UPLOAD_ONE, "variables": {"file": None, "id": "x"}})
            + b'\r\n--B\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--B--\r\n'
        )
        response = await client.post(
            "/graphql",
            content=body,
            headers={**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=B"},
        )
        [entry] = response.json()["errors"]
        assert entry["extensions"]["code"] == "BAD_USER_INPUT"
        assert "non-null type 'Upload!'" in entry["message"]
    assert await rows(files_dsn) == {}


async def test_uvicorn_stops_reading_a_file_over_the_limit_at_once(
    files_dsn: str, tmp_path: Path
) -> None:
    """The client sends 9 MiB of a file declared 64 MiB long, then only waits for the answer."""
    app = build(files_dsn, tmp_path)
    head = (
        b'--B\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        + orjson.dumps({"query": UPLOAD_ONE, "variables": {"file": None, "id": "big"}})
        + b'\r\n--B\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0": ["variables.file"]}'
        b'\r\n--B\r\nContent-Disposition: form-data; name="0"; filename="big"\r\n\r\n'
    )
    with serving(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: x\r\nX-Requested-With: t\r\n"
                b"Content-Type: multipart/form-data; boundary=B\r\n"
                b"Content-Length: %d\r\n\r\n" % (60 << 20) + head
            )
            chunk = b"\0" * (1 << 20)
            with contextlib.suppress(ConnectionError):
                for _ in range(9):
                    writer.write(chunk)
                    await writer.drain()
            answer = await asyncio.wait_for(reader.read(65536), timeout=5)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"The file '0' is larger than the limit of 8388608 bytes." in answer
    assert await rows(files_dsn) == {}
    assert open_temp_files(tmp_path) == []


NODE_CLIENT = """
const [url, size] = [process.argv[2], Number(process.argv[3])];
const bytes = new Uint8Array(size);
for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 256;
const form = new FormData();
form.append("operations", JSON.stringify({
  query: process.argv[4], variables: { file: null, id: "from-node" } }));
form.append("map", JSON.stringify({ "0": ["variables.file"] }));
form.append("0", new Blob([bytes], { type: "text/csv" }), "data.csv");
const refused = await fetch(url, { method: "POST", body: form });
const response = await fetch(url, {
  method: "POST", body: form, headers: { "Apollo-Require-Preflight": "true" } });
console.log(JSON.stringify({ refused: refused.status, status: response.status,
                             body: await response.json() }));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
async def test_a_browser_style_client_node_fetch_and_formdata(
    files_dsn: str, tmp_path: Path
) -> None:
    assert NODE is not None
    script = tmp_path / "client.mjs"
    script.write_text(NODE_CLIENT)
    size = 200_000
    expected = bytes((i * 7) % 256 for i in range(size))
    app = build(files_dsn, tmp_path)
    with serving(app) as port:
        process = await asyncio.create_subprocess_exec(
            NODE, str(script), f"http://127.0.0.1:{port}/graphql", str(size), UPLOAD_ONE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()
    result = orjson.loads(out)
    assert result["refused"] == 400  # FormData without a CSRF header
    assert result["status"] == 200
    assert result["body"] == {"data": {"uploadFile": {
        "identifier": "from-node", "filename": "data.csv", "contentType": "text/csv",
        "size": size, "sha256": hashlib.sha256(expected).hexdigest()}}}  # fmt: skip
    assert await rows(files_dsn) == {"from-node": (size, hashlib.sha256(expected).hexdigest())}
