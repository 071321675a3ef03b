"""Scalar definitions: how each scalar serializes, parses and is compared in SQL.

A scalar is a :class:`ScalarDefinition`. The built-in ones are listed in ``BUILTIN_SCALARS``;
Python annotations map to them through ``PYTHON_SCALARS``. A project adds its own scalar with
:func:`scalar`, used as ``Annotated[str, scalar(...)]``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import ipaddress
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NewType

from fraiseql.uploads import UploadedFile

FilterKind = Literal[
    "string", "number", "boolean", "uuid", "temporal", "ltree", "inet", "json", "id"
]

ID = NewType("ID", str)
"""The GraphQL ``ID`` scalar: an opaque identifier, serialized as a string."""
EmailAddress = NewType("EmailAddress", str)
"""An e-mail address (``local@domain``), checked on input."""
IPAddress = NewType("IPAddress", str)
"""An IPv4 or IPv6 host address, normalized on input."""
CIDR = NewType("CIDR", str)
"""An IPv4 or IPv6 network in CIDR notation, normalized on input."""
LTree = NewType("LTree", str)
"""A PostgreSQL ``ltree`` label path such as ``tech.databases.postgres``."""
JSON = NewType("JSON", object)
"""Any JSON value, passed through as is."""

UUID = uuid.UUID
DateTime = _dt.datetime
Date = _dt.date
Time = _dt.time
Decimal = decimal.Decimal


class ScalarError(ValueError):
    """A value is not valid for a scalar; the message is shown to the client."""


@dataclass(frozen=True, slots=True)
class ScalarDefinition:
    """Everything FraiseQL needs to know about one scalar.

    ``serialize`` turns a stored value (from JSON or a resolver) into a JSON value;
    ``parse_value`` turns a client value (already JSON-decoded) into the Python value handed to
    resolvers; ``to_sql_text`` renders a parsed value as the text bound to SQL, where it is cast
    with ``sql_type``. ``filter_kind`` chooses the operators of its ``where`` filter.
    """

    name: str
    description: str
    serialize: Callable[[Any], Any]
    parse_value: Callable[[Any], Any]
    sql_type: str = "text"
    filter_kind: FilterKind = "string"
    to_sql_text: Callable[[Any], str] = str
    specified_by_url: str | None = None


def scalar(
    name: str,
    *,
    serialize: Callable[[Any], Any],
    parse_value: Callable[[Any], Any],
    description: str = "",
    sql_type: str = "text",
    filter_kind: FilterKind = "string",
    to_sql_text: Callable[[Any], str] = str,
    specified_by_url: str | None = None,
) -> ScalarDefinition:
    """Define a custom scalar; use it in annotations as ``Annotated[str, MyScalar]``.

    ``serialize``/``parse_value`` raise :class:`ScalarError` (or ``ValueError``/``TypeError``)
    with a message for the client when a value is not valid.
    """
    return ScalarDefinition(
        name=name,
        description=description,
        serialize=serialize,
        parse_value=parse_value,
        sql_type=sql_type,
        filter_kind=filter_kind,
        to_sql_text=to_sql_text,
        specified_by_url=specified_by_url,
    )


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _serialize_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal | uuid.UUID):
        return str(value)
    raise ScalarError(f"String cannot represent value: {_describe(value)}")


def _parse_string(value: Any) -> str:
    if not isinstance(value, str):
        raise ScalarError(f"String cannot represent a non string value: {_describe(value)}")
    return value


def _serialize_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        value = int(value)
    if not isinstance(value, int):
        raise ScalarError(f"Int cannot represent non-integer value: {_describe(value)}")
    if not _INT_MIN <= value <= _INT_MAX:
        raise ScalarError(f"Int cannot represent non 32-bit signed integer value: {value}")
    return value


def _parse_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
            value = int(value)
        else:
            raise ScalarError(f"Int cannot represent non-integer value: {_describe(value)}")
    if not _INT_MIN <= value <= _INT_MAX:
        raise ScalarError(f"Int cannot represent non 32-bit signed integer value: {value}")
    return int(value)


def _serialize_float(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | decimal.Decimal):
        result = float(value)
        if math.isfinite(result):
            return result
    raise ScalarError(f"Float cannot represent non numeric value: {_describe(value)}")


def _parse_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScalarError(f"Float cannot represent non numeric value: {_describe(value)}")
    result = float(value)
    if not math.isfinite(result):
        raise ScalarError(f"Float cannot represent non numeric value: {_describe(value)}")
    return result


def _serialize_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ScalarError(f"Boolean cannot represent a non boolean value: {_describe(value)}")


def _parse_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ScalarError(f"Boolean cannot represent a non boolean value: {_describe(value)}")


def _serialize_id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise ScalarError(f"ID cannot represent value: {_describe(value)}")


def _parse_id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ScalarError(f"ID cannot represent value: {_describe(value)}")


def _serialize_uuid(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return str(_parse_uuid(value))
    raise ScalarError(f"UUID cannot represent value: {_describe(value)}")


def _parse_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ScalarError(f"UUID must be a string, got {_describe(value)}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ScalarError(f"Invalid UUID: {_describe(value)}") from None


_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$"
)


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ScalarError("DateTime cannot represent a naive datetime without a time zone")
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise ScalarError(f"DateTime cannot represent value: {_describe(value)}")


def _parse_datetime(value: Any) -> _dt.datetime:
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ScalarError(
            f"DateTime must be an ISO 8601 string with a time zone, got {_describe(value)}"
        )
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise ScalarError(f"Invalid DateTime: {_describe(value)}") from None
    return parsed


def _datetime_sql(value: _dt.datetime) -> str:
    return value.isoformat()


def _serialize_date(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        raise ScalarError("Date cannot represent a datetime; use DateTime")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise ScalarError(f"Date cannot represent value: {_describe(value)}")


def _parse_date(value: Any) -> _dt.date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ScalarError(f"Date must be a YYYY-MM-DD string, got {_describe(value)}")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise ScalarError(f"Invalid Date: {_describe(value)}") from None


def _serialize_time(value: Any) -> str:
    if isinstance(value, _dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise ScalarError(f"Time cannot represent value: {_describe(value)}")


def _parse_time(value: Any) -> _dt.time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?", value):
        raise ScalarError(f"Time must be an HH:MM[:SS[.ffffff]] string, got {_describe(value)}")
    try:
        return _dt.time.fromisoformat(value)
    except ValueError:
        raise ScalarError(f"Invalid Time: {_describe(value)}") from None


class JSONNumber(float):
    """A number read from JSON text that keeps that text, so that a ``Decimal`` can be exact.

    The Python response builder reads the documents of plans that select a ``Decimal`` field
    into these, for every number that would otherwise become a ``float`` (a fraction or an
    exponent, or an integer beyond 64 bits). It is the same ``float`` for every other scalar;
    the ``Decimal`` scalar writes ``str(decimal.Decimal(text))`` instead, every stored digit.
    """

    __slots__ = ("text",)
    text: str


def _serialize_decimal(value: Any) -> str:
    """A ``Decimal`` field's value as the exact decimal string it stands for.

    A ``decimal.Decimal`` and an integer are written with ``str``; a number read from a JSON
    document with ``str(decimal.Decimal(<its text>))``: every digit, trailing zeros kept
    (``1.50`` -> ``"1.50"``), exponents in ``decimal``'s form (``1e5`` -> ``"1E+5"``, and
    ``0.0000001`` -> ``"1E-7"``). A numeric string is parsed and written the same way. A
    ``float`` from a resolver is written as ``repr`` writes it (``0.1`` -> ``"0.1"``).
    """
    if isinstance(value, bool):
        raise ScalarError(f"Decimal cannot represent value: {_describe(value)}")
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ScalarError(f"Decimal cannot represent value: {value}")
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, JSONNumber):
        try:
            return str(decimal.Decimal(value.text))
        except decimal.InvalidOperation:  # an exponent beyond what decimal can hold
            raise ScalarError(f"Decimal cannot represent value: {_describe(value.text)}") from None
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return str(_parse_decimal(value))
    raise ScalarError(f"Decimal cannot represent value: {_describe(value)}")


_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$")


def _parse_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, bool):
        raise ScalarError(f"Decimal cannot represent value: {_describe(value)}")
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return decimal.Decimal(repr(value))
    if isinstance(value, str) and len(value) <= 1000 and _DECIMAL_TEXT.match(value):
        return decimal.Decimal(value)
    raise ScalarError(f"Decimal must be a number or a numeric string, got {_describe(value)}")


def _identity(value: Any) -> Any:
    return value


def _json_sql(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _parse_email(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value):
        raise ScalarError(f"Invalid email address: {_describe(value)}")
    return value


def _parse_ip(value: Any) -> str:
    if not isinstance(value, str):
        raise ScalarError(f"IPAddress must be a string, got {_describe(value)}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ScalarError(f"Invalid IP address: {_describe(value)}") from None


def _parse_cidr(value: Any) -> str:
    if not isinstance(value, str):
        raise ScalarError(f"CIDR must be a string, got {_describe(value)}")
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ScalarError(f"Invalid CIDR network: {_describe(value)}") from None


# PostgreSQL 15's label rules (16 added '-' and longer labels): valid on every supported server.
_LTREE = re.compile(r"[A-Za-z0-9_]{1,255}(\.[A-Za-z0-9_]{1,255})*")


def _parse_ltree(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 65535 or not _LTREE.fullmatch(value):
        raise ScalarError(
            "Invalid LTree path (labels of at most 255 letters, digits or '_', joined by '.'): "
            f"{_describe(value)}"
        )
    return value


def _serialize_upload(value: Any) -> Any:
    raise ScalarError("Upload is an input scalar: a field cannot return a file")


def _parse_upload(value: Any) -> UploadedFile:
    if isinstance(value, UploadedFile):
        return value
    raise ScalarError(
        "Upload must be a file sent as a part of a multipart request (the GraphQL multipart "
        f"request spec), not a JSON value: got {_describe(value)}"
    )


STRING = ScalarDefinition("String", "", _serialize_string, _parse_string)
INT = ScalarDefinition(
    "Int", "", _serialize_int, _parse_int, sql_type="numeric", filter_kind="number"
)
FLOAT = ScalarDefinition(
    "Float",
    "",
    _serialize_float,
    _parse_float,
    sql_type="double precision",
    filter_kind="number",
    to_sql_text=repr,
)
BOOLEAN = ScalarDefinition(
    "Boolean",
    "",
    _serialize_boolean,
    _parse_boolean,
    sql_type="boolean",
    filter_kind="boolean",
    to_sql_text=lambda v: "true" if v else "false",
)
ID_SCALAR = ScalarDefinition("ID", "", _serialize_id, _parse_id, filter_kind="id")
UUID_SCALAR = ScalarDefinition(
    "UUID",
    "A universally unique identifier (RFC 9562) in its canonical text form.",
    _serialize_uuid,
    _parse_uuid,
    sql_type="uuid",
    filter_kind="uuid",
)
DATETIME = ScalarDefinition(
    "DateTime",
    "A date and time with a time zone offset, ISO 8601 (RFC 3339).",
    _serialize_datetime,
    _parse_datetime,
    sql_type="timestamptz",
    filter_kind="temporal",
    to_sql_text=_datetime_sql,
)
DATE = ScalarDefinition(
    "Date",
    "A calendar date, ISO 8601 (YYYY-MM-DD).",
    _serialize_date,
    _parse_date,
    sql_type="date",
    filter_kind="temporal",
    to_sql_text=lambda v: v.isoformat(),
)
TIME = ScalarDefinition(
    "Time",
    "A time of day, ISO 8601 (HH:MM:SS[.ffffff]).",
    _serialize_time,
    _parse_time,
    sql_type="time",
    filter_kind="temporal",
    to_sql_text=lambda v: v.isoformat(),
)
DECIMAL = ScalarDefinition(
    "Decimal",
    "An exact decimal number, serialized as a string to keep its precision.",
    _serialize_decimal,
    _parse_decimal,
    sql_type="numeric",
    filter_kind="number",
)
JSON_SCALAR = ScalarDefinition(
    "JSON",
    "Any JSON value.",
    _identity,
    _identity,
    sql_type="jsonb",
    filter_kind="json",
    to_sql_text=_json_sql,
)
EMAIL = ScalarDefinition(
    "EmailAddress",
    "An e-mail address (local-part@domain).",
    _serialize_string,
    _parse_email,
)
IP_ADDRESS = ScalarDefinition(
    "IPAddress",
    "An IPv4 or IPv6 host address.",
    _serialize_string,
    _parse_ip,
    sql_type="inet",
    filter_kind="inet",
)
CIDR_SCALAR = ScalarDefinition(
    "CIDR",
    "An IPv4 or IPv6 network in CIDR notation.",
    _serialize_string,
    _parse_cidr,
    sql_type="cidr",
    filter_kind="inet",
)
LTREE = ScalarDefinition(
    "LTree",
    "A hierarchical label path (PostgreSQL ltree), labels joined by dots.",
    _serialize_string,
    _parse_ltree,
    sql_type="ltree",
    filter_kind="ltree",
)

UPLOAD = ScalarDefinition(
    "Upload",
    "A file, sent as a part of a multipart request (the GraphQL multipart request spec).",
    _serialize_upload,
    _parse_upload,
    specified_by_url="https://github.com/jaydenseric/graphql-multipart-request-spec",
)
"""The ``Upload`` scalar: files of a multipart request, for resolvers with a body.

