import pytest

from fraiseql.schema.naming import to_camel_case, to_pascal_case


@pytest.mark.parametrize(
    ("python", "graphql"),
    [
        ("created_at", "createdAt"),
        ("id", "id"),
        ("address_line_1", "addressLine1"),
        ("_private_thing", "_privateThing"),
        ("already", "already"),
        ("camelCase", "camelCase"),
        ("double__under", "doubleUnder"),
    ],
)
def test_to_camel_case(python: str, graphql: str) -> None:
    assert to_camel_case(python) == graphql


def test_to_pascal_case() -> None:
    assert to_pascal_case("blog_post") == "BlogPost"
