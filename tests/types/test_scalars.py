import datetime as dt
import decimal
import uuid

import pytest

from fraiseql.types import scalars as s


@pytest.mark.parametrize(
    ("scalar", "value", "expected"),
    [
        (s.INT, 5, 5),
        (s.INT, 2.0, 2),
        (s.FLOAT, 3, 3.0),
        (s.STRING, True, "true"),
        (s.ID_SCALAR, 12, "12"),
        (s.UUID_SCALAR, uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (
            s.UUID_SCALAR,
            "00000000-0000-0000-0000-000000000001",
            "00000000-0000-0000-0000-000000000001",
        ),
        (
            s.DATETIME,
            dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "2024-01-02T03:04:05+00:00",
        ),
        (s.DATETIME, "2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05+00:00"),
        (s.DATE, dt.date(2024, 1, 2), "2024-01-02"),
        (s.TIME, dt.time(3, 4), "03:04:00"),
        (s.DECIMAL, decimal.Decimal("1.50"), "1.50"),
        (s.DECIMAL, "2.5", "2.5"),
        (s.JSON_SCALAR, {"a": [1, None]}, {"a": [1, None]}),
    ],
)
def test_serialize(scalar: s.ScalarDefinition, value: object, expected: object) -> None:
    assert scalar.serialize(value) == expected


@pytest.mark.parametrize(
    ("scalar", "value", "message"),
    [
        (s.INT, 2**31, "32-bit"),
        (s.INT, "1", "non-integer"),
        (s.FLOAT, float("nan"), "non numeric"),
        (s.BOOLEAN, 1, "non boolean"),
        (s.UUID_SCALAR, 5, "UUID"),
        (s.DATETIME, dt.datetime(2024, 1, 1), "naive"),
        (s.DATE, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "datetime"),
        (s.DECIMAL, decimal.Decimal("NaN"), "Decimal"),
        (s.DECIMAL, True, "Decimal"),
    ],
)
def test_serialize_rejects(scalar: s.ScalarDefinition, value: object, message: str) -> None:
    with pytest.raises(s.ScalarError, match=message):
        scalar.serialize(value)


@pytest.mark.parametrize(
    ("scalar", "value", "expected"),
    [
        (s.INT, 7, 7),
        (s.FLOAT, 7, 7.0),
        (s.ID_SCALAR, 7, "7"),
        (s.UUID_SCALAR, "00000000-0000-0000-0000-000000000001", uuid.UUID(int=1)),
        (
            s.DATETIME,
            "2024-01-02T03:04:05.123+02:00",
            dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        (s.DATETIME, "2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
        (s.DATE, "2024-02-29", dt.date(2024, 2, 29)),
        (s.TIME, "23:59:59", dt.time(23, 59, 59)),
        (s.DECIMAL, "1e3", decimal.Decimal("1e3")),
        (s.DECIMAL, 0.1, decimal.Decimal("0.1")),
        (s.EMAIL, "a.b+c@example.org", "a.b+c@example.org"),
        (s.IP_ADDRESS, "2001:db8::0001", "2001:db8::1"),
        (s.CIDR_SCALAR, "10.0.0.0/8", "10.0.0.0/8"),
        (s.LTREE, "tech.databases.postgres", "tech.databases.postgres"),
        (s.JSON_SCALAR, [1, {"x": None}], [1, {"x": None}]),
    ],
)
def test_parse(scalar: s.ScalarDefinition, value: object, expected: object) -> None:
    assert scalar.parse_value(value) == expected


@pytest.mark.parametrize(
    ("scalar", "value", "message"),
    [
        (s.INT, True, "non-integer"),
        (s.INT, 1.5, "non-integer"),
        (s.INT, -(2**31) - 1, "32-bit"),
        (s.FLOAT, "1", "non numeric"),
        (s.STRING, 1, "non string"),
        (s.BOOLEAN, "true", "non boolean"),
        (s.ID_SCALAR, 1.5, "ID"),
        (s.UUID_SCALAR, "not-a-uuid", "Invalid UUID"),
        (s.DATETIME, "2024-01-02T03:04:05", "time zone"),
        (s.DATETIME, "2024-13-02T03:04:05Z", "Invalid DateTime"),
        (s.DATETIME, 1700000000, "ISO 8601"),
        (s.DATE, "2023-02-29", "Invalid Date"),
        (s.DATE, "02/03/2024", "YYYY-MM-DD"),
        (s.TIME, "25:00", "Invalid Time"),
        (s.DECIMAL, "1,5", "numeric"),
        (s.DECIMAL, "1" * 2000, "numeric"),
        (s.EMAIL, "no-at-sign", "email"),
        (s.EMAIL, "a@b", "email"),
        (s.IP_ADDRESS, "300.1.1.1", "IP address"),
        (s.CIDR_SCALAR, "10.0.0.1/8", "CIDR"),
        (s.LTREE, "a..b", "LTree"),
        (s.LTREE, "a.b c", "LTree"),
    ],
)
def test_parse_rejects_with_a_clear_message(
    scalar: s.ScalarDefinition, value: object, message: str
) -> None:
    with pytest.raises(s.ScalarError, match=message):
        scalar.parse_value(value)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(s.ScalarError) as caught:
        s.UUID_SCALAR.parse_value("x" * 10_000)
    assert len(str(caught.value)) < 100


def test_every_python_annotation_maps_to_a_builtin() -> None:
    assert set(s.PYTHON_SCALARS.values()) <= set(s.BUILTIN_SCALARS)
    names = [scalar.name for scalar in s.BUILTIN_SCALARS]
    assert len(names) == len(set(names))


def test_custom_scalar_definition() -> None:
    color = s.scalar(
        "Color",
        serialize=lambda v: v.lower(),
        parse_value=lambda v: v.upper(),
        description="A colour name.",
    )
    assert color.serialize("RED") == "red"
    assert color.parse_value("red") == "RED"
    assert color.sql_type == "text"
