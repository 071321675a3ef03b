from fraiseql import Schema


async def test_post_by_identifier(blog_schema: Schema, blog_connection) -> None:
    identifier = await blog_connection.fetchval(
        "SELECT identifier FROM tv_post ORDER BY identifier LIMIT 1"
    )
    result = await blog_schema.run(
        "query($i: String) { post(identifier: $i) { identifier author { name } } }",
        {"i": identifier},
    )
    assert result["data"]["post"]["identifier"] == identifier
