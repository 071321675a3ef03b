"""Expand/contract: a field renamed across two deploys of a FraiseQL app, traffic never stopping.

``Article.title`` becomes ``headline``: in ``tb_article`` (the column), in the ``tv_article``
documents ``fn_sync_tv_article`` writes, and in the mutation functions. Release 1
(``zero_downtime_release_1``) reads and writes ``title``, release 2 ``headline``; both are
FraiseQL apps served by uvicorn on 127.0.0.1 while a load loop (GraphQL queries, creates and
updates from four concurrent clients, spread over the processes serving) runs throughout:

1. expand (migration 1): ``headline`` beside ``title``, kept equal by a trigger, backfilled;
   the functions write ``headline`` and accept either key; the documents carry both keys;
2. deploy release 2 beside release 1; both serve;
3. drain release 1: out of the rotation, its requests finished, then stopped;
4. contract (migration 2, destructive: ``allow_destructive``): the functions and documents lose
   ``title``, the trigger and the column go.

Both migrations hold their lock for ``HOLD`` seconds (a stand-in for a long backfill), so that
writes queue behind them: those calls started in the function bodies of before the migration
and run them against the table of after it (PostgreSQL compiled the body before the commit).
The test checks that they did queue, and that every request succeeded: HTTP 200, no GraphQL
error, every mutation ``SUCCESS`` with the value it wrote read back. docs/deployment/
MIGRATIONS.md reports the numbers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from tests.conftest import temporary_database
from tests.migrations.project import columns

from fraiseql import migrations
from fraiseql.db.commands import CONTRACT_SQL

ROOT = Path(__file__).resolve().parents[2]
HOLD = 0.3
"""Seconds each migration keeps its lock on tb_article after taking it."""

TABLES = """CREATE TABLE tb_article (
    pk_article INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL
);
"""

READ_MODEL = """CREATE TABLE tv_article (
    id UUID PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    data JSONB NOT NULL
);
"""

# fn_sync_tv_article(ids): the documents of the given articles (NULL: all), rewritten only
# when they changed. {document} is the jsonb_build_object arguments after id and identifier.
SYNC = """CREATE OR REPLACE FUNCTION fn_sync_tv_article(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE written integer;
BEGIN
    INSERT INTO tv_article AS t (id, identifier, data)
    SELECT a.id, a.identifier,
           jsonb_build_object('id', a.id, 'identifier', a.identifier, {document})
    FROM tb_article a
    WHERE ids IS NULL OR a.id = ANY (ids)
    ON CONFLICT (id) DO UPDATE SET identifier = excluded.identifier, data = excluded.data
        WHERE (t.identifier, t.data) IS DISTINCT FROM (excluded.identifier, excluded.data);
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END $$;
"""

# The mutation functions, returning the result contract; {column} is what they write,
# {value} the input's expression for it.
MUTATIONS = """CREATE OR REPLACE FUNCTION fn_create_article(input jsonb)
RETURNS fraiseql_mutation_result LANGUAGE plpgsql AS $$
DECLARE v_id uuid;
BEGIN
    IF {value} IS NULL THEN
        RETURN ROW('validation_error', NULL, 'An article needs a {column}.',
                   jsonb_build_array(jsonb_build_object(
                       'field', '{column}', 'message', 'required', 'code', 'required')));
    END IF;
    INSERT INTO tb_article (identifier, {column}) VALUES (input->>'identifier', {value})
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_article(ARRAY[v_id]);
    RETURN ROW('success', v_id, 'Article created.', '[]')::fraiseql_mutation_result;
END $$;

CREATE OR REPLACE FUNCTION fn_update_article(input jsonb)
RETURNS fraiseql_mutation_result LANGUAGE plpgsql AS $$
DECLARE v_id uuid;
BEGIN
    UPDATE tb_article SET {column} = {value}
    WHERE id::text = input->>'article' OR identifier = input->>'article'
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN ROW('not_found', NULL, 'No such article.', '[]')::fraiseql_mutation_result;
    END IF;
    PERFORM fn_sync_tv_article(ARRAY[v_id]);
    RETURN ROW('success', v_id, 'Article updated.', '[]')::fraiseql_mutation_result;
END $$;
"""

RELEASE_1_FUNCTIONS = SYNC.format(document="'title', a.title") + MUTATIONS.format(
    column="title", value="input->>'title'"
)

EXPAND_UP = f"""-- Expand: headline beside title. The trigger keeps the two columns equal whoever
-- writes: the functions of this migration (headline), and a call of the previous functions
-- that started before this commits and writes title.
ALTER TABLE tb_article ADD COLUMN headline text;
SELECT pg_sleep({HOLD});  -- the test's stand-in for a long backfill: writes queue meanwhile
CREATE FUNCTION fn_tb_article_headline_compat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.headline := coalesce(NEW.headline, NEW.title);
        NEW.title := coalesce(NEW.title, NEW.headline);
    ELSIF NEW.title IS DISTINCT FROM OLD.title THEN
        NEW.headline := NEW.title;
    ELSIF NEW.headline IS DISTINCT FROM OLD.headline THEN
        NEW.title := NEW.headline;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tb_article_headline_compat BEFORE INSERT OR UPDATE ON tb_article
    FOR EACH ROW EXECUTE FUNCTION fn_tb_article_headline_compat();
UPDATE tb_article SET headline = title WHERE headline IS NULL;
ALTER TABLE tb_article ALTER COLUMN headline SET NOT NULL;
-- Both releases call these: headline written (the trigger copies it into title), either key read.
{MUTATIONS.format(column="headline", value="coalesce(input->>'headline', input->>'title')")}
-- Every document gets both keys: release 1 reads title, release 2 headline.
{SYNC.format(document="'title', a.title, 'headline', a.headline")}
SELECT fn_sync_tv_article();
"""

EXPAND_DOWN = f"""{RELEASE_1_FUNCTIONS}
DROP TRIGGER tb_article_headline_compat ON tb_article;
DROP FUNCTION fn_tb_article_headline_compat();
ALTER TABLE tb_article DROP COLUMN headline;
SELECT fn_sync_tv_article();
"""

CONTRACT_UP = f"""-- Contract: release 1 is gone; title leaves the functions, the documents and the table.
-- A call of the expand's functions queued behind this writes headline only: still valid.
{MUTATIONS.format(column="headline", value="input->>'headline'")}
{SYNC.format(document="'headline', a.headline")}
DROP TRIGGER tb_article_headline_compat ON tb_article;
DROP FUNCTION fn_tb_article_headline_compat();
ALTER TABLE tb_article DROP COLUMN title;
SELECT pg_sleep({HOLD});
SELECT fn_sync_tv_article();
"""

CONTRACT_DOWN = f"""ALTER TABLE tb_article ADD COLUMN title text;
UPDATE tb_article SET title = headline;
ALTER TABLE tb_article ALTER COLUMN title SET NOT NULL;
CREATE FUNCTION fn_tb_article_headline_compat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.headline := coalesce(NEW.headline, NEW.title);
        NEW.title := coalesce(NEW.title, NEW.headline);
    ELSIF NEW.title IS DISTINCT FROM OLD.title THEN
        NEW.headline := NEW.title;
    ELSIF NEW.headline IS DISTINCT FROM OLD.headline THEN
        NEW.title := NEW.headline;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tb_article_headline_compat BEFORE INSERT OR UPDATE ON tb_article
    FOR EACH ROW EXECUTE FUNCTION fn_tb_article_headline_compat();
{MUTATIONS.format(column="headline", value="coalesce(input->>'headline', input->>'title')")}
{SYNC.format(document="'title', a.title, 'headline', a.headline")}
SELECT fn_sync_tv_article();
"""

READ = "query($n: Int) {{ articles(limit: $n) {{ id identifier {field} }} }}"
CREATE = """mutation($input: CreateArticleInput!) {{
  createArticle(input: $input) {{ status message errors {{ field message }} article {{ id {field} }} }}
}}"""
UPDATE = """mutation($input: UpdateArticleInput!) {{
  updateArticle(input: $input) {{ status message errors {{ field message }} article {{ id {field} }} }}
}}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Release:
    """One uvicorn process serving release ``number`` (1: ``title``, 2: ``headline``)."""

    def __init__(self, dsn: str, number: int) -> None:
        self.number = number
        self.field = "title" if number == 1 else "headline"
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.inflight = 0
        self.idle = asyncio.Event()  # set when no request to this process is in flight
        self.idle.set()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"tests.migrations.zero_downtime_release_{number}:app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, "ZD_DATABASE_URL": dsn},
        )  # fmt: skip

    async def ready(self, client: httpx.AsyncClient) -> None:
        """Wait (at most 20 s) until the process answers /health/ready."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                ready = f"http://127.0.0.1:{self.port}/health/ready"
                if (await client.get(ready, timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError(f"release {self.number} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request of the load."""

    release: int
    kind: str  # read | create | update
    ok: bool
    started: float
    ended: float
    detail: str


