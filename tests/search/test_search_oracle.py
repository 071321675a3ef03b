"""Generated searches checked against PostgreSQL's own ``to_tsvector @@ websearch_to_tsquery``.

Hypothesis writes queries from the documents' vocabulary, web-search syntax (``or``, ``-``,
quotes) and text search operator characters, in every allowed language, with and without a
``where`` filter. Each runs through the real GraphQL path (variables, coercion, SQL, both
response builders); the identifiers must be exactly the oracle's, in the oracle's rank order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from .conftest import Observed, oracle
from .library import HOSTILE, WORDS

QUERY = (
    "query($s: SearchInput, $w: DocWhereInput) "
    "{ docs(search: $s, where: $w, limit: 100) { identifier } }"
)

RESULTS: list[int] = []
"""How many rows each generated search matched (for the test after the property test)."""

_SYNTAX = ["or", "OR", "-", '"', "(", ")", "&", "|", "!", ":*", "<->", "'", "\\", "*", ":"]
_word = st.sampled_from(WORDS)
_token = st.one_of(
    _word,
    _word,
    _word,
    st.builds(lambda a, b: f"{a} or {b}", _word, _word),
    st.sampled_from(_SYNTAX),
    st.sampled_from(HOSTILE),
    st.builds(lambda w: f"-{w}", st.sampled_from(WORDS)),
    st.builds(lambda a, b: f'"{a} {b}"', st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.text(alphabet="abcé日 '\"-&|!:*()", max_size=6),
)
_separator = st.sampled_from([" ", "", "  ", "\t", "\n"])


@st.composite
def queries(draw: st.DrawFn) -> str:
    """A web-search query: tokens joined by separators."""
    tokens = draw(st.lists(_token, min_size=1, max_size=5))
    text = ""
    for token in tokens:
        text += token + draw(_separator)
    return text


@pytest.fixture(scope="module")
async def oracle_connection(search_database: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection for every example."""
    connection = await asyncpg.connect(search_database)
    try:
        yield connection
    finally:
        await connection.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=queries(),
    language=st.sampled_from([None, "english", "simple", "french"]),
    kind=st.sampled_from([None, "guide", "news"]),
)
async def test_generated_searches_match_postgres(
    observed: Observed,
    oracle_connection: asyncpg.Connection,
    query: str,
    language: str | None,
    kind: str | None,
) -> None:
    search: dict[str, Any] = {"query": query}
    if language is not None:
        search["language"] = language
    variables: dict[str, Any] = {"s": search}
    if kind is not None:
        variables["w"] = {"kind": {"eq": kind}}
    result = await observed.run(QUERY, variables)
    note(repr(result))
    if not query.strip():
        assert result["errors"][0]["message"].startswith("'search.query' is empty")
        assert observed.statements == []
        return
    assert "errors" not in result, result
    expected = await oracle(
        oracle_connection,
        query,
        config=language or "english",
        where="TRUE" if kind is None else "data->>'kind' = $2",
        args=[] if kind is None else [kind],
    )
    assert [doc["identifier"] for doc in result["data"]["docs"]] == expected[:100]
    assert len(observed.reads()) == 1
    RESULTS.append(len(expected))


async def test_the_generated_searches_were_not_vacuous() -> None:
    """The comparison proves little if the generated queries matched nothing: most match."""
    if not RESULTS:
        pytest.skip("runs after test_generated_searches_match_postgres")
    assert sum(1 for size in RESULTS if size) > len(RESULTS) // 2, RESULTS
    assert sum(1 for size in RESULTS if size >= 10) > len(RESULTS) // 10, RESULTS
