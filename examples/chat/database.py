"""Create and fill the chat example's database.

``load_schema(dsn)`` (re)creates the tables, read models, functions and policies of ``db/`` and
``security.py``; ``seed(dsn)`` replaces the example data with a small fixed data set, then syncs
every read model once (``fn_sync_tv_<entity>()``).

The data is the same on every run, ids included (each UUID is derived from the row's kind and
identifier, see :func:`seed_uuid`), so tests and the page can name rows directly:

- organisations ``acme`` and ``globex``;
- users ``alice``, ``bob``, ``carol`` in acme and ``alice``, ``dave``, ``erin`` in globex
  (identifiers are unique per organisation only);
- rooms ``general`` and ``random`` in acme, ``general`` and ``ops`` in globex; everybody is a
  member of their organisation's ``general``, the other rooms have two members each;
- a few messages per room, numbered from 1, some of them hostile on purpose (quotes,
  backslashes, ``'; DROP TABLE ...; --``, HTML, JSON-looking text, control characters, emoji,
  right-to-left and zero-width characters, U+2028) so that every layer's escaping is exercised;
- nobody is typing.

Command line::

    python -m examples.chat.database --dsn postgresql://postgres@127.0.0.1/chat
    python -m examples.chat.database --embedded        # the server in .fraiseql/chat-pgdata
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from examples.chat.security import ENTITIES, security_sql
from fraiseql.db.commands import CONTRACT_SQL

__all__ = ["ORGANISATIONS", "PROJECT_ROOT", "SCHEMA_FILES", "load_schema", "seed", "seed_uuid"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DB_DIR = Path(__file__).resolve().parent / "db"
SCHEMA_FILES = (DB_DIR / "schema.sql", DB_DIR / "read_models.sql", DB_DIR / "mutations.sql")
"""The SQL files ``load_schema`` runs, in order."""

ORGANISATIONS = {"acme": "Acme", "globex": 'Globex "Söns" & Co'}
"""Organisation identifier → name."""

USERS = {
    "acme": [("alice", "Alice Smith"), ("bob", "Bob O'Brien"), ("carol", "Carol Müller")],
    "globex": [
        ("alice", "Alice García"),
        ("dave", "Dave Nguyen"),
        ("erin", "Erin <b>Bold</b> Ødegaard"),
    ],
}
"""Organisation identifier → its users' ``(identifier, name)``."""

# (organisation, identifier, name, topic, members)
ROOMS = [
    ("acme", "general", "General", "Company-wide chatter", ["alice", "bob", "carol"]),
    ("acme", "random", "Random", None, ["alice", "bob"]),
    ("globex", "general", "General", "Everything Globex", ["alice", "dave", "erin"]),
    ("globex", "ops", "Ops 🚀", "Pager goes brrr", ["dave", "erin"]),
]

# (organisation, room, author, body), numbered in this order within each room.
MESSAGES = [
    ("acme", "general", "alice", "Good morning, everyone!"),
    ("acme", "general", "bob", "Morning Alice. Coffee's on."),
    ("acme", "general", "carol", "Robert'); DROP TABLE tb_message; --"),
    ("acme", "general", "alice", "<script>alert('xss')</script> should stay text"),
    ("acme", "general", "bob", 'He said "hi" and left a back\\slash \\n behind'),
    ("acme", "random", "bob", "Anyone up for lunch?"),
    ("acme", "random", "alice", '{"data": {"messageAdded": null}, "errors": []}'),
    ("acme", "random", "bob", "Emoji 🎉👩‍💻, RTL \u202eolleh\u202c, zero\u200bwidth"),
    ("globex", "general", "dave", "Quarterly numbers are in."),
    ("globex", "general", "erin", "Line\u2028separator, tab\there, bell\x07, null-ish \\u0000"),
    ("globex", "general", "alice", "שלום, مرحبا, 你好"),
    ("globex", "ops", "dave", "Deploying 1.2.3 now."),
    ("globex", "ops", "erin", "'; SELECT pg_sleep(10); --"),
]

SEEDED_AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
"""The first seeded timestamp; every seeded row is a minute after the previous one."""


def seed_uuid(kind: str, *key: str) -> uuid.UUID:
    """The fixed id of a seeded row, e.g. ``seed_uuid("room", "acme", "general")``."""
    return uuid.UUID(hashlib.md5(":".join(("chat", kind, *key)).encode()).hexdigest())


async def load_schema(dsn: str) -> None:
    """(Re)create the example's tables, read models, functions and policies, in one transaction.

    As RLS is forced, load (and seed) as a superuser or a role with BYPASSRLS. Running it again
    drops the example's objects, and so its data, and creates them anew.
    """
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL client_min_messages = warning")
            await connection.execute(CONTRACT_SQL)  # the result type, fraiseql_notify...
            for path in SCHEMA_FILES:
                await connection.execute(path.read_text(encoding="utf-8"))
            await connection.execute(security_sql())  # the app role and the tenant policies
    finally:
        await connection.close()


