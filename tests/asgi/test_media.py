import pytest

from fraiseql.asgi.media import (
    APPLICATION_JSON as JSON,
)
from fraiseql.asgi.media import (
    GRAPHQL_RESPONSE_JSON as GQL,
)
from fraiseql.asgi.media import (
    accepts_html,
    check_request_content_type,
    negotiate_response_type,
)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # No preference stated: the legacy type, so legacy clients keep 200 on request errors.
        (None, JSON),
        ("", JSON),
        ("   ", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("*/*;q=0.5, application/*;q=0.5", JSON),
        # Explicit types.
        ("application/json", JSON),
        ("application/graphql-response+json", GQL),
        ("Application/GraphQL-Response+JSON", GQL),
        ("application/json; charset=utf-8", JSON),
        # The specification's recommended client header: both explicit, equal q.
        ("application/graphql-response+json; charset=utf-8, application/json; charset=utf-8", GQL),
        ("application/json, application/graphql-response+json", GQL),
        # q-values decide.
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.9, application/graphql-response+json;q=1.0", GQL),
        ("application/graphql-response+json;q=0.1, */*;q=0.5", JSON),
        ("application/json;q=0.9, */*", GQL),
        # An explicit type beats a wildcard of equal q.
        ("application/graphql-response+json, */*", GQL),
        ("application/json, */*", JSON),
        # The most specific range sets the q-value: an explicit q=0 excludes that type.
        ("application/graphql-response+json;q=0, */*", JSON),
        ("application/json;q=0, application/*", GQL),
        ("application/json;q=0, application/graphql-response+json;q=0, */*", None),
        # Browsers reach JSON through */*.
        (BROWSER, JSON),
        # Nothing acceptable.
        ("text/html", None),
        ("application/xml, text/*", None),
        ("*/*;q=0", None),
        ("application/json;q=0", None),
        # Malformed ranges are ignored, the rest still counts.
        ("garbage, application/json", JSON),
        ("application/json;q=abc, application/graphql-response+json", GQL),
        ("application/json;q=2", None),
        (",,,", None),
    ],
)
def test_negotiate_response_type(accept: str | None, expected: str | None) -> None:
    assert negotiate_response_type(accept) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("TEXT/HTML;q=0.5", True),
        ("text/html;q=0", False),
        ("*/*", False),
        ("text/*", False),
        ("application/json", False),
        (None, False),
        ("", False),
    ],
)
def test_accepts_html(accept: str | None, expected: bool) -> None:
    assert accepts_html(accept) is expected


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "Application/JSON",
        "application/graphql-response+json",
    ],
)
def test_request_content_type_accepted(content_type: str) -> None:
    assert check_request_content_type(content_type) is None


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/xml",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_request_content_type_refused(content_type: str | None) -> None:
    assert check_request_content_type(content_type) is not None
