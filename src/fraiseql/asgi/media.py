"""Media types: ``Accept`` negotiation for responses and ``Content-Type`` checks for requests.

The rules follow the GraphQL-over-HTTP draft, sections "Accept", "POST" and "Body":

- two response media types are served, ``application/graphql-response+json`` (preferred by the
  specification) and ``application/json`` (legacy);
- the best type is the one with the highest q-value, each type taking the q-value of the most
  specific media range that matches it (RFC 9110 section 12.5.1); a type named explicitly wins a
  tie over one only reached through a wildcard; between two explicitly named types of equal
  q-value ``application/graphql-response+json`` wins;
- a missing (or empty) ``Accept`` header and ``*/*`` / ``application/*`` alone select
  ``application/json``: a client that did not opt in to the newer type keeps the legacy status
  code rules (this is what the GraphQL-over-HTTP audit suite expects, checks 80D8 and 47DE);
- when neither type is acceptable the caller answers ``406 Not Acceptable``.
"""

from __future__ import annotations

import functools

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
TEXT_HTML = "text/html"

# Request bodies are accepted in these media types only. Both are "non-simple" for CORS, so a
# browser must send a preflight before a cross-origin POST: this is the CSRF protection for POST.
REQUEST_MEDIA_TYPES = frozenset({APPLICATION_JSON, GRAPHQL_RESPONSE_JSON})

_EXACT, _SUBTYPE_WILDCARD, _WILDCARD = 2, 1, 0


def _parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; k=v; ...`` into the lower-cased type and its parameters."""
    main, *raw_params = value.split(";")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, sep, val = raw.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip().strip('"')
    return main.strip().lower(), params


def _quality(params: dict[str, str]) -> float | None:
    """The q-value of a media range, or ``None`` when it is malformed."""
    raw = params.get("q")
    if raw is None:
        return 1.0
    try:
        q = float(raw)
    except ValueError:
        return None
    return q if 0.0 <= q <= 1.0 else None


def _accept_ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an ``Accept`` header with their q-values; malformed ones dropped."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        if not part.strip():
            continue
        media_range, params = _parse_media_type(part)
        q = _quality(params)
        if q is not None and media_range.count("/") == 1:
            ranges.append((media_range, q))
    return ranges


def _match(media_type: str, ranges: list[tuple[str, float]]) -> tuple[float, int] | None:
    """The q-value and specificity of the most specific range matching ``media_type``."""
    main = media_type.split("/")[0]
    best: tuple[float, int] | None = None
    for media_range, q in ranges:
        if media_range == media_type:
            specificity = _EXACT
        elif media_range == f"{main}/*":
            specificity = _SUBTYPE_WILDCARD
        elif media_range == "*/*":
            specificity = _WILDCARD
        else:
            continue
        if best is None or specificity > best[1] or (specificity == best[1] and q > best[0]):
            best = (q, specificity)
    return best


# Clients send the same few Accept and Content-Type values over and over: each decision is kept
# (bounded, so that varied values cannot grow it) and costs a dictionary lookup once seen.
_remembered = functools.lru_cache(maxsize=256)


@_remembered
def negotiate_response_type(accept: str | None) -> str | None:
    """Choose the response media type for an ``Accept`` header; ``None`` means 406."""
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    ranges = _accept_ranges(accept)
    best: tuple[float, int, bool] | None = None
    chosen: str | None = None
    for media_type in (APPLICATION_JSON, GRAPHQL_RESPONSE_JSON):
        matched = _match(media_type, ranges)
        if matched is None or matched[0] <= 0.0:
            continue
        q, specificity = matched
        preferred = GRAPHQL_RESPONSE_JSON if specificity == _EXACT else APPLICATION_JSON
        rank = (q, specificity, media_type == preferred)
        if best is None or rank > best:
            best, chosen = rank, media_type
    return chosen


def accepts_html(accept: str | None) -> bool:
    """Whether the client names ``text/html`` explicitly with a non-zero q-value (a browser)."""
    if not accept:
        return False
    return any(r == TEXT_HTML and q > 0.0 for r, q in _accept_ranges(accept))


TEXT_EVENT_STREAM = "text/event-stream"


def accepts_event_stream(accept: str | None) -> bool:
    """Whether the client asks for Server-Sent Events by naming ``text/event-stream``."""
    if not accept:
        return False
    return any(r == TEXT_EVENT_STREAM and q > 0.0 for r, q in _accept_ranges(accept))


@_remembered
def check_request_content_type(content_type: str | None) -> str | None:
    """Return an error message when a POST body's ``Content-Type`` is refused, else ``None``.

    Only JSON media types are accepted, with no charset or ``charset=utf-8``; this also refuses
    the CORS-simple types (``text/plain``, ``application/x-www-form-urlencoded``,
    ``multipart/form-data``) that a cross-site form could send without a preflight.
    """
    if not content_type:
        return "A POST request must have a Content-Type header: use application/json."
    media_type, params = _parse_media_type(content_type)
    if media_type not in REQUEST_MEDIA_TYPES:
        return f"Unsupported Content-Type {media_type!r}: use application/json."
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        return f"Unsupported charset {charset!r}: request bodies must be UTF-8."
    return None