EMBEDDED_DATA_DIR = PROJECT_ROOT / ".fraiseql" / "chat-pgdata"
"""The embedded server of the chat example: its own, so that it never shares a database with
the blog example (both have ``tb_organisation``...)."""

_TRUNCATE = """
TRUNCATE tb_typing, tb_message, tb_room_member, tb_room, tb_user, tb_organisation,
         tv_typing, tv_message, tv_room, tv_user, tv_organisation
RESTART IDENTITY
"""

_ORGANISATION = """
INSERT INTO tb_organisation (id, identifier, name, created_at) VALUES ($1, $2, $3, $4)
"""

_USER = """
INSERT INTO tb_user (id, identifier, fk_organisation, name, created_at)
SELECT $1, $2, pk_organisation, $4, $5 FROM tb_organisation WHERE identifier = $3
"""

_ROOM = """
INSERT INTO tb_room (id, identifier, fk_organisation, name, topic, created_at)
SELECT $1, $2, pk_organisation, $4, $5, $6 FROM tb_organisation WHERE identifier = $3
"""

# $1 id, $2 room id, $3 user id, $4 joined_at
_MEMBER = """
INSERT INTO tb_room_member (id, identifier, fk_room, fk_user, joined_at)
SELECT $1, r.identifier || ':' || u.identifier, r.pk_room, u.pk_user, $4
FROM tb_room r, tb_user u WHERE r.id = $2 AND u.id = $3
"""

# $1 id, $2 room id, $3 author id, $4 number, $5 body, $6 created_at
_MESSAGE = """
INSERT INTO tb_message (id, identifier, fk_room, fk_user, number, body, created_at)
SELECT $1, r.identifier || '-' || $4::integer, r.pk_room, u.pk_user, $4::integer, $5, $6
FROM tb_room r, tb_user u WHERE r.id = $2 AND u.id = $3
"""

_NUMBERS = """
UPDATE tb_room r SET last_number = coalesce(
    (SELECT max(number) FROM tb_message m WHERE m.fk_room = r.pk_room), 0)
"""


async def seed(dsn: str) -> None:
    """Replace the example's data with the fixed data set, then sync the tv_* (one transaction).

    The schema must have been loaded (``load_schema``).
    """
    moments = (SEEDED_AT + timedelta(minutes=n) for n in range(10_000))
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute(_TRUNCATE)
            for org, name in ORGANISATIONS.items():
                await connection.execute(
                    _ORGANISATION, seed_uuid("organisation", org), org, name, next(moments)
                )
            for org, users in USERS.items():
                for user, name in users:
                    user_id = seed_uuid("user", org, user)
                    await connection.execute(_USER, user_id, user, org, name, next(moments))
            for org, room, name, topic, members in ROOMS:
                room_id = seed_uuid("room", org, room)
                await connection.execute(_ROOM, room_id, room, org, name, topic, next(moments))
                for user in members:
                    await connection.execute(
                        _MEMBER,
                        seed_uuid("room_member", org, room, user),
                        room_id,
                        seed_uuid("user", org, user),
                        next(moments),
                    )
            numbers: dict[tuple[str, str], int] = {}
            for org, room, author, body in MESSAGES:
                number = numbers[org, room] = numbers.get((org, room), 0) + 1
                await connection.execute(
                    _MESSAGE,
                    seed_uuid("message", org, room, str(number)),
                    seed_uuid("room", org, room),
                    seed_uuid("user", org, author),
                    number,
                    body,
                    next(moments),
                )
            await connection.execute(_NUMBERS)
            for entity in ENTITIES:
                await connection.execute(f"SELECT fn_sync_tv_{entity}()")
    finally:
        await connection.close()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.chat.database",
        description="Create the chat example's schema and fill it with its fixed data.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dsn", help="PostgreSQL URL of the database to (re)create")
    where.add_argument(
        "--embedded",
        action="store_true",
        help="use the embedded server of .fraiseql/chat-pgdata (database 'postgres')",
    )
    return parser.parse_args(argv)


async def _main(arguments: argparse.Namespace) -> None:
    if arguments.embedded:
        from fraiseql.db.locate import embedded_dsn

        dsn = await asyncio.to_thread(embedded_dsn, EMBEDDED_DATA_DIR)
    else:
        dsn = arguments.dsn
    await load_schema(dsn)
    await seed(dsn)


def main(argv: list[str] | None = None) -> None:
    """Run the command line."""
    asyncio.run(_main(_parse_args(argv)))


if __name__ == "__main__":
    main()
