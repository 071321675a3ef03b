"""Expand/contract: a column renamed across two deploys while traffic never stops.

``tb_article.title`` becomes ``headline``. Release 1 reads and writes ``title``, release 2
``headline``; both run as uvicorn processes on 127.0.0.1 while a load loop (about 50 requests a
second, reads and writes, spread over the processes serving) runs throughout:

1. expand (migration 1): add ``headline``, backfill it, and a trigger keeping the two columns
   equal whichever release writes;
2. deploy release 2 beside release 1; both serve;
3. release 1 stops (taken out of the rotation first, as a load balancer drains it);
4. contract (migration 2, destructive: ``allow_destructive``): drop the trigger and ``title``.

Every request must succeed. docs/deployment/migrations.md reports the numbers.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from tests.conftest import temporary_database
from tests.migrations.project import columns, execute

from fraiseql import migrations

ROOT = Path(__file__).resolve().parents[2]

BASE = """CREATE TABLE tb_article (
    pk_article INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    title TEXT NOT NULL
);
"""

EXPAND_UP = """-- Expand: headline beside title, kept equal by a trigger, backfilled.
ALTER TABLE tb_article ADD COLUMN headline text;
CREATE FUNCTION fn_article_sync_headline() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER tb_article_sync_headline BEFORE INSERT OR UPDATE ON tb_article
    FOR EACH ROW EXECUTE FUNCTION fn_article_sync_headline();
UPDATE tb_article SET headline = title WHERE headline IS NULL;
ALTER TABLE tb_article ALTER COLUMN headline SET NOT NULL;
"""

EXPAND_DOWN = """DROP TRIGGER tb_article_sync_headline ON tb_article;
DROP FUNCTION fn_article_sync_headline();
ALTER TABLE tb_article DROP COLUMN headline;
"""

CONTRACT_UP = """-- Contract: release 1 is gone; title and the trigger go too.
DROP TRIGGER tb_article_sync_headline ON tb_article;
DROP FUNCTION fn_article_sync_headline();
ALTER TABLE tb_article DROP COLUMN title;
"""

CONTRACT_DOWN = """ALTER TABLE tb_article ADD COLUMN title text;
UPDATE tb_article SET title = headline;
ALTER TABLE tb_article ALTER COLUMN title SET NOT NULL;
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Release:
    """One uvicorn process of the app, knowing ``column``."""

    def __init__(self, dsn: str, column: str) -> None:
        self.column = column
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}/articles"
        env = {**os.environ, "ZD_DATABASE_URL": dsn, "ZD_COLUMN": column}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.migrations.zero_downtime_app:app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"release {column} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Load:
    """About ``rate`` requests a second over the releases in rotation, counted per outcome."""

    def __init__(self, rate: float = 50) -> None:
        self.rotation: list[Release] = []
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self._interval = 1 / rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            n = 0
            while not self._stop.is_set():
                started = time.monotonic()
                rotation = list(self.rotation)  # changed by the deploy thread
                release = rotation[n % len(rotation)]
                method = "POST" if n % 3 == 0 else "GET"
                try:
                    response = client.request(method, release.url)
                    ok = response.status_code == 200
                    detail = f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    ok, detail = False, repr(error)
                self.counts[f"{release.column} {'ok' if ok else 'failed'}"] += 1
                if not ok:
                    self.failures.append(f"{method} {release.column}: {detail}")
                n += 1
                time.sleep(max(0.0, self._interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _deploy(
    dsn: str, history: Path, expand: list[Path], contract: list[Path]
) -> tuple[Load, dict[str, float]]:
    """Run the two deploys under load (blocking: the test runs it in a thread)."""
    contract_version = contract[0].name.split("_", 1)[0]
    load = Load(rate=50)
    old = Release(dsn, "title")
    new: Release | None = None
    phases: dict[str, float] = {}
    try:
        load.rotation.append(old)
        load.start()
        time.sleep(1.5)  # release 1 alone

        t = time.monotonic()
        [expand_version] = migrations.up(dsn, history, target=expand[0].name.split("_", 1)[0])
        phases["expand"] = time.monotonic() - t
        time.sleep(1.0)  # release 1 on the expanded schema

        new = Release(dsn, "headline")
        load.rotation.append(new)  # both releases serve
        time.sleep(2.0)

        load.rotation.remove(old)  # drained, then stopped
        time.sleep(0.2)
        old.stop()
        time.sleep(0.5)

        t = time.monotonic()
        assert migrations.up(dsn, history, allow_destructive=True) == [contract_version]
        phases["contract"] = time.monotonic() - t
        time.sleep(1.5)  # release 2 alone on the contracted schema
    finally:
        load.stop()
        for release in (old, new):
            if release is not None and release.process.poll() is None:
                release.stop()
    assert expand_version
    return load, phases


async def test_a_column_renamed_across_two_deploys_fails_no_request(
    server_dsn: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    schema = tmp_path / "db" / "schema"
    (schema / "10_tables").mkdir(parents=True)
    (schema / "10_tables" / "01_tb_article.sql").write_text(BASE)
    history = tmp_path / "db" / "migrations"
    async with temporary_database(server_dsn) as dsn:
        migrations.build(dsn, schema, migrations_dir=history)
        await execute(
            dsn, "INSERT INTO tb_article (title) SELECT 'seed ' || i FROM generate_series(1, 20) i"
        )
        expand = migrations.generate("expand_article_headline", history)
        contract = migrations.generate("contract_article_title", history)
        for (up_file, down_file), (up_sql, down_sql) in (
            (expand, (EXPAND_UP, EXPAND_DOWN)),
            (contract, (CONTRACT_UP, CONTRACT_DOWN)),
        ):
            up_file.write_text(up_sql)
            down_file.write_text(down_sql)

        load, phases = await asyncio.to_thread(_deploy, dsn, history, expand, contract)
        assert await columns(dsn, "tb_article") == ["pk_article", "id", "headline"]
        assert [s.status for s in migrations.status(dsn, history)] == ["applied", "applied"]

    total = sum(load.counts.values())
    duration = time.monotonic() - started
    print(
        f"\nzero downtime: {total} requests in {duration:.1f} s, "
        + ", ".join(f"{key}: {value}" for key, value in sorted(load.counts.items()))
        + f"; expand {phases['expand'] * 1000:.0f} ms, contract {phases['contract'] * 1000:.0f} ms"
    )
    assert load.failures == []
    assert load.counts["title ok"] > 50 and load.counts["headline ok"] > 50
    assert duration < 60
