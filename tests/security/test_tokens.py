"""The lexer-only token limit: same count as graphql-core, same errors, and no syntax tree."""

from __future__ import annotations

import pytest
from examples.blog.schema import QUERIES, TYPES
from graphql import GraphQLError, Source, parse
from graphql.language import Lexer, TokenKind
from hypothesis import given
from hypothesis import strategies as st

import fraiseql.execution.document_cache as document_cache
from fraiseql import Schema
from fraiseql.security.limits import QueryLimits
from fraiseql.security.tokens import token_limit_error

PIECES = [
    "{", "}", "(", ")", "[", "]", ":", "=", "@", "$", "!", "|", "&", "...", " ", ",", "\n",
    "\r\n", "\t", "\ufeff", "query", "posts", "_x9", "on", "1", "-2", "0.5", "3e10", "-1.5E-3",
    '"s"', '""', '"a\\"b"', '"\\u00e9"', '"\\\\"', '"""block"""', '""""""', '"""a\\"""b"""',
    '"""x\n"y"\n"""', "# a comment", "#", '"open', '"""open', "^", "%", "\x00", ".", "..",
    "01", '"\\q"', '"ctl\x01"', "é",
    '"\ud800"', '"""\udc00', "\ud83d", '"\\ud800"',
]  # fmt: skip

documents = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def _graphql_core(document: str, limit: int) -> GraphQLError | None:
    try:
        parse(document, max_tokens=limit)
    except GraphQLError as error:
        return error
    return None


def _is_limit(error: GraphQLError | None) -> bool:
    return error is not None and "tokens. Parsing aborted." in error.message


def _lex(document: str) -> tuple[int, GraphQLError | None]:
    """graphql-core's lexer over the whole document: tokens read (comments too), first error."""
    lexer = Lexer(Source(document))
    count, end = 0, 0
    try:
        while (token := lexer.read_next_token(end)).kind is not TokenKind.EOF:
            count, end = count + 1, token.end
    except GraphQLError as error:
        return count, error
    return count, None


@given(documents, st.integers(min_value=0, max_value=30))
def test_agrees_with_graphql_cores_lexer(document: str, limit: int) -> None:
    ours = token_limit_error(document, limit)
    count, lexical = _lex(document)
    if count > limit:
        assert _is_limit(ours)
    elif lexical is not None:
        # The document is not valid GraphQL. The pattern reads a superset of the tokens (e.g.
        # "01" as one number), so it may find graphql-core's error, a later one, a refusal by
        # the count, or nothing (then the parser reports it): never a pass.
        if ours is None:
            assert _graphql_core(document, limit) is not None
        elif not _is_limit(ours):
            assert ours.message.startswith("Syntax Error: ")
            assert ours.positions is not None and lexical.positions is not None
            assert ours.positions[0] >= lexical.positions[0]
            if ours.positions[0] == lexical.positions[0]:
                assert ours.message == lexical.message
    else:
        assert ours is None
        assert not _is_limit(_graphql_core(document, limit))


@given(documents)
def test_valid_documents_get_exactly_graphql_cores_count(document: str) -> None:
    if _graphql_core(document, 10_000) is not None:
        return
    exact = next(n for n in range(10_000) if _graphql_core(document, n) is None)
    assert token_limit_error(document, exact) is None
    if exact:
        assert _is_limit(token_limit_error(document, exact - 1))


@pytest.mark.parametrize(
    "hostile",
    [
        "{ " + "posts { id } " * 90_000 + "}",
        "{" * 1_048_576,
        "{ " + "".join(f"a{n}: posts {{ id }} " for n in range(50_000)) + "}",
        "# x\n" * 262_144,
    ],
    ids=["many-fields", "deep-nesting", "many-aliases", "comments"],
)
async def test_hostile_documents_are_refused_without_parsing(
    hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(hostile) >= 1_000_000
    parsed: list[str] = []
    monkeypatch.setattr(document_cache, "parse", lambda *a, **k: parsed.append("x"))
    schema = Schema(types=TYPES, queries=QUERIES)
    result = await schema.run(hostile)
    error = result["errors"][0]
    assert error["message"] == (
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    )
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["locations"][0]["line"] >= 1
    assert parsed == []
    assert len(schema.executor.documents) == 0  # refused documents are not kept


def test_long_single_tokens_are_counted_as_one() -> None:
    comment = "# " + "x" * 1_000_000 + "\n{ posts { id } }"
    string = '{ post(identifier: "' + "x" * 1_000_000 + '") { id } }'
    assert token_limit_error(comment, 7) is None
    assert token_limit_error(string, 11) is None
    assert _is_limit(token_limit_error(string, 10))
    unterminated = token_limit_error('{ post(identifier: "' + "x" * 1_000_000, 2000)
    assert unterminated is not None and unterminated.message == "Syntax Error: Unterminated string."


def test_no_limit_means_no_check() -> None:
    assert token_limit_error("{" * 10_000, None) is None


async def test_long_documents_within_the_token_limit_are_refused_by_length() -> None:
    schema = Schema(types=TYPES, queries=QUERIES)
    string = '{ post(identifier: "' + "x" * 1_000_000 + '") { id } }'
    result = await schema.run(string)
    error = result["errors"][0]
    assert error["message"] == (
        "Syntax Error: Document is longer than 100000 characters. Parsing aborted."
    )
    assert error["locations"] == [{"line": 1, "column": 100_001}]
    assert len(schema.executor.documents) == 0
    roomy = Schema(types=TYPES, queries=QUERIES, limits=QueryLimits(max_length=None))
    assert roomy.executor.documents.get(string).errors == []
