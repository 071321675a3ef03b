"""Create and fill the example blog's database.

``load_schema(dsn)`` (re)creates the tables, read models and sync functions of ``db/``;
``seed(dsn, ...)`` replaces the example data with deterministic pseudo-random rows.

Seeding is set-based: each table is filled by one ``INSERT ... SELECT`` over ``generate_series``,
with every pseudo-random choice drawn from md5 hashes of ``(random_seed, entity, row number)``.
The same parameters always give the same identifiers, names, titles, statuses, timestamps...
(only the UUIDs are random), and row ``n`` of an entity does not depend on how many rows are
seeded after it. Then each read model is synced once, by ``fn_sync_tv_<entity>()``.

What the data looks like:

- organisations: the first ten are ``acme``, ``globex``... (see ``ORGANISATION_NAMES``);
- users: spread round-robin over the organisations; the first twenty are ``alice``, ``bob``...;
  user 1 is an admin, user 2 an author, then about 5% admins, 35% authors, 60% readers;
  a quarter have no bio; emails are ``<identifier>@<organisation identifier>.example``;
- posts: written by admins and authors, in their author's organisation (``fk_organisation``);
  the identifier is the title's slug and the post's number (``fast-indexes-explained-42``),
  except that the first post of every organisation is ``welcome``: identifiers are unique per
  organisation only, and the seed makes them repeat across organisations on purpose;
  about 70% published, 20% drafts, 10% archived;
  drafts have no ``published_at`` and no views, half the archived posts have no
  ``published_at``; 30% have no rating; 0 to 10 tags from ``TAGS`` (about 6% none);
- comments: each published or archived post has exactly ``comments_per_post`` comments, written
  by users of the post's organisation; drafts have none. Comments of a post may share their
  ``created_at`` (then they are ordered by id).

Some names, bios, titles, bodies and comments are hostile on purpose (quotes, backslashes,
``'; DROP TABLE x; --``, HTML, JSON-looking text, control characters, emoji, right-to-left and
zero-width characters, U+2028) so that every layer's escaping gets exercised.

Command line::

    python -m examples.blog.database --dsn postgresql://postgres@127.0.0.1/blog --posts 100000
    python -m examples.blog.database --embedded        # the server in .fraiseql/pgdata
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from pathlib import Path

import asyncpg

from examples.blog.security import security_sql
from fraiseql.db.commands import CONTRACT_SQL

__all__ = ["PROJECT_ROOT", "SCHEMA_FILES", "load_schema", "seed"]

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DB_DIR = PROJECT_ROOT / "examples" / "blog" / "db"
SCHEMA_FILES = (DB_DIR / "schema.sql", DB_DIR / "read_models.sql", DB_DIR / "mutations.sql")
"""The SQL files ``load_schema`` runs, in order."""

READ_MODELS = ("organisation", "user", "post", "comment")
"""The read models, in the order they are synced."""

# --- Vocabularies ------------------------------------------------------------------------------
# Slugs are derived from names and titles (lower case, runs of other characters become '-'), so
# hostile entries still get plain identifiers.

ORGANISATION_NAMES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    'Zoë & Søn\'s "Bureau"',
    "Stark Industries",
    "Wayne Enterprises",
    "Tyrell",
    "Ünïcode 🚀 Ltd",
    "Cyberdyne",
    "Soylent",
]

FIRST_NAMES = [
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Eve",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
    "Sybil",
    "Trent",
    "Victor",
    "Walter",
    "Zoë",
]

LAST_NAMES = [
    "Smith",
    "O'Brien",
    "Müller",
    "García",
    "Nguyen",
    "Kowalski",
    "Tanaka",
    "Dubois",
    "Rossi",
    "Ødegaard",
    "van der Berg",
    "Robert'); DROP TABLE tb_user; --",
    '"Quoted"',
    "李",
]

BIOS = [
    "Writes about databases and distributed systems.",
    "Coffee first, then SQL.",
    'Says "it depends" a lot & means it.',
    "Windows paths: C:\\Users\\bob\\new\\table.sql \\ and a trailing backslash \\",
    "Line one\nLine two\n\tindented with a tab",
    "'; DROP TABLE x; --",
    '{"looks": "like json", "but": ["is", "text"]}',
    "<script>alert('bio')</script>",
    "Emoji 🐘🍓👩‍💻 and CJK 日本語のテキスト",
    "RTL \u202eevil\u202c and zero\u200bwidth",
    "Unicode line\u2028separator and paragraph\u2029separator",
    "Bell \x07 and escape \x1b[31m characters",
    "%s %d {0} ${var} $1 -- format strings",
]

TITLE_ADJECTIVES = [
    "Fast",
    "Practical",
    "Hidden",
    "Modern",
    "Pragmatic",
    "Reliable",
    "Tiny",
    "Boring",
    "Lazy",
    "Typed",
    "Concurrent",
    "Secure",
]
TITLE_NOUNS = [
    "Indexes",
    "Queries",
    "Migrations",
    "Schemas",
    "Transactions",
    "Caches",
    "Resolvers",
    "Cursors",
    "Joins",
    "Tenants",
    "Triggers",
    "Backups",
]
TITLE_ENDINGS = [
    "in Practice",
    "for Beginners",
    "Considered Harmful",
    "at Scale",
    "Explained",
    "the Hard Way",
    "in 10 Minutes",
    "Revisited",
]
HOSTILE_TITLES = [
    "Hello, World",
    "'; DROP TABLE x; --",
    "Quotes: \"double\", 'single', `back`",
    "Backslash \\ and \\n not a newline",
    "<b>HTML</b> & entities &amp; &lt;",
    "Emoji 🚀🔥 in titles",
    "Ünïcödé \u2014 dashes \u2013 and \u201csmart quotes\u201d",
    "مرحبا بالعالم",
    "Tab\tand newline\nin a title",
    "100% {sure} $1 ?",
]

BODY_PARAGRAPHS = [
    "PostgreSQL keeps the data; the API only reads documents that were computed ahead of time. "
    "Reads are one index scan, writes call one function.",
    "An index is a promise: queries that use its expression get faster, writes get a little "
    "slower, and the planner decides whether the promise is worth keeping.",
    "Cursor pagination walks an ordered index from where the previous page stopped, so page "
    "one thousand costs the same as page one.",
    "Multi-tenant data needs a tenant on every row and a filter on every query, ideally "
    "enforced by the database rather than by convention.",
    "Escaping test: 'single', \"double\", back\\slash, percent %, underscore _, "
    "dollar $$ and $1, semicolon; -- comment, /* block */.",
    'JSON inside text: {"key": [1, 2, 3], "nested": {"ok": true}} and a lone }.',
    "Unicode: naïve café, Straße, Ελληνικά, русский, 中文, 😀, flags 🇫🇷, "
    "combining e\u0301, and U+2028:\u2028done.",
    "Newlines\nand\r\nCRLF and\ttabs.",
]

COMMENT_BODIES = [
    "Great post!",
    "I disagree with the second paragraph.",
    "Thanks, this saved me a day.",
    "Could you share the benchmark script?",
    "+1",
    "'; DROP TABLE tb_comment; --",
    "<img src=x onerror=alert(1)>",
    'He said "it works on my machine" \\o/',
    "🙈🙉🙊",
    "Multi-line\ncomment\n\n-- with a dash dash",
    "Backslashes: \\\\server\\share and \\u0000 as text",
]

TAGS = [
    "postgres",
    "graphql",
    "python",
    "rust",
    "performance",
    "security",
    "tutorial",
    "news",
    "opinion",
    "release",
]

CATEGORY_PATHS = [
    "tech",
    "tech.databases",
    "tech.databases.postgres",
    "tech.databases.sqlite",
    "tech.languages.python",
    "tech.languages.rust",
    "tech.web.graphql",
    "science.physics",
    "science.biology",
    "life.travel",
    "life.food",
]

# --- SQL ---------------------------------------------------------------------------------------
# Helpers live in pg_temp: they vanish with the seeding session.
#   pg_temp.seed_bits(key): 128 hex digits derived from key (four md5 digests), 16 slots of 32 bits;
#   pg_temp.seed_unit(bits, slot): slot 0..15 of those bits, as a number in [0, 1);
#   pg_temp.seed_pick(bits, slot, n): slot 0..15 of those bits, as an integer in [0, n);
# Each pseudo-random choice about a row uses its own slot of that row's bits. The bits are computed
# in a LATERAL subquery with OFFSET 0, which keeps the planner from copying the md5 calls into
# every expression that uses them.
#   pg_temp.seed_slug(text): lower case ASCII letters and digits, joined by single dashes.

_HELPERS = r"""
CREATE FUNCTION pg_temp.seed_bits(key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5(key || ':0') || md5(key || ':1') || md5(key || ':2') || md5(key || ':3') $$;

CREATE FUNCTION pg_temp.seed_unit(bits text, slot integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ('x' || substr(bits, slot * 8 + 1, 8))::bit(32)::bigint / 4294967296.0 $$;

CREATE FUNCTION pg_temp.seed_pick(bits text, slot integer, n bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (('x' || substr(bits, slot * 8 + 1, 8))::bit(32)::bigint % n)::integer $$;

CREATE FUNCTION pg_temp.seed_slug(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT trim(BOTH '-' FROM regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')) $$;
"""

_TRUNCATE = """
TRUNCATE tb_comment, tb_post, tb_user, tb_organisation,
         tv_comment, tv_post, tv_user, tv_organisation
RESTART IDENTITY
"""

# $1 seed, $2 count, $3 names
_INSERT_ORGANISATIONS = """
INSERT INTO tb_organisation (pk_organisation, identifier, name, created_at)
OVERRIDING SYSTEM VALUE
SELECT i,
       concat_ws('-', pg_temp.seed_slug(base_name),
                 CASE WHEN i > cardinality($3::text[]) THEN i END),
       concat_ws(' ', base_name, CASE WHEN i > cardinality($3::text[]) THEN i END),
       timestamptz '2021-01-01 00:00:00+00'
           + floor(pg_temp.seed_unit(bits, 0) * 365 * 86400) * interval '1 second'
FROM generate_series(1, $2::integer) AS i
CROSS JOIN LATERAL (SELECT pg_temp.seed_bits($1 || ':organisation:' || i) AS bits OFFSET 0) AS r
CROSS JOIN LATERAL (SELECT ($3::text[])[(i - 1) % cardinality($3::text[]) + 1] AS base_name) AS n
"""

# $1 seed, $2 count, $3 organisations, $4 first names, $5 last names, $6 bios
_INSERT_USERS = """
INSERT INTO tb_user (pk_user, identifier, fk_organisation, name, email, role, bio, created_at)
OVERRIDING SYSTEM VALUE
SELECT i,
       u.identifier,
       o.pk_organisation,
       u.first_name || ' ' || ($5::text[])[pg_temp.seed_pick(bits, 1, cardinality($5::text[])) + 1],
       u.identifier || '@' || o.identifier || '.example',
       CASE
           WHEN i = 1 THEN 'admin'
           WHEN i = 2 THEN 'author'
           WHEN pg_temp.seed_unit(bits, 2) < 0.05 THEN 'admin'
           WHEN pg_temp.seed_unit(bits, 2) < 0.40 THEN 'author'
           ELSE 'reader'
       END,
       CASE
           WHEN pg_temp.seed_unit(bits, 3) >= 0.25
           THEN ($6::text[])[pg_temp.seed_pick(bits, 4, cardinality($6::text[])) + 1]
       END,
       timestamptz '2022-01-01 00:00:00+00'
           + round((pg_temp.seed_unit(bits, 5) * 365 * 86400)::numeric, 3) * interval '1 second'
FROM generate_series(1, $2::integer) AS i
CROSS JOIN LATERAL (SELECT pg_temp.seed_bits($1 || ':user:' || i) AS bits OFFSET 0) AS r
CROSS JOIN LATERAL (
    SELECT f.first_name,
           concat_ws('-', pg_temp.seed_slug(f.first_name),
                     CASE WHEN i > cardinality($4::text[]) THEN i END) AS identifier
    FROM (SELECT CASE
                     WHEN i <= cardinality($4::text[]) THEN ($4::text[])[i]
                     ELSE ($4::text[])[pg_temp.seed_pick(bits, 0, cardinality($4::text[])) + 1]
                 END AS first_name) AS f
) AS u
JOIN tb_organisation o ON o.pk_organisation = (i - 1) % $3::integer + 1
"""

# $1 seed, $2 count, $3 adjectives, $4 nouns, $5 endings, $6 hostile titles, $7 paragraphs,
# $8 tags, $9 category paths
_INSERT_POSTS = """
WITH authors AS (
    SELECT pk_user, fk_organisation, (row_number() OVER (ORDER BY pk_user) - 1)::integer AS k
    FROM tb_user
    WHERE role IN ('admin', 'author')
),
author_count AS (SELECT count(*) AS n FROM authors),
drafted AS (
    SELECT i,
           r.bits,
           CASE
               WHEN pg_temp.seed_unit(r.bits, 1) < 0.03
               THEN ($6::text[])[pg_temp.seed_pick(r.bits, 2, cardinality($6::text[])) + 1]
               ELSE ($3::text[])[pg_temp.seed_pick(r.bits, 2, cardinality($3::text[])) + 1]
                    || ' '
                    || ($4::text[])[pg_temp.seed_pick(r.bits, 3, cardinality($4::text[])) + 1]
                    || ' '
                    || ($5::text[])[pg_temp.seed_pick(r.bits, 4, cardinality($5::text[])) + 1]
           END AS title,
           CASE
               WHEN pg_temp.seed_unit(r.bits, 5) < 0.70 THEN 'published'
               WHEN pg_temp.seed_unit(r.bits, 5) < 0.90 THEN 'draft'
               ELSE 'archived'
           END AS status,
           timestamptz '2023-01-01 00:00:00+00'
               + pg_temp.seed_unit(r.bits, 6) * interval '730 days' AS created_at
    FROM generate_series(1, $2::integer) AS i
    CROSS JOIN LATERAL (SELECT pg_temp.seed_bits($1 || ':post:' || i) AS bits OFFSET 0) AS r
)
INSERT INTO tb_post (pk_post, identifier, fk_organisation, fk_user, title, body, status, tags,
                     rating, view_count, published_at, category_path, created_at)
OVERRIDING SYSTEM VALUE
SELECT d.i,
       CASE
           WHEN row_number() OVER (PARTITION BY a.fk_organisation ORDER BY d.i) = 1
           THEN 'welcome'  -- the same identifier in every organisation
           ELSE concat_ws('-', NULLIF(pg_temp.seed_slug(d.title), ''), d.i)
       END,
       a.fk_organisation,
       a.pk_user,
       d.title,
       ($7::text[])[pg_temp.seed_pick(d.bits, 7, cardinality($7::text[])) + 1]
           || E'\\n\\n'
           || ($7::text[])[pg_temp.seed_pick(d.bits, 8, cardinality($7::text[])) + 1]
           || E'\\n\\n#' || d.i,
       d.status,
       ARRAY(
           SELECT t.tag
           FROM unnest($8::text[]) WITH ORDINALITY AS t (tag, k)
           WHERE (('x' || substr(d.bits, 73, 8))::bit(32)::bigint >> (t.k::integer - 1)) & 1 = 1
             AND (('x' || substr(d.bits, 73, 8))::bit(32)::bigint >> (t.k::integer + 9)) & 1 = 1
           ORDER BY t.k
       ),
       CASE
           WHEN pg_temp.seed_unit(d.bits, 10) >= 0.30
           THEN round((1 + 4 * pg_temp.seed_unit(d.bits, 11))::numeric, 2)
       END,
       CASE
           WHEN d.status = 'draft' THEN 0
           ELSE floor(50000 * pg_temp.seed_unit(d.bits, 12) ^ 3)::integer
       END,
       CASE
           WHEN d.status = 'published'
             OR (d.status = 'archived' AND pg_temp.seed_unit(d.bits, 14) < 0.5)
           THEN date_trunc('second', d.created_at)
                + pg_temp.seed_pick(d.bits, 13, 30 * 86400) * interval '1 second'
       END,
       (($9::text[])[pg_temp.seed_pick(d.bits, 15, cardinality($9::text[])) + 1])::ltree,
       d.created_at
FROM drafted d
CROSS JOIN author_count c
JOIN authors a ON a.k = pg_temp.seed_pick(d.bits, 0, c.n)
"""

# $1 seed, $2 comments per post, $3 bodies
_INSERT_COMMENTS = """
WITH members AS (
    SELECT pk_user,
           fk_organisation,
           (row_number() OVER (PARTITION BY fk_organisation ORDER BY pk_user) - 1)::integer AS k
    FROM tb_user
),
sizes AS (SELECT fk_organisation, count(*) AS n FROM tb_user GROUP BY fk_organisation)
INSERT INTO tb_comment (pk_comment, identifier, fk_organisation, fk_post, fk_user, body,
                        created_at)
OVERRIDING SYSTEM VALUE
SELECT (p.pk_post - 1) * $2::integer + j,
       'comment-' || p.pk_post || '-' || j,
       p.fk_organisation,
       p.pk_post,
       m.pk_user,
       ($3::text[])[pg_temp.seed_pick(r.bits, 1, cardinality($3::text[])) + 1],
       coalesce(p.published_at, p.created_at)
           + (1 + pg_temp.seed_pick(r.bits, 2, 48)) * interval '1 hour'
FROM tb_post p
JOIN sizes s ON s.fk_organisation = p.fk_organisation
CROSS JOIN generate_series(1, $2::integer) AS j
CROSS JOIN LATERAL (
    SELECT pg_temp.seed_bits($1 || ':comment:' || p.pk_post || ':' || j) AS bits OFFSET 0
) AS r
JOIN members m
  ON m.fk_organisation = p.fk_organisation
 AND m.k = pg_temp.seed_pick(r.bits, 0, s.n)
WHERE p.status <> 'draft'
"""

_RESET_IDENTITIES = """
SELECT setval(pg_get_serial_sequence('tb_organisation', 'pk_organisation'),
              coalesce((SELECT max(pk_organisation) FROM tb_organisation), 0) + 1, false),
       setval(pg_get_serial_sequence('tb_user', 'pk_user'),
              coalesce((SELECT max(pk_user) FROM tb_user), 0) + 1, false),
       setval(pg_get_serial_sequence('tb_post', 'pk_post'),
              coalesce((SELECT max(pk_post) FROM tb_post), 0) + 1, false),
       setval(pg_get_serial_sequence('tb_comment', 'pk_comment'),
              coalesce((SELECT max(pk_comment) FROM tb_comment), 0) + 1, false)
"""


async def load_schema(dsn: str) -> None:
    """(Re)create the example's tables, read models, functions and policies, in one transaction.

    The policies and the ``blog_app`` role come from :func:`examples.blog.security.security_sql`;
    as RLS is forced, load (and seed) as a superuser or a role with BYPASSRLS.

    Running it again drops the example's objects, and so its data, and creates them anew.
    """
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL client_min_messages = warning")
            await connection.execute(CONTRACT_SQL)  # the mutation result type
            for path in SCHEMA_FILES:
                await connection.execute(path.read_text(encoding="utf-8"))
            await connection.execute(security_sql())  # the app role and the tenant policies
    finally:
        await connection.close()


async def seed(
    dsn: str,
    *,
    organisations: int = 10,
    users: int = 1000,
    posts: int = 10_000,
    comments_per_post: int = 3,
    random_seed: int = 42,
) -> None:
    """Replace the example's data with deterministic pseudo-random rows, then sync the tv_*.

    Everything happens in one transaction. The schema must have been loaded (``load_schema``).
    See the module documentation for what the data looks like.
    """
    if organisations < 1 or users < 0 or posts < 0 or comments_per_post < 0:
        msg = "need organisations >= 1 and non-negative users, posts and comments_per_post"
        raise ValueError(msg)
    if posts and not users:
        msg = "posts need users to write them"
        raise ValueError(msg)
    key = str(random_seed)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL work_mem = '256MB'")
            await connection.execute("SET LOCAL jit = off")
            await connection.execute(_HELPERS)
            inserts: list[tuple[str, str, tuple[object, ...]]] = [
                ("organisation", _INSERT_ORGANISATIONS, (key, organisations, ORGANISATION_NAMES)),
                ("user", _INSERT_USERS, (key, users, organisations, FIRST_NAMES, LAST_NAMES, BIOS)),
                (
                    "post",
                    _INSERT_POSTS,
                    (
                        key,
                        posts,
                        TITLE_ADJECTIVES,
                        TITLE_NOUNS,
                        TITLE_ENDINGS,
                        HOSTILE_TITLES,
                        BODY_PARAGRAPHS,
                        TAGS,
                        CATEGORY_PATHS,
                    ),
                ),
                ("comment", _INSERT_COMMENTS, (key, comments_per_post, COMMENT_BODIES)),
            ]
            await _timed(connection, "truncate", _TRUNCATE)
            for name, sql, args in inserts:
                await _timed(connection, f"tb_{name}", sql, *args)
                # The next statements join what was just inserted: give the planner its size.
                await _timed(connection, f"analyze tb_{name}", f"ANALYZE tb_{name}")
            await _timed(connection, "identities", _RESET_IDENTITIES)
            for name in READ_MODELS:
                await _timed(connection, f"tv_{name}", f"SELECT fn_sync_tv_{name}()")
                await _timed(connection, f"analyze tv_{name}", f"ANALYZE tv_{name}")
    finally:
        await connection.close()


async def _timed(connection: asyncpg.Connection, label: str, sql: str, *args: object) -> None:
    started = time.perf_counter()
    await connection.execute(sql, *args)
    logger.info("seed: %-24s %8.3f s", label, time.perf_counter() - started)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.blog.database",
        description="Create the example blog's schema and fill it with deterministic data.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dsn", help="PostgreSQL URL of the database to (re)create")
    where.add_argument(
        "--embedded",
        action="store_true",
        help="use the embedded server of .fraiseql/pgdata (database 'postgres')",
    )
    parser.add_argument("--organisations", type=int, default=10)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments-per-post", type=int, default=3)
    parser.add_argument("--random-seed", type=int, default=42)
    parser.add_argument(
        "--no-schema", action="store_true", help="keep the schema, only replace the data"
    )
    return parser.parse_args(argv)


async def _main(arguments: argparse.Namespace) -> None:
    if arguments.embedded:
        from fraiseql.db.locate import embedded_dsn

        started = time.perf_counter()
        dsn = await asyncio.to_thread(embedded_dsn, PROJECT_ROOT / ".fraiseql" / "pgdata")
        logger.info("embedded server ready in %.3f s", time.perf_counter() - started)
    else:
        dsn = arguments.dsn
    started = time.perf_counter()
    if not arguments.no_schema:
        await load_schema(dsn)
        logger.info("schema loaded in %.3f s", time.perf_counter() - started)
    await seed(
        dsn,
        organisations=arguments.organisations,
        users=arguments.users,
        posts=arguments.posts,
        comments_per_post=arguments.comments_per_post,
        random_seed=arguments.random_seed,
    )
    logger.info("done in %.3f s", time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    """Run the command line."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)  # this module's timings; not the INFO chatter of the others
    asyncio.run(_main(_parse_args(argv)))


if __name__ == "__main__":
    main()
