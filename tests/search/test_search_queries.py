"""``search`` on list and connection root fields, through the real GraphQL path and PostgreSQL.

Every answer is compared with the oracle (PostgreSQL's own ``to_tsvector @@
websearch_to_tsquery`` over the same rows, in ``conftest.py``); bad input is refused before any
statement runs; hostile text only ever travels as a bind parameter.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from fraiseql.types.search import MAX_SEARCH_QUERY_LENGTH

from .conftest import Observed, oracle
from .library import HOSTILE

LIST = "query($s: SearchInput, $w: DocWhereInput, $o: [DocOrderByInput!]) { docs(search: $s, where: $w, orderBy: $o, limit: 100) { identifier } }"
PAGE = """query($s: SearchInput, $o: [DocOrderByInput!], $first: Int, $after: String,
                $last: Int, $before: String) {
  docsConnection(search: $s, orderBy: $o, first: $first, after: $after, last: $last,
                 before: $before) {
    totalCount
    edges { cursor node { identifier } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def _identifiers(observed: Observed, variables: dict[str, Any]) -> list[str]:
    result = await observed.run(LIST, variables)
    assert "errors" not in result, result
    return [doc["identifier"] for doc in result["data"]["docs"]]


async def test_a_search_returns_what_postgres_matches_best_first(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    for query in (
        "cat",
        "running databases",
        '"search databases"',
        '"running the runs"',
        "cat or dog -postgres",
        "café",
    ):
        expected = await oracle(connection, query)
        assert expected, query  # the documents hold these words
        assert await _identifiers(observed, {"s": {"query": query}}) == expected[:100], query


async def test_rank_orders_alone_or_after_other_keys(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    ascending = await _identifiers(observed, {"s": {"query": "cat"}, "o": [{"_rank": "ASC"}]})
    assert ascending == (await oracle(connection, "cat", order="{rank} ASC"))[:100]
    by_kind = await _identifiers(
        observed, {"s": {"query": "index"}, "o": [{"kind": "ASC"}, {"_rank": "DESC"}]}
    )
    expected = await oracle(connection, "index", order="data->>'kind' ASC, {rank} DESC")
    assert by_kind == expected[:100]
    by_title = await _identifiers(observed, {"s": {"query": "dog"}, "o": [{"title": "DESC"}]})
    assert by_title == (await oracle(connection, "dog", order="data->>'title' DESC"))[:100]


async def test_where_and_search_are_one_statement(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    variables = {"s": {"query": "search or index"}, "w": {"kind": {"eq": "guide"}}}
    found = await _identifiers(observed, variables)
    expected = await oracle(
        connection, "search or index", where="data->>'kind' = $2", args=["guide"]
    )
    assert found == expected and found
    [statement] = observed.reads()
    assert "@@ websearch_to_tsquery('english'::regconfig, $1::text)" in statement
    assert "'kind'" in statement


async def test_connection_pages_follow_the_rank_both_ways(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    expected = await oracle(connection, "cat or dog")
    assert len(expected) > 30
    search = {"query": "cat or dog"}
    forward: list[str] = []
    after = None
    while True:
        result = await observed.run(PAGE, {"s": search, "first": 7, "after": after})
        page = result["data"]["docsConnection"]
        assert page["totalCount"] == len(expected)
        forward += [edge["node"]["identifier"] for edge in page["edges"]]
        assert len(observed.reads()) == 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == expected
    backward: list[str] = []
    before = None
    while True:
        result = await observed.run(PAGE, {"s": search, "last": 9, "before": before})
        page = result["data"]["docsConnection"]
        backward = [edge["node"]["identifier"] for edge in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == expected
    # An explicit _rank ordering pages the same way as the default one.
    ranked = await observed.run(
        PAGE, {"s": search, "o": [{"_rank": "DESC"}], "first": 5, "after": None}
    )
    edges = ranked["data"]["docsConnection"]["edges"]
    assert [edge["node"]["identifier"] for edge in edges] == expected[:5]


async def test_a_cursor_belongs_to_its_search(observed: Observed) -> None:
    first = await observed.run(PAGE, {"s": {"query": "cat"}, "first": 2})
    cursor = first["data"]["docsConnection"]["pageInfo"]["endCursor"]
    for other in ({"query": "dog"}, {"query": "cat", "language": "simple"}, None):
        result = await observed.run(PAGE, {"s": other, "first": 2, "after": cursor})
        assert result["errors"][0]["message"] == "Invalid cursor: it belongs to another ordering"
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_languages_among_the_allowed_ones(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    for language, query in (("simple", "cats"), ("french", "maisons"), ("english", "runs")):
        expected = await oracle(connection, query, config=language)
        assert expected, (language, query)
        found = await _identifiers(observed, {"s": {"query": query, "language": language}})
        assert found == expected[:100]
    # 'simple' does not stem: "cats" is not "cat" there, as it is in English.
    assert await oracle(connection, "cats", config="simple") != await oracle(connection, "cats")


async def _refused(observed: Observed, query: str, variables: dict[str, Any] | None = None) -> Any:
    result = await observed.run(query, variables)
    assert result.get("data") is None, result
    assert observed.statements == [], observed.statements
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error


async def test_bad_input_is_refused_before_the_database(observed: Observed) -> None:
    error = await _refused(observed, LIST, {"s": {"query": "cat", "language": "klingon"}})
    assert error["message"] == (
        "'search.language' 'klingon' is not a text search configuration Doc allows; "
        "allowed: english, simple, french"
    )
    assert error["extensions"]["allowed"] == ["english", "simple", "french"]
    injected = await _refused(observed, LIST, {"s": {"query": "cat", "language": "english'"}})
    assert "allowed: english, simple, french" in injected["message"]
    for blank in ("", " ", "\t\n  "):
        error = await _refused(observed, LIST, {"s": {"query": blank}})
        assert error["message"].startswith("'search.query' is empty"), error
    too_long = "cat " * (MAX_SEARCH_QUERY_LENGTH // 4) + "x"
    error = await _refused(observed, LIST, {"s": {"query": too_long}})
    assert error["message"] == (
        f"'search.query' is {MAX_SEARCH_QUERY_LENGTH + 1} characters long; the limit is "
        f"{MAX_SEARCH_QUERY_LENGTH}"
    )
    literal = '{ docs(search: {query: "' + "dog " * 300 + '"}) { identifier } }'
    await _refused(observed, literal)
    error = await _refused(observed, LIST, {"s": {"query": "cat\x00dog"}})
    assert "NUL" in error["message"]
    error = await _refused(observed, '{ docs(search: {query: "a\\u0000b"}) { identifier } }')
    assert "NUL" in error["message"]
    error = await _refused(observed, LIST, {"o": [{"_rank": "DESC"}]})
    assert error["message"] == "ordering by '_rank' needs a 'search' argument"
    # The bound itself is accepted.
    fits = "cat " * (MAX_SEARCH_QUERY_LENGTH // 4)
    assert len(fits) == MAX_SEARCH_QUERY_LENGTH
    assert await _identifiers(observed, {"s": {"query": fits}})
    assert len(observed.reads()) == 1


async def test_a_missing_query_is_a_validation_error(observed: Observed) -> None:
    result = await observed.run('{ docs(search: {language: "english"}) { identifier } }')
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert observed.statements == []


async def test_hostile_text_is_only_ever_a_bind_parameter(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    texts: set[str] = set()
    for hostile in [*HOSTILE, "cat", "O'Reilly", "rock&roll", "pre:fix star*"]:
        found = await _identifiers(observed, {"s": {"query": hostile}})
        assert found == (await oracle(connection, hostile))[:100], hostile
        texts.update(observed.reads())
    # One statement text for every payload: none of them became SQL.
    assert len(texts) == 1, texts
    assert await connection.fetchval("SELECT count(*) FROM tv_doc") == 240


async def test_stopwords_alone_match_nothing(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    assert await oracle(connection, "the and of") == []
    assert await _identifiers(observed, {"s": {"query": "the and of"}}) == []


async def test_a_stored_vector_column_is_read_instead_of_the_document(
    observed: Observed, connection: asyncpg.Connection
) -> None:
    query = '{ notes(search: {query: "cat or running"}) { identifier } }'
    result = await observed.run(query)
    [statement] = observed.reads("tv_note")
    assert 't."search" @@ websearch_to_tsquery' in statement
    assert "to_tsvector" not in statement
    rows = await connection.fetch(
        "SELECT identifier FROM tv_note WHERE to_tsvector('english', data->>'text') "
        "@@ websearch_to_tsquery('english', $1) "
        "ORDER BY ts_rank(to_tsvector('english', data->>'text'), "
        "websearch_to_tsquery('english', $1)) DESC, id",
        "cat or running",
    )
    assert [n["identifier"] for n in result["data"]["notes"]] == [r[0] for r in rows]
    assert rows
