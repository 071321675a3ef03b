"""Full-text search: what a type declares searchable, and the input clients send.

``@fraiseql.type(sql_source="tv_post", search=fraiseql.Search(fields=["title", "body"]))`` makes
the ``title`` and ``body`` text of each document searchable; a list or connection root field
of ``Post`` that declares ``search: fraiseql.SearchInput | None = None`` then takes
``search: {query: "...", language: "..."}`` (see ``docs/guides/search.md``). The SQL is written
by :mod:`fraiseql.sql.search`, the matching GIN index by :mod:`fraiseql.codegen.tables`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fraiseql.types.decorators import input_

MAX_SEARCH_QUERY_LENGTH = 1000
"""The longest ``search.query`` accepted, in characters; a longer one is refused unread."""

WEIGHTS = ("A", "B", "C", "D")
"""PostgreSQL's lexeme weights, from the highest rank to the lowest (``setweight``)."""

_CONFIG_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _config(name: object, what: str) -> str:
    if not isinstance(name, str) or not _CONFIG_NAME.fullmatch(name):
        raise ValueError(
            f"Search: {what} {name!r} is not the name of a PostgreSQL text search configuration "
            "(lower-case, optionally schema-qualified: 'english', 'public.my_config')"
        )
    return name


@dataclass(frozen=True, slots=True, init=False, eq=False)
class Search:
    """The searchable text of a read model's documents.

    ``fields`` are Python field names of string fields, dotted into nested objects
    (``"author.name"``); each one's text is turned into a ``tsvector`` with the text search
    configuration ``language``, and the field vectors are concatenated in the order given.
    ``weights`` gives fields a weight ``"A"`` (highest) to ``"D"`` (lowest, and the default),
    which ranking by ``_rank`` honours. ``languages`` are further configurations a client may
    ask for in ``search.language``; the attribute holds every allowed one, ``language`` first.
    A request in another language than ``language`` computes the vectors with that
    configuration, which the index of ``language`` does not serve.

    ``column`` names a stored ``tsvector`` column of the read model holding exactly the vector
    of ``language`` (the DDL generator writes it as a generated column); without it the vector
    is computed from the document, which the generated GIN index on the same expression
    serves.
    """

    fields: tuple[str, ...]
    language: str
    weights: Mapping[str, str] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    column: str | None = None

    def __init__(
        self,
        fields: Iterable[str],
        *,
        language: str = "english",
        weights: Mapping[str, str] | None = None,
        languages: Iterable[str] = (),
        column: str | None = None,
    ) -> None:
        names = (fields,) if isinstance(fields, str) else tuple(fields)
        if not names:
            raise ValueError("Search: give at least one field")
        for name in names:
            if not isinstance(name, str) or not _PATH.fullmatch(name):
                raise ValueError(f"Search: {name!r} is not a field name (or a dotted path)")
        if len(set(names)) != len(names):
            raise ValueError(f"Search: a field is listed twice in {list(names)}")
        given = dict(weights or {})
        for name, weight in given.items():
            if name not in names:
                raise ValueError(f"Search: weights names {name!r}, which is not in fields")
            if weight not in WEIGHTS:
                raise ValueError(f"Search: the weight of {name!r} must be one of A, B, C, D")
        others = tuple(_config(name, "languages entry") for name in languages)
        if column is not None and (not isinstance(column, str) or not column or "\x00" in column):
            raise ValueError(f"Search: column {column!r} is not a column name")
        object.__setattr__(self, "fields", names)
        object.__setattr__(self, "language", _config(language, "language"))
        object.__setattr__(self, "weights", given)
        object.__setattr__(self, "languages", tuple(dict.fromkeys((self.language, *others))))
        object.__setattr__(self, "column", column)


@input_(name="SearchInput")
class SearchInput:
    """A full-text search: words, "quoted phrases", `or` and `-excluded` words.

    `query` is parsed by PostgreSQL's `websearch_to_tsquery` (it never fails on syntax);
    `language` is a text search configuration among those the type allows (its declared
    language when left out).
    """

    query: str
    language: str | None = None