def _check(kind: str, field: str, sent: str | None, response: httpx.Response) -> str | None:
    """Why the response is a failure, or None."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    body = response.json()
    if body.get("errors") or not body.get("data"):
        return f"GraphQL errors: {str(body)[:300]}"
    if kind == "read":
        items = body["data"]["articles"]
        return None if items and all(item[field] for item in items) else f"bad read {items}"
    payload = body["data"]["createArticle" if kind == "create" else "updateArticle"]
    if payload["status"] != "SUCCESS" or (payload["article"] or {}).get(field) != sent:
        return f"bad {kind}: {payload}"
    return None


class Load:
    """``workers`` clients, each about ``rate`` requests a second over the rotation, in turn."""

    def __init__(self, targets: list[str], *, workers: int = 4, rate: float = 12) -> None:
        self.rotation: list[Release] = []
        self.outcomes: list[Outcome] = []
        self._targets = targets  # ids of articles to update
        self._workers = workers
        self._interval = 1 / rate
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(i)) for i in range(self._workers)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _run(self, worker: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            n = worker
            while not self._stop.is_set():
                started = time.monotonic()
                release = self.rotation[n % len(self.rotation)]
                kind = ("read", "create", "update")[(n // len(self.rotation)) % 3]
                await self._request(client, release, kind, n)
                n += 1
                await asyncio.sleep(max(0.0, self._interval - (time.monotonic() - started)))

    async def _request(
        self, client: httpx.AsyncClient, release: Release, kind: str, n: int
    ) -> None:
        field, sent = release.field, f"{release.field} {secrets.token_hex(4)}"
        if kind == "read":
            query, variables, sent_value = READ, {"n": 5}, None
        elif kind == "create":
            identifier = f"article-{secrets.token_hex(6)}"
            query, variables = CREATE, {"input": {"identifier": identifier, field: sent}}
            sent_value = sent
        else:
            target = self._targets[n % len(self._targets)]
            query, variables = UPDATE, {"input": {"article": target, field: sent}}
            sent_value = sent
        release.inflight += 1
        release.idle.clear()
        started = time.monotonic()
        try:
            response = await client.post(
                release.url, json={"query": query.format(field=field), "variables": variables}
            )
            failure = _check(kind, field, sent_value, response)
        except httpx.HTTPError as error:
            failure = repr(error)
        finally:
            release.inflight -= 1
            if not release.inflight:
                release.idle.set()
        self.outcomes.append(
            Outcome(release.number, kind, failure is None, started, time.monotonic(), failure or "")
        )


@dataclass
class Timeline:
    """When each step ran (monotonic seconds)."""

    steps: dict[str, tuple[float, float]]

    def seconds(self, step: str) -> float:
        start, end = self.steps[step]
        return end - start


async def _deploy(
    dsn: str, history: Path, expand: list[Path], contract: list[Path]
) -> tuple[Load, Timeline]:
    connection = await asyncpg.connect(dsn)
    try:
        targets = [r[0] for r in await connection.fetch("SELECT id::text FROM tv_article")]
    finally:
        await connection.close()
    expand_version = expand[0].name.split("_", 1)[0]
    contract_version = contract[0].name.split("_", 1)[0]
    load = Load(targets)
    steps: dict[str, tuple[float, float]] = {}
    old = Release(dsn, 1)
    new: Release | None = None
    async with httpx.AsyncClient() as probe:
        try:
            await old.ready(probe)
            load.rotation.append(old)
            t0 = time.monotonic()
            load.start()
            await asyncio.sleep(1.5)  # release 1 alone

            t = time.monotonic()
            applied = await asyncio.to_thread(migrations.up, dsn, history, target=expand_version)
            steps["expand"] = (t, time.monotonic())
            assert applied == [expand_version]
            await asyncio.sleep(1.0)  # release 1 on the expanded schema

            t = time.monotonic()
            new = Release(dsn, 2)
            await new.ready(probe)
            load.rotation.append(new)  # both releases serve
            steps["deploy"] = (t, time.monotonic())
            await asyncio.sleep(2.0)

            t = time.monotonic()
            load.rotation.remove(old)  # out of the rotation; its requests finish; stopped
            await old.idle.wait()
            await asyncio.to_thread(old.stop)
            steps["drain"] = (t, time.monotonic())
            await asyncio.sleep(0.5)

            t = time.monotonic()
            applied = await asyncio.to_thread(migrations.up, dsn, history, allow_destructive=True)
            steps["contract"] = (t, time.monotonic())
            assert applied == [contract_version]
            await asyncio.sleep(1.5)  # release 2 alone on the contracted schema
        finally:
            if load.rotation:
                await load.stop()
            for release in (old, new):
                if release is not None:
                    await asyncio.to_thread(release.stop)
    steps["load"] = (t0, time.monotonic())
    return load, Timeline(steps)


def _queued(load: Load, timeline: Timeline, step: str) -> int:
    """Writes that started while ``step`` ran and ended after it committed."""
    start, end = timeline.steps[step]
    return sum(
        1
        for o in load.outcomes
        if o.kind != "read" and start <= o.started < end and o.ended >= end - 0.005
    )


async def test_a_field_renamed_across_two_deploys_fails_no_request(
    server_dsn: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    schema = tmp_path / "db" / "schema"
    for relative, text in {
        "00_common/01_fraiseql_contract.sql": CONTRACT_SQL,
        "10_tables/01_tb_article.sql": TABLES,
        "20_read_models/01_tv_article.sql": READ_MODEL,
        "40_functions/01_article.sql": RELEASE_1_FUNCTIONS,
    }.items():
        (schema / relative).parent.mkdir(parents=True, exist_ok=True)
        (schema / relative).write_text(text)
    history = tmp_path / "db" / "migrations"
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=history)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "INSERT INTO tb_article (identifier, title)"
                " SELECT 'seed-' || i, 'seed ' || i FROM generate_series(1, 20) i;"
                " SELECT fn_sync_tv_article();"
            )
        finally:
            await connection.close()
        expand = migrations.generate("expand_article_headline", history)
        contract = migrations.generate("contract_article_title", history)
        for (up_file, down_file), (up_sql, down_sql) in (
            (expand, (EXPAND_UP, EXPAND_DOWN)),
            (contract, (CONTRACT_UP, CONTRACT_DOWN)),
        ):
            up_file.write_text(up_sql)
            down_file.write_text(down_sql)

        load, timeline = await _deploy(dsn, history, expand, contract)

        assert await columns(dsn, "tb_article") == ["pk_article", "id", "identifier", "headline"]
        assert [s.status for s in migrations.status(dsn, history)] == ["applied", "applied"]
        connection = await asyncpg.connect(dsn)
        try:
            # Every document is the table's row, without title.
            mismatched = await connection.fetchval(
                "SELECT count(*) FROM tb_article a FULL JOIN tv_article t USING (id)"
                " WHERE t.data IS DISTINCT FROM jsonb_build_object("
                "'id', a.id, 'identifier', a.identifier, 'headline', a.headline)"
            )
            articles = await connection.fetchval("SELECT count(*) FROM tv_article")
        finally:
            await connection.close()
    assert mismatched == 0

    duration = time.monotonic() - started
    outcomes = load.outcomes
    counts = Counter(f"release {o.release} {o.kind}" for o in outcomes)
    failed = [o for o in outcomes if not o.ok]
    latencies = sorted(o.ended - o.started for o in outcomes)
    queued = {step: _queued(load, timeline, step) for step in ("expand", "contract")}
    creates = sum(1 for o in outcomes if o.kind == "create" and o.ok)
    steps = ", ".join(
        f"{step} {timeline.seconds(step) * 1000:.0f} ms"
        for step in ("expand", "deploy", "drain", "contract")
    )
    print(
        f"\nzero downtime: {len(outcomes)} requests in {timeline.seconds('load'):.1f} s"
        f" ({len(failed)} failed; test {duration:.1f} s): "
        + ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))
        + f"; {steps}; writes queued behind expand {queued['expand']},"
        + f" contract {queued['contract']}; latency p50 {statistics.median(latencies) * 1000:.0f}"
        + f" ms, max {latencies[-1] * 1000:.0f} ms; {articles} articles"
    )
    assert [f"release {o.release} {o.kind}: {o.detail}" for o in failed] == []
    for release in (1, 2):
        for kind in ("read", "create", "update"):
            assert counts[f"release {release} {kind}"] >= 20, counts
    assert articles == 20 + creates
    # Writes really waited behind each migration, so calls of the old functions ran after it.
    assert queued["expand"] >= 1 and queued["contract"] >= 1, queued
    assert duration < 40
