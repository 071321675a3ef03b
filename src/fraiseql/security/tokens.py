"""The token limit, checked on the raw text before the parser builds anything.

graphql-core's ``parse(max_tokens=...)`` also stops at the limit, but only after building the
syntax tree of everything before it, and its lexer reads one character at a time in Python (a
1 MiB comment or string literal takes it over 100 ms). This pass counts tokens with one regular
expression (the loop over characters runs in C), keeps nothing, and stops at the first token
over the limit: a 1 MiB hostile document is refused in a few milliseconds, and a document
within the limit is then parsed by graphql-core as usual.

The pattern accepts a superset of GraphQL's tokens (string escapes and number forms are not
checked), so it never refuses a valid document; where it cannot read a token, the document is
not valid GraphQL, and the error is graphql-core's own, taken from its lexer at that position.
Comments count, as they do for graphql-core's ``max_tokens``.
"""

from __future__ import annotations

import re

from graphql import GraphQLError, GraphQLSyntaxError, Source
from graphql.language import Lexer

_TOKEN = re.compile(
    r"""
      (?P<ignored>[\ufeff\t\ ,\n\r]+)
    | \#[^\n\r]*                                   # a comment
    | \"\"\"(?:[^"\\]++|\\\"\"\"|\\|"(?!""))*+\"\"\"  # a block string
    | (?P<open_block>\"\"\")
    | "(?:[^"\\\n\r\ud800-\udfff]++|\\[^\n\r])*+"   # a string
    | (?P<open_string>")
    | -?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?
    | [_A-Za-z][_0-9A-Za-z]*
    | \.\.\.
    | [!$&()\[\]{}:=@|]
    """,
    re.VERBOSE,
)
_STRING_BODY = re.compile(r"(?:[^\"\\\n\r\ud800-\udfff]++|\\[^\n\r])*+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # the only characters graphql-core refuses in strings


def token_limit_error(source: str, max_tokens: int | None) -> GraphQLSyntaxError | None:
    """The syntax error for a document with more than ``max_tokens`` tokens, else ``None``.

    Also the lexical error of a document that has one before the limit (the same error the
    parser would report), so that such a document is not lexed a second time.
    """
    if max_tokens is None:
        return None
    position, end, count = 0, len(source), 0
    match = _TOKEN.match
    while position < end:
        found = match(source, position)
        if found is None or found.group("open_block") or found.group("open_string"):
            return _lexical_error(source, position)
        if found.group("ignored") is None:
            count += 1
            if count > max_tokens:
                return _error(
                    source,
                    position,
                    f"Document contains more than {max_tokens} tokens. Parsing aborted.",
                )
        position = found.end()
    return None


def length_limit_error(source: str, max_length: int | None) -> GraphQLSyntaxError | None:
    """The syntax error for a document longer than ``max_length`` characters, else ``None``."""
    if max_length is None or len(source) <= max_length:
        return None
    return _error(
        source, max_length, f"Document is longer than {max_length} characters. Parsing aborted."
    )


def _error(source: str, position: int, description: str) -> GraphQLSyntaxError:
    # graphql-core finds the line and column by scanning the whole source for line breaks;
    # the text after the error position cannot change them, so it is left out.
    return GraphQLSyntaxError(Source(source[: position + 1]), position, description)


def _lexical_error(source: str, position: int) -> GraphQLSyntaxError | None:
    """graphql-core's error for the token at ``position``, found without lexing long strings."""
    if source.startswith('"""', position):
        if not _SURROGATE.search(source, position):
            return _error(source, len(source), "Unterminated string.")
    elif source.startswith('"', position):
        stop = _STRING_BODY.match(source, position + 1)
        assert stop is not None  # the pattern matches the empty string
        if stop.end() == len(source) or source[stop.end()] in "\r\n":
            return _error(source, stop.end(), "Unterminated string.")
    try:
        Lexer(Source(source)).read_next_token(position)
    except GraphQLSyntaxError as error:
        return error
    except GraphQLError:
        return None
    return None  # not expected: the parser will report whatever it finds