It is not in ``BUILTIN_SCALARS``: a schema has it only when an argument uses it.
"""

Upload = Annotated[UploadedFile, UPLOAD]
"""The annotation of a file argument (``file: fraiseql.Upload``); the value is an
:class:`~fraiseql.uploads.UploadedFile`. Only multipart requests can send one (see
``fraiseql.Uploads``); a JSON value is refused as an invalid variable."""

BUILTIN_SCALARS: tuple[ScalarDefinition, ...] = (
    STRING,
    INT,
    FLOAT,
    BOOLEAN,
    ID_SCALAR,
    UUID_SCALAR,
    DATETIME,
    DATE,
    TIME,
    DECIMAL,
    JSON_SCALAR,
    EMAIL,
    IP_ADDRESS,
    CIDR_SCALAR,
    LTREE,
)
"""Every scalar FraiseQL knows without being told."""

PYTHON_SCALARS: dict[object, ScalarDefinition] = {
    str: STRING,
    int: INT,
    float: FLOAT,
    bool: BOOLEAN,
    ID: ID_SCALAR,
    uuid.UUID: UUID_SCALAR,
    _dt.datetime: DATETIME,
    _dt.date: DATE,
    _dt.time: TIME,
    decimal.Decimal: DECIMAL,
    JSON: JSON_SCALAR,
    EmailAddress: EMAIL,
    IPAddress: IP_ADDRESS,
    CIDR: CIDR_SCALAR,
    LTree: LTREE,
}
"""Python annotations that stand for a built-in scalar."""

SPEC_SCALAR_NAMES = frozenset({"String", "Int", "Float", "Boolean", "ID"})
"""Scalars that graphql-core defines itself; FraiseQL reuses them when building a schema."""
