"""The SQL the Strawberry and Graphene peers run over the normalised ``tb_*`` tables.

Both peers are written the way their documentation recommends: a resolver per root field that
reads its rows with asyncpg, and DataLoaders that batch the nested authors (by primary key) and
comments (by post) of a whole list into one query each. Only standard-library imports here:
the peers run in their own virtual environments.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Any

POOL_SIZE = 10

POST_COLUMNS = (
    "p.pk_post, p.id, p.identifier, p.title, p.body, p.status, p.tags, p.view_count, "
    "p.created_at, p.fk_user"
)
POST_BY_ID = f"SELECT {POST_COLUMNS} FROM tb_post p WHERE p.id = $1"
POSTS = f"SELECT {POST_COLUMNS} FROM tb_post p ORDER BY p.identifier, p.id LIMIT $1"
# The connection: an author's posts, newest first (ties by id), one more row than asked.
POSTS_OF_AUTHOR = (
    f"SELECT {POST_COLUMNS} FROM tb_post p "
    "WHERE p.fk_user = (SELECT pk_user FROM tb_user WHERE id = $1) "
    "AND ($3::timestamptz IS NULL OR p.created_at < $3 OR (p.created_at = $3 AND p.id > $4)) "
    "ORDER BY p.created_at DESC, p.id LIMIT $2"
)
COUNT_POSTS_OF_AUTHOR = (
    "SELECT count(*) FROM tb_post p WHERE p.fk_user = (SELECT pk_user FROM tb_user WHERE id = $1)"
)
USERS_BY_PK = "SELECT pk_user, id, identifier, name, email FROM tb_user WHERE pk_user = ANY($1)"
COMMENTS_BY_POST = (
    "SELECT fk_post, id, identifier, body, created_at, fk_user FROM tb_comment "
    "WHERE fk_post = ANY($1) ORDER BY fk_post, created_at, id"
)
CREATE_POST = (
    "INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, status, tags, "
    "category_path) "
    "SELECT $1, u.fk_organisation, u.pk_user, $3, $4, $5, $6, $7::ltree FROM tb_user u "
    "WHERE u.id = $2 "
    f"RETURNING {POST_COLUMNS.replace('p.', '')}"
)


def encode_cursor(created_at: datetime.datetime, post_id: uuid.UUID) -> str:
    """An opaque cursor for the connection's order (created_at DESC, id)."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{post_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[Any, Any]:
    """The (created_at, id) a cursor stands for, or (None, None)."""
    if not cursor:
        return None, None
    created_at, post_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    return datetime.datetime.fromisoformat(created_at), uuid.UUID(post_id)


def group_by(rows: list[Any], key: str, keys: list[Any]) -> list[list[Any]]:
    """The rows of each key, in the order of ``keys`` (what a DataLoader's batch returns)."""
    grouped: dict[Any, list[Any]] = {k: [] for k in keys}
    for row in rows:
        grouped[row[key]].append(row)
    return [grouped[k] for k in keys]
