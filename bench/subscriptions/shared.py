"""What the floor, the FraiseQL server, the clients and the driver agree on.

The read model is ``tv_bench_message(id uuid primary key, data jsonb)``; its documents are
``{"id": ..., "seq": n, "body": ...}``, keys in the order PostgreSQL stores a ``jsonb`` object
(by length), which is also the order of the subscription's selection: the floor sends the
stored document as it is, FraiseQL the projection of the same selection, so both send the
same payload. ``seq`` numbers the events of a run (negative: warm-up events, not measured).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

CHANNEL = "fraiseql_events"
"""The PostgreSQL channel ``fraiseql_notify`` sends on."""

TABLE = "tv_bench_message"
ENTITY = "bench_message"
"""The entity of the events: FraiseQL's default for ``sql_source="tv_bench_message"``."""

SUBPROTOCOL = "graphql-transport-ws"
PATH = "/graphql"

SUBSCRIPTION = "subscription { messageAdded { id seq body } }"
"""The document every subscriber sends (the fields of ``data``, in its key order)."""

BODY = "A message of about a hundred bytes, the size of a chat line or a small notification."

SCHEMA_SQL = f"""
CREATE TABLE {TABLE} (id uuid PRIMARY KEY, data jsonb NOT NULL);
"""

STAND_IN_NOTIFY_SQL = f"""
CREATE OR REPLACE FUNCTION fraiseql_notify(p_entity text, p_op text, p_ids uuid[])
RETURNS void LANGUAGE sql AS $fn$
    SELECT pg_notify('{CHANNEL}',
        json_build_object('entity', p_entity, 'op', p_op, 'ids', p_ids)::text);
$fn$;
"""
"""Used only when ``CONTRACT_SQL`` does not define ``fraiseql_notify`` yet."""

INSERT_AND_NOTIFY_SQL = f"""
WITH written AS (
    INSERT INTO {TABLE} (id, data)
    VALUES ($1::uuid, jsonb_build_object('id', $1::text, 'seq', $2::int, 'body', $3::text))
    RETURNING id
), notified AS MATERIALIZED (
    SELECT fraiseql_notify('{ENTITY}', 'insert', ARRAY(SELECT id FROM written))
)
SELECT extract(epoch FROM clock_timestamp())::float8 FROM notified
"""
"""One event: the write and its notification, one statement, committed on its own.

It returns the server's clock (``CLOCK_REALTIME``, in seconds since the epoch) once the
notification is queued, just before the commit that delivers it: the start of the fan-out.
The clients timestamp what they receive with ``time.time()``, the same clock of the same
machine. (The moment the commit returns to the writer comes too late: a fan-out to a few
subscribers can end before the writer's process has read its answer.)"""


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit to ``wanted`` (at most the hard limit); the new one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def rss_bytes(pid: int) -> int:
    """The resident set size of process ``pid`` (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
