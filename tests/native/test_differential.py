"""Differential tests: the C response builder must answer exactly as the pure-Python one.

For every plan and every input, ``CResponseBuilder.render_*`` and ``PYTHON_BUILDER.render_*``
must return the same bytes, errors and ``bubbled`` flag, or raise the same exception type. The
C core may decline any input (the builder then runs Python on it), so agreement on hostile input
is cheap; what these tests hunt for is input the C core accepts and renders differently.

Plans come from two sources: random :class:`Shape` trees built directly (unicode and quotes in
response keys and sources, every builtin scalar wired as :class:`Schema` wires it, enums through
``_enum_serializer`` on real enum types, lists of lists, nullable and non-null positions) and
random GraphQL selections over a small real :class:`Schema`. Documents are JSON text generated
to fit the plan, with hostile variations (nulls, missing and duplicate keys, wrong types, number
edge cases, every string escape, lone surrogates, invalid UTF-8, nesting beyond ``MAX_DEPTH``,
BOM, trailing garbage), as ``str`` and as ``bytes``. A separate property checks that typical
documents really take the C path, so the comparison cannot pass by always falling back.

``FRAISEQL_DIFF_EXAMPLES`` sets the examples per property (the sanitizer run lowers it).
"""

from __future__ import annotations

import codecs
import enum
import os
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fraiseql
from fraiseql import Schema
from fraiseql.execution.outcome import GraphQLRequest
from fraiseql.execution.shapes import (
    ABSTRACT,
    LEAF,
    LIST,
    OBJECT,
    FieldPlan,
    Shape,
    _enum_serializer,
)
from fraiseql.native.builder import PYTHON_BUILDER, Rendered
from fraiseql.native.c_builder import _LEAF_CODES, CompiledRoot, CResponseBuilder
from fraiseql.schema.graphql_types import StoredValueEnumType
from fraiseql.types.scalars import (
    BUILTIN_SCALARS,
    CIDR,
    ID,
    JSON,
    UUID,
    Date,
    DateTime,
    Decimal,
    EmailAddress,
    IPAddress,
    LTree,
    Time,
)

# Differential tests compare the C core with the Python builder whatever FRAISEQL_IMPL says, so
# they run once, in the C pass; the other modules of this package reuse the mark.
C_PASS_ONLY = pytest.mark.skipif(
    os.environ.get("FRAISEQL_IMPL") == "python",
    reason="compares the C core with the Python builder whatever FRAISEQL_IMPL says: "
    "it runs once, in the FRAISEQL_IMPL=c pass",
)
pytestmark = C_PASS_ONLY

_native = pytest.importorskip(
    "fraiseql._native", reason="the C extension fraiseql._native cannot be imported"
)

# The sanitizer run (test_sanitized.py) checks that the instrumented build is the one loaded.
_EXPECTED_DIR = os.environ.get("FRAISEQL_EXPECT_NATIVE_DIR")
if _EXPECTED_DIR and not os.path.realpath(_native.__file__).startswith(
    os.path.realpath(_EXPECTED_DIR)
):
    raise RuntimeError(f"expected fraiseql._native from {_EXPECTED_DIR}, got {_native.__file__}")

C_BUILDER = CResponseBuilder(_native)
EXAMPLES = int(os.environ.get("FRAISEQL_DIFF_EXAMPLES", "400"))
MAX_DEPTH: int = _native.MAX_DEPTH


def examples(scale: float = 1.0) -> Callable[[Any], Any]:
    """Hypothesis settings for one property: fixed seed, no deadline, no example database."""
    return settings(
        max_examples=max(1, int(EXAMPLES * scale)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


# ------------------------------------------------------------------------------------------------
# A small real schema: every builtin scalar, enums (string and non-string values), a custom
# scalar, nested objects and lists. Its serializer table is the one the tests wire into shapes.
# ------------------------------------------------------------------------------------------------


@fraiseql.enum
class Mood(enum.Enum):
    """String-valued: the C core maps stored values to names."""

    HAPPY = "happy"
    SAD = "sad"
    ODD = 'o"d\\d é\n'  # a stored value that JSON can only spell with escapes


@fraiseql.enum
class Level(enum.Enum):
    """Integer-valued: the C core does not cover it (the plan compiles to None)."""

    LOW = 1
    HIGH = 2


Shouty = fraiseql.scalar(
    "Shouty",
    serialize=lambda value: str(value).upper(),
    parse_value=str,
    description="A custom scalar: always Python.",
)


@fraiseql.type
class Inner:
    id: ID
    label: str | None
    score: float
    extra: JSON | None


@fraiseql.type(sql_source="tv_thing")
class Thing:
    id: UUID
    name: str
    view_count: int
    ratio: float | None
    active: bool
    price: Decimal | None
    data: JSON | None
    born: Date | None
    at: DateTime
    wake: Time | None
    email: EmailAddress | None
    ip: IPAddress | None
    net: CIDR | None
    path: LTree | None
    ident: ID
    mood: Mood
    level: Level | None
    moods: list[Mood | None] | None
    tags: list[str]
    matrix: list[list[int]] | None
    inner: Inner | None
    inners: list[Inner]


@fraiseql.query
async def thing(info, id: UUID | None = None) -> Thing | None:
    """One thing."""


@fraiseql.query
async def things(info, limit: int | None = None) -> list[Thing]:
    """All things."""


PROBE = Schema(types=[Thing], queries=[thing, things])
SERIALIZERS: dict[str, Callable[[Any], Any]] = dict(PROBE.executor.serializers)
BUILTIN_NAMES = [definition.name for definition in BUILTIN_SCALARS]
STRING_LIKE = {"String", "DateTime", "Date", "Time", "EmailAddress", "IPAddress", "CIDR", "LTree"}


def test_every_builtin_scalar_is_covered_by_the_c_core() -> None:
    """The serializers Schema wires for builtin scalars are the ones the C core knows."""
    assert set(BUILTIN_NAMES) <= set(SERIALIZERS)
    for name in BUILTIN_NAMES:
        assert SERIALIZERS[name] in _LEAF_CODES, name


# ------------------------------------------------------------------------------------------------
# The comparison
# ------------------------------------------------------------------------------------------------


def outcome(call: Callable[..., Rendered], *args: Any) -> tuple[Any, ...]:
    """What a builder did: its rendering, or the type of the exception it raised."""
    try:
        rendered = call(*args)
    except Exception as exc:
        return ("raises", type(exc))
    errors = [
        {**error, "extensions": {**error["extensions"], "errorId": "<random>"}}
        if "errorId" in error.get("extensions", {})
        else error
        for error in rendered.errors
    ]
    return ("renders", rendered.value, errors, rendered.bubbled)


def compile_root(root: FieldPlan) -> CompiledRoot:
    return C_BUILDER.compile(root)


def assert_same_one(root: FieldPlan, text: str | bytes | None) -> bytes | None:
    """C and Python agree on one document; returns what the C module itself produced."""
    compiled = compile_root(root)
    native = None if compiled.native is None else _native.render_one(compiled.native, text)
    c = outcome(C_BUILDER.render_one, compiled, text)
    python = outcome(PYTHON_BUILDER.render_one, root, text)
    assert c == python, f"text={text!r}"
    if native is not None:
        assert python == ("renders", native, [], False)
    return native  # type: ignore[no-any-return]


def assert_same_rows(root: FieldPlan, rows: Sequence[Any]) -> bytes | None:
    """C and Python agree on a list of rows; returns what the C module itself produced."""
    compiled = compile_root(root)
    native: Any = None
    if compiled.native is not None:
        try:
            native = _native.render_rows(compiled.native, rows)
        except Exception as exc:  # the module may only raise what Python raises too
            native = ("raises", type(exc))
    c = outcome(C_BUILDER.render_rows, compiled, rows)
    python = outcome(PYTHON_BUILDER.render_rows, root, rows)
    assert c == python, f"rows={rows!r}"
    if isinstance(native, tuple):
        assert python == native, f"rows={rows!r}"
        return None
    if native is not None:
        assert python == ("renders", native, [], False)
    return native  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------------
# JSON text generation. A document is built as ``str``; characters U+DC80..U+DCFF stand for raw
# bytes 0x80..0xFF, so that the ``bytes`` form can carry invalid UTF-8 (and the ``str`` form then
# carries lone surrogates). Other lone surrogates are encoded as their (invalid) UTF-8 bytes.
# ------------------------------------------------------------------------------------------------

_RAW = "fraiseql-test-raw-bytes"


def _raw_bytes(error: UnicodeError) -> tuple[bytes, int]:
    assert isinstance(error, UnicodeEncodeError)
    out = bytearray()
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(code - 0xDC00)
        else:
            out += char.encode("utf-8", "surrogatepass")
    return bytes(out), error.end


codecs.register_error(_RAW, _raw_bytes)


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", _RAW)


WS = st.sampled_from(["", "", "", "", " ", "\n", "\t", "\r\n  ", "  "])
RAW_CHAR = st.characters(min_codepoint=0x20, exclude_characters='"\\', exclude_categories=("Cs",))
SAFE_TEXT = st.text(RAW_CHAR, max_size=8)
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)


def _u_escape(code: int, upper: bool) -> str:
    return ("\\u%04X" if upper else "\\u%04x") % code


def _pair_escape(code: int) -> str:
    code -= 0x10000
    return _u_escape(0xD800 + (code >> 10), False) + _u_escape(0xDC00 + (code & 0x3FF), True)


STRING_PIECES = st.one_of(
    st.text(RAW_CHAR, max_size=6),
    st.sampled_from(
        [
            '\\"',
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\n",
            "\\r",
            "\\t",
            "\x7f",
            "\x85",
            "\u2028",
            "\ufeff",
            "é",
            "€",
            "😀",
            "𝄞",
            "\U0010ffff",
            "\ufffe",
            "<",
            "'",
            "/",
        ]
    ),
    st.builds(
        _u_escape,
        st.integers(0, 0xFFFF).filter(lambda code: not 0xD800 <= code <= 0xDFFF),
        st.booleans(),
    ),
    st.sampled_from([0, 1, 0x1F, 0x22, 0x5C, 0x7F, 0xE9, 0x2028, 0xFEFF, 0xFFFF]).map(
        lambda code: _u_escape(code, False)
    ),
    st.integers(0x10000, 0x10FFFF).map(_pair_escape),
)
HOSTILE_PIECES = st.sampled_from(
    [
        # escapes JSON forbids or orjson rejects
        "\\ud800",
        "\\udc00",
        "\\uDBFF\\u0041",
        "\\ud800\\n",
        "\\ud800\\ud800",
        "\\udfff\\ud800",
        "\\x",
        "\\u12",
        "\\u12G4",
        "\\U0041",
        "\\'",
        "\\0",
        # raw control characters
        "\x00",
        "\x01",
        "\x1f",
        "\n",
        "\t",
        # raw lone surrogates (a str orjson refuses; invalid UTF-8 bytes)
        "\ud800",
        "\udbff\udfff",
        # invalid UTF-8 in the bytes form: a lone byte, overlong, surrogate, > U+10FFFF, truncated
        "\udcff",
        "\udc80",
        "\udcc0\udcaf",
        "\udcc1\udcbf",
        "\udce0\udc80\udc80",
        "\udced\udca0\udc80",
        "\udcf0\udc80\udc80\udc80",
        "\udcf4\udc90\udc80\udc80",
        "\udcf5\udc80\udc80\udc80",
        "\udce2\udc82",
        "\udcf8\udc88\udc80\udc80\udc80",
        # valid UTF-8 written as raw bytes (fine as bytes, lone surrogates as str)
        "\udce2\udc82\udcac",
    ]
)


@st.composite
def string_literal(draw: st.DrawFn, typical: bool) -> str:
    """A JSON string literal with escapes, raw unicode and (unless typical) invalid pieces."""
    pieces = st.one_of(STRING_PIECES, HOSTILE_PIECES) if not typical else STRING_PIECES
    count = draw(st.integers(0, 5))
    body = [draw(pieces if not typical and draw(st.integers(0, 9)) == 0 else STRING_PIECES)]
    body += [draw(STRING_PIECES) for _ in range(count)]
    tail = '"'
    if not typical and draw(st.integers(0, 40)) == 0:
        tail = draw(st.sampled_from(["", "\\", "\\u00"]))  # unterminated
    return '"' + "".join(body) + tail


@st.composite
def spelled(draw: st.DrawFn, value: str, typical: bool) -> str:
    """The JSON literal of a known string; unless typical, sometimes with needless escapes."""
    literal = orjson.dumps(value).decode()
    if typical or not value or draw(st.integers(0, 5)) != 0:
        return literal
    index = draw(st.integers(0, len(value) - 1))
    char = value[index]
    escaped = _pair_escape(ord(char)) if ord(char) > 0xFFFF else _u_escape(ord(char), False)
    return (
        orjson.dumps(value[:index]).decode()[:-1]
        + escaped
        + orjson.dumps(value[index + 1 :]).decode()[1:]
    )


NUMBER_EDGES = [
    "0",
    "-0",
    "-0.0",
    "0.0",
    "0e0",
    "-0e-0",
    "-0E+0",
    "1E+2",
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "5e-324",
    "2.4e-324",
    "2.2250738585072014e-308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "-18446744073709551616",
    "9999999999999999999",
    "-999999999999999999",
    "99999999999999999999",
    "1" + "0" * 30,
    "1" * 400,
    "0." + "0" * 400 + "1",
    "1." + "9" * 40,
    "123456789012345678901234567890.123456789",
    "9007199254740993",
    "9007199254740993.0",
    "0.1",
    "1.0",
    "100.0",
    "1e16",
    "1e22",
    "1e23",
    "1.5",
    "-2.5e-3",
]
BAD_NUMBERS = ["01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "NaN", "Infinity", "-Infinity"]
BAD_NUMBERS += ["0x10", "1_000", "1.5.2", "--1", "1e5e5", "- 1"]


def _fits(number: str) -> bool:
    """A number the C core renders itself: an int64 of at most 19 characters, a finite float."""
    try:
        return len(number) <= 19 and -(2**63) <= int(number) < 2**63
    except ValueError:
        return abs(float(number)) < 1e300


TYPICAL_NUMBER = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?", fullmatch=True),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**18) + 1, 10**18 - 1).map(str),
    st.sampled_from([n for n in NUMBER_EDGES if _fits(n)]),
)
ANY_NUMBER = st.one_of(
    st.sampled_from(NUMBER_EDGES),
    TYPICAL_NUMBER,
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.integers().map(str),
    st.sampled_from(NUMBER_EDGES),
)
INT32 = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(str),
    st.sampled_from(["0", "-0", "2147483647", "-2147483648"]),
)


@st.composite
def json_value(draw: st.DrawFn, typical: bool, depth: int = 0) -> str:
    """Any JSON value (for JSON leaves, wrong types and ignored members)."""
    if not typical and depth == 0 and draw(st.integers(0, 30)) == 0:
        # nesting at the C parser's limit and beyond it
        levels = draw(st.sampled_from([127, 128, 129, 254, 255, 500, MAX_DEPTH, MAX_DEPTH + 1]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"k":', "}"), ('[{"a":', "}]")]))
        return opener * levels + draw(json_value(True, 9)) + closer * levels
    choice = draw(st.integers(0, 9 if depth < 3 else 4))
    if choice == 0:
        return draw(st.sampled_from(["null", "true", "false"]))
    if choice in (1, 2):
        if not typical and draw(st.integers(0, 20)) == 0:
            return draw(st.sampled_from(BAD_NUMBERS))
        return draw(TYPICAL_NUMBER if typical else ANY_NUMBER)
    if choice in (3, 4):
        return draw(string_literal(typical))
    ws = draw(WS)
    if choice in (5, 6, 7):
        items = draw(st.lists(json_value(typical, depth + 1), max_size=4))
        return "[" + ws + ("," + ws).join(items) + "]"
    many = not typical and draw(st.integers(0, 15)) == 0
    count = draw(st.integers(60, 70)) if many else draw(st.integers(0, 4))
    keys: list[str] = []
    for index in range(count):
        if many:
            key = f'"k{index}"'
        elif typical:
            key = orjson.dumps(draw(SAFE_TEXT)).decode()
        elif keys and draw(st.integers(0, 5)) == 0:
            key = draw(st.sampled_from(keys))  # a duplicate key
        else:
            key = draw(string_literal(typical))
        if typical and key in keys:
            continue
        keys.append(key)
    members = [f"{key}{ws}:{draw(json_value(typical, depth + 1))}" for key in keys]
    return "{" + ws + ("," + ws).join(members) + ws + "}"


# ------------------------------------------------------------------------------------------------
# Documents along a shape
# ------------------------------------------------------------------------------------------------


def enum_members(shape: Shape) -> tuple[tuple[Any, str], ...] | None:
    return getattr(shape.serialize, "fraiseql_enum_members", None)


@st.composite
def leaf_value(draw: st.DrawFn, shape: Shape, typical: bool) -> str:
    """A JSON value for a leaf: mostly of the scalar's own form, with its edge cases."""
    members = enum_members(shape)
    name = shape.type_name
    if members is not None:
        stored = [value.value if isinstance(value, enum.Enum) else value for value, _ in members]
        texts = [value for value in stored if isinstance(value, str)]
        if typical:  # stored values JSON spells without escapes (the C core matches those)
            texts = [value for value in texts if "\\" not in orjson.dumps(value).decode()]
        if texts and (typical or draw(st.integers(0, 3)) != 0):
            return draw(spelled(draw(st.sampled_from(texts)), typical))
        if typical:  # an enum without string values: any JSON (the plan is Python-only)
            return draw(json_value(typical))
        other = [orjson.dumps(value).decode() for value in stored if not isinstance(value, str)]
        names = [orjson.dumps(member_name).decode() for _, member_name in members]
        return draw(st.sampled_from([*other, *names, '"nope"', '""', "1", "true"]))
    if name in STRING_LIKE:
        return draw(string_literal(typical))
    if name == "Int":
        return draw(INT32)
    if name == "Float":
        return draw(TYPICAL_NUMBER if typical else ANY_NUMBER)
    if name == "Boolean":
        return draw(st.sampled_from(["true", "false"]))
    if name == "ID":
        if draw(st.booleans()):
            return draw(string_literal(typical))
        if typical:
            return str(draw(st.integers(-(10**18) + 1, 10**18 - 1)))
        return draw(st.one_of(ANY_NUMBER, st.integers().map(str)))
    if name == "UUID":
        value = str(draw(st.uuids()))
        if typical:
            return f'"{value}"'
        return draw(
            st.sampled_from(
                [
                    f'"{value}"',
                    f'"{value.upper()}"',
                    f'"{{{value}}}"',
                    f'"urn:uuid:{value}"',
                    f'"{value.replace("-", "")}"',
                    f'"{value[:-1]}"',
                    f'"{value}x"',
                ]
            )
        )
    if name == "Decimal":
        typical_decimals = st.one_of(
            st.from_regex(r"-?[1-9][0-9]{0,30}(\.[0-9]{1,12})?", fullmatch=True).map(
                lambda text: f'"{text}"'
            ),
            st.sampled_from(['"0"', '"-0"', '"0.5"', '"0.000001"', '"-0.0"', '"0.000000"']),
            st.integers(-(10**18) + 1, 10**18 - 1).map(str),
            # numbers as PostgreSQL writes numeric values: plain, every digit (the C core quotes them)
            st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?", fullmatch=True).filter(
                lambda text: str(Decimal(text)) == text
            ),
            st.integers(-(10**40), 10**40).map(str),
        )
        if typical:
            return draw(typical_decimals)
        return draw(
            st.one_of(
                typical_decimals,
                st.floats(allow_nan=False, allow_infinity=False).map(repr),
                st.from_regex(
                    r"[+-]?(\d{1,25}(\.\d{0,12})?|\.\d{1,5})([eE][+-]?\d{1,5})?", fullmatch=True
                ).map(lambda text: f'"{text}"'),
                st.sampled_from(
                    [
                        '"0.0000001"',
                        '"0.0000000"',
                        '"-0.00000010"',
                        '"0.0000010"',
                        '"00.5"',
                        '"1e5"',
                        '"NaN"',
                        '"Infinity"',
                        '"-sNaN"',
                        '" 1"',
                        '"1 "',
                        '"1\\n"',
                        '"1" ',
                        '"+1"',
                        '"1."',
                        '".5"',
                        '"1' + "0" * 1000 + '"',
                        '"1_0"',
                        '""',
                    ]
                ),
                ANY_NUMBER,
            )
        )
    value = draw(json_value(typical))  # JSON, custom scalars
    if typical and value == "null" and not shape.nullable:
        return "{}"
    return value


@st.composite
def value_for(draw: st.DrawFn, shape: Shape, typical: bool, depth: int = 0) -> str:
    """A JSON value for ``shape``; unless typical, sometimes null or of the wrong type."""
    if shape.nullable and draw(st.integers(0, 6)) == 0:
        return "null"
    if not typical:
        roll = draw(st.integers(0, 19))
        if roll == 0:
            return "null"
        if roll == 1:
            return draw(json_value(typical))
    if shape.kind == LEAF:
        return draw(leaf_value(shape, typical))
    ws = draw(WS)
    if shape.kind == LIST:
        assert shape.item is not None
        count = draw(st.integers(0, 3 if depth < 3 else 1))
        items = [draw(value_for(shape.item, typical, depth + 1)) for _ in range(count)]
        return "[" + ws + ("," + ws).join(items) + ws + "]"
    if shape.kind == ABSTRACT:
        names = sorted(shape.by_type)
        if not names:
            return draw(json_value(typical))
        concrete = draw(st.sampled_from(names))
        member = f'"__typename":{orjson.dumps(draw(st.sampled_from([*names, "Nope"]))).decode()}'
        body = draw(object_value(shape.by_type[concrete], typical, depth))
        return "{" + member + ("," if body != "{}" else "") + body[1:]
    return draw(object_value(shape, typical, depth))


def merged(first: Shape, second: Shape) -> Shape:
    """One shape asking for what both ask (two aliases of one field read the same value)."""
    if first.kind == OBJECT and second.kind == OBJECT:
        fields = first.fields + second.fields
        return Shape(OBJECT, first.nullable and second.nullable, first.type_name, fields=fields)
    if first.kind == LIST and second.kind == LIST:
        assert first.item is not None and second.item is not None
        item = merged(first.item, second.item)
        return Shape(LIST, first.nullable and second.nullable, item=item)
    return first if not first.nullable else second


@st.composite
def object_value(draw: st.DrawFn, shape: Shape, typical: bool, depth: int) -> str:
    """An object with the shape's source keys (in any order), plus others."""
    groups: list[list[tuple[str, str]]] = []
    by_source: dict[str, Shape] = {}
    for field in shape.fields:
        if not field.is_typename:
            assert field.shape is not None
            seen = by_source.get(field.source)
            by_source[field.source] = field.shape if seen is None else merged(seen, field.shape)
    sources = set(by_source)
    for source, field_shape in by_source.items():
        if draw(st.integers(0, 9)) == 0 and (field_shape.nullable or not typical):
            continue  # missing
        key = draw(spelled(source, typical))
        group = []
        if draw(st.integers(0, 9)) == 0:  # a duplicate key: the last one counts
            group.append((key, draw(json_value(True))))
        group.append((key, draw(value_for(field_shape, typical, depth + 1))))
        groups.append(group)
    for _ in range(draw(st.integers(0, 2))):
        key = draw(SAFE_TEXT if typical else ANY_TEXT)
        if key in sources:
            continue
        groups.append([(orjson.dumps(key).decode(), draw(json_value(typical, 2)))])
    if not typical and draw(st.integers(0, 12)) == 0 and shape.fields:
        # an escaped key that may spell a source: only Python can tell
        groups.append([(draw(string_literal(False)), draw(json_value(False, 2)))])
    ordered = draw(st.permutations(groups))
    ws = draw(WS)
    members = [f"{ws}{key}{ws}:{ws}{value}{ws}" for group in ordered for key, value in group]
    return "{" + ",".join(members) + "}"


@st.composite
def document(draw: st.DrawFn, shape: Shape, typical: bool) -> str | bytes:
    """One document for ``shape``, as str or bytes; unless typical, sometimes damaged."""
    text = draw(WS) + draw(value_for(shape, typical)) + draw(WS)
    if not typical:
        damage = draw(st.integers(0, 25))
        if damage == 0:
            text = "\ufeff" + text
        elif damage == 1:
            text += draw(st.sampled_from([",", "x", "}", "]", " 1", "null", "\x00", '"', "{}"]))
        elif damage == 2 and len(text) > 1:
            text = text[: draw(st.integers(0, len(text) - 1))]
        elif damage == 3:
            text = draw(st.sampled_from(["", " ", "\ufeff", "nul", "[", "{", '"', "tru"]))
    if draw(st.booleans()):
        return as_bytes(text)
    return text


# ------------------------------------------------------------------------------------------------
# Plans built directly from Shape objects
# ------------------------------------------------------------------------------------------------

GRAPHQL_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda name: not name.startswith("__") and name not in ("true", "false", "null")
)
ENUM_NAME = st.from_regex(r"[A-Z][A-Z0-9_]{0,5}", fullmatch=True)
KEY_TEXT = st.one_of(
    GRAPHQL_NAME,
    st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
    st.sampled_from(['"', "\\", 'a"b', "é", "😀", "\x00", "\u2028", "", "__typename"]),
)


@st.composite
def enum_serializer(draw: st.DrawFn, typical: bool) -> Callable[[Any], Any]:
    """The serializer of a real enum type, made by ``_enum_serializer`` as Schema does."""
    names = draw(st.lists(ENUM_NAME, min_size=1, max_size=4, unique=True))
    if typical:
        values: list[Any] = draw(
            st.lists(SAFE_TEXT.filter(bool), min_size=len(names), max_size=len(names), unique=True)
        )
    else:
        value = st.one_of(
            st.text(max_size=5),
            st.sampled_from(['a"b', "a\\b", "\n", "é", "😀"]),
            st.integers(-3, 3),
            st.none(),
        )
        values = draw(st.lists(value, min_size=len(names), max_size=len(names)))
        if len(values) > 1 and draw(st.integers(0, 2)) == 0:
            values[-1] = values[0]  # two names for one stored value: the last one wins
    style = draw(st.sampled_from(["plain", "python"] if typical else ["plain", "python", "raw"]))
    if style == "plain":
        gql = GraphQLEnumType(
            "E", {n: GraphQLEnumValue(v) for n, v in zip(names, values, strict=True)}
        )
    else:
        try:
            members = list(
                enum.Enum("PyE", list(zip(names, values, strict=True)))
            )  # aliases drop out
        except TypeError:  # unhashable or otherwise unusable values
            members = list(enum.Enum("PyE", names))
        cls = StoredValueEnumType if style == "python" else GraphQLEnumType
        gql = cls("E", {member.name: GraphQLEnumValue(member) for member in members})
    return _enum_serializer(gql)


def _custom_serialize(value: Any) -> Any:
    if isinstance(value, dict):
        raise TypeError("custom scalars take no objects")
    return value


@st.composite
def leaf_shape(draw: st.DrawFn, typical: bool) -> Shape:
    nullable = draw(st.booleans())
    roll = draw(st.integers(0, 19))
    if roll < 3:
        return Shape(LEAF, nullable, type_name="E", serialize=draw(enum_serializer(typical)))
    if roll == 3 and not typical:
        return Shape(LEAF, nullable, type_name="Custom", serialize=_custom_serialize)
    name = draw(st.sampled_from(BUILTIN_NAMES))
    return Shape(LEAF, nullable, type_name=name, serialize=SERIALIZERS[name])


@st.composite
def object_shape(draw: st.DrawFn, children: st.SearchStrategy[Shape], typical: bool) -> Shape:
    type_name = draw(st.one_of(GRAPHQL_NAME, KEY_TEXT)) or "T"
    count = draw(st.integers(0, 5))
    keys = draw(st.lists(KEY_TEXT, min_size=count, max_size=count, unique=True))
    sources = st.text(RAW_CHAR, max_size=6) if typical else KEY_TEXT
    fields = []
    used: set[str] = set()
    for key in keys:
        name = draw(GRAPHQL_NAME)
        if draw(st.integers(0, 7)) == 0:
            fields.append(
                FieldPlan(key, "__typename", "__typename", type_name, None, (), is_typename=True)
            )
            continue
        source = key if draw(st.booleans()) else draw(sources)
        if typical and (
            source in used or '"' in source or "\\" in source or any(c < " " for c in source)
        ):
            source = f"s{len(used)}"
            if source in used:
                continue
        used.add(source)
        fields.append(FieldPlan(key, name, source, type_name, draw(children), ()))
    has_resolvers = not typical and draw(st.integers(0, 15)) == 0
    return Shape(
        OBJECT, draw(st.booleans()), type_name, fields=tuple(fields), has_resolvers=has_resolvers
    )


@st.composite
def abstract_shape(draw: st.DrawFn, children: st.SearchStrategy[Shape]) -> Shape:
    concrete = [draw(object_shape(children, False)) for _ in range(draw(st.integers(1, 2)))]
    by_type = {f"T{index}": shape for index, shape in enumerate(concrete)}
    for name, shape in by_type.items():
        shape.type_name = name
        shape.nullable = False
    return Shape(ABSTRACT, draw(st.booleans()), "Abstract", by_type=by_type)


def shapes(typical: bool) -> st.SearchStrategy[Shape]:
    def extend(children: st.SearchStrategy[Shape]) -> st.SearchStrategy[Shape]:
        lists = st.builds(
            lambda item, nullable: Shape(LIST, nullable, item=item), children, st.booleans()
        )
        options = [lists, object_shape(children, typical), object_shape(children, typical)]
        if not typical:
            options.append(abstract_shape(children))
        return st.one_of(options)

    return st.recursive(leaf_shape(typical), extend, max_leaves=10)


def root_field(shape: Shape, key: str = "root") -> FieldPlan:
    return FieldPlan(key, "root", "root", "Query", shape, ())


@st.composite
def one_cases(draw: st.DrawFn, typical: bool) -> tuple[FieldPlan, str | bytes | None]:
    shape = draw(shapes(typical))
    root = root_field(shape, draw(KEY_TEXT))
    if not typical and draw(st.integers(0, 30)) == 0:
        return root, None
    return root, draw(document(shape, typical))


@st.composite
def rows_cases(draw: st.DrawFn, typical: bool) -> tuple[FieldPlan, list[Any]]:
    item = draw(shapes(typical))
    root = root_field(Shape(LIST, draw(st.booleans()), item=item), draw(KEY_TEXT))
    rows: list[Any] = draw(st.lists(document(item, typical), max_size=4))
    if not typical and rows and draw(st.integers(0, 15)) == 0:
        rows[draw(st.integers(0, len(rows) - 1))] = None  # a NULL row
    return root, rows


@given(one_cases(typical=False))
@examples(1.5)
def test_render_one_matches_python(case: tuple[FieldPlan, str | bytes | None]) -> None:
    assert_same_one(*case)


@given(rows_cases(typical=False))
@examples(0.7)
def test_render_rows_matches_python(case: tuple[FieldPlan, list[Any]]) -> None:
    assert_same_rows(*case)


@given(one_cases(typical=True))
@examples(0.7)
def test_typical_documents_take_the_c_path(case: tuple[FieldPlan, str | bytes]) -> None:
    root, text = case
    assert compile_root(root).native is not None, "a typical plan must compile for the C core"
    assert assert_same_one(root, text) is not None, f"the C core declined {text!r}"


@given(rows_cases(typical=True))
@examples(0.3)
def test_typical_rows_take_the_c_path(case: tuple[FieldPlan, list[Any]]) -> None:
    root, rows = case
    assert assert_same_rows(root, rows) is not None, f"the C core declined {rows!r}"


@st.composite
def leaf_cases(draw: st.DrawFn) -> tuple[FieldPlan, str | bytes | None]:
    """One scalar or enum leaf, alone, in a list or in an object: edge values get more tries."""
    leaf = draw(leaf_shape(False))
    text = draw(document(leaf, False))
    if isinstance(text, bytes) or draw(st.booleans()):
        return root_field(leaf), text
    if draw(st.booleans()):
        return root_field(Shape(LIST, draw(st.booleans()), item=leaf)), f"[{text},{text}]"
    field = FieldPlan("k", "k", "s", "T", leaf, ())
    return root_field(Shape(OBJECT, draw(st.booleans()), "T", fields=(field,))), f'{{"s":{text}}}'


@given(leaf_cases())
@examples(2)
def test_leaf_values_match_python(case: tuple[FieldPlan, str | bytes | None]) -> None:
    assert_same_one(*case)


# ------------------------------------------------------------------------------------------------
# Plans from GraphQL selections over the real schema
# ------------------------------------------------------------------------------------------------

ALIASES = ["a", "b", "id", "name", "data", "x_1", "Über"[1:], "inner"]
DIRECTIVES = ["", "", "", "", " @include(if: true)", " @skip(if: false)", " @skip(if: true)"]


@st.composite
def selection_set(draw: st.DrawFn, gql_type: GraphQLObjectType, depth: int) -> str:
    candidates = sorted(gql_type.fields)
    chosen = draw(st.lists(st.sampled_from([*candidates, "__typename"]), min_size=1, max_size=7))
    keys: set[str] = set()
    parts = []
    for name in chosen:
        alias = draw(st.one_of(st.none(), st.none(), st.sampled_from(ALIASES)))
        key = alias or name
        if key in keys:
            continue
        sub = ""
        if name != "__typename":
            named = get_named_type(gql_type.fields[name].type)
            if isinstance(named, GraphQLObjectType):
                if depth >= 2:
                    continue
                sub = " { " + draw(selection_set(named, depth + 1)) + " }"
        keys.add(key)
        prefix = f"{alias}: " if alias else ""
        parts.append(prefix + name + draw(st.sampled_from(DIRECTIVES)) + sub)
    if draw(st.integers(0, 5)) == 0:
        parts = [f"... on {gql_type.name} {{ {' '.join(parts)} }}"]
    return " ".join(parts)


@st.composite
def schema_cases(draw: st.DrawFn) -> tuple[FieldPlan, str, bool]:
    """A root field of a random query over PROBE; which render call; whether docs are typical."""
    schema: GraphQLSchema = PROBE.graphql_schema
    query_type = schema.query_type
    assert query_type is not None
    root_name = draw(st.sampled_from(["thing", "things"]))
    named = get_named_type(query_type.fields[root_name].type)
    assert isinstance(named, GraphQLObjectType)
    alias = draw(st.sampled_from(["", "r: ", "data: "]))
    query = f"{{ {alias}{root_name} {{ {draw(selection_set(named, 0))} }} }}"
    prepared = PROBE.prepare(GraphQLRequest(query, None, None))
    plan = prepared.plan(  # type: ignore[attr-defined]
        PROBE.graphql_schema, PROBE.model.queries, PROBE.executor.serializers, {}
    )
    (root,) = plan.roots
    return root.field, root_name, draw(st.booleans())


@given(schema_cases(), st.data())
@examples(0.7)
def test_schema_plans_match_python(case: tuple[FieldPlan, str, bool], data: st.DataObject) -> None:
    field, root_name, typical = case
    shape = field.shape
    assert shape is not None
    compiled = compile_root(field)
    if root_name == "things":
        assert shape.kind == LIST and shape.item is not None
        rows = data.draw(st.lists(document(shape.item, typical), max_size=3))
        native = assert_same_rows(field, rows)
    else:
        native = assert_same_one(field, data.draw(document(shape, typical)))
    if typical and compiled.native is not None:
        assert native is not None, "a typical document must take the C path"


# ------------------------------------------------------------------------------------------------
# Fixed cases: the divergences found so far, and boundaries
# ------------------------------------------------------------------------------------------------


def leaf_root(name: str, nullable: bool = True) -> FieldPlan:
    return root_field(Shape(LEAF, nullable, type_name=name, serialize=SERIALIZERS[name]))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Float", "-0"),  # the int 0: 0.0, not -0.0
        ("Float", "-0.0"),
        ("Float", "-0e0"),
        ("Float", "1e-400"),
        ("Float", "9999999999999999999"),
        ("Int", "-0"),
        ("ID", "-0"),
        ("JSON", "-0"),
        ("JSON", '{"a":-0,"b":[-0.0]}'),
        ("Decimal", "-0"),
        ("Decimal", '"0.0000001"'),  # str(Decimal) switches to exponent form: 1E-7
        ("Decimal", '"0.0000000"'),
        ("Decimal", '"-0.00000010"'),
        ("Decimal", '"0.000001"'),
        ("Decimal", '"0.0000010"'),
        ("Decimal", '"12.0000001"'),
        ("Decimal", '"0.000000"'),
        ("UUID", '"0123ABCD-0000-0000-0000-000000000000"'),
    ],
)
def test_number_and_decimal_edges(name: str, text: str) -> None:
    assert_same_one(leaf_root(name), text)
    assert_same_one(leaf_root(name), text.encode())


@pytest.mark.parametrize(
    "number",
    [
        "1e400",
        "-1e400",
        "1" * 400,
        "-" + "1" * 309,
        "1" * 308 + ".5",
        "1.8e308",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "17976931348623158e292",
        "0.00017976931348623159e312",
        "1e-400",
        "1e0000000000000000000000000000000000000001",
        "1e-99999999999999999999",
    ],
)
def test_numbers_beyond_the_double_range_anywhere(number: str) -> None:
    """orjson rejects a document with a number beyond the double range, even one not selected."""
    int_leaf = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
    shape = Shape(OBJECT, True, "T", fields=(FieldPlan("a", "a", "a", "T", int_leaf, ()),))
    assert_same_one(root_field(shape), f'{{"a":1,"x":{number}}}')
    assert_same_one(root_field(shape), f'{{"a":1,"x":[{{"y":{number}}}]}}'.encode())
    for name in ("Float", "JSON", "Decimal", "ID"):
        assert_same_one(leaf_root(name), number)


def test_duplicate_enum_values_map_to_the_last_name() -> None:
    gql = GraphQLEnumType("E", {"FIRST": GraphQLEnumValue("x"), "LAST": GraphQLEnumValue("x")})
    root = root_field(Shape(LEAF, False, type_name="E", serialize=_enum_serializer(gql)))
    assert assert_same_one(root, '"x"') == b'"LAST"'


def test_null_rows_match_python() -> None:
    item = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
    root = root_field(Shape(LIST, True, item=item))
    assert_same_rows(root, ["1", None])
    assert_same_rows(root, [None])


def test_rows_of_a_non_list_plan_match_python() -> None:
    root = leaf_root("Int")
    assert_same_rows(root, ["1"])
    assert_same_rows(root, [])


def test_rows_from_an_iterator_are_not_consumed_by_the_c_core() -> None:
    item = Shape(LEAF, False, type_name="Int", serialize=SERIALIZERS["Int"])
    root = root_field(Shape(LIST, False, item=item))
    compiled = compile_root(root)
    for rows in (["1", "2"], ["1", "x"], ["1", "null"]):
        c = outcome(C_BUILDER.render_rows, compiled, iter(rows))
        python = outcome(PYTHON_BUILDER.render_rows, root, iter(rows))
        assert c == python


@pytest.mark.parametrize(
    "levels",
    [100, 127, 128, 129, 200, 300, 480, 500, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1100],
)
@pytest.mark.parametrize("form", ["array", "object"])
def test_nesting_deep_documents(levels: int, form: str) -> None:
    """Deep JSON: the C core renders ordinary depths and leaves the rest to Python.

    The Python builder itself fails on deep values (orjson.dumps stops at 255 levels, the
    interpreter's recursion limit is reached around 500), so the C core must decline well
    before: it renders no value nested deeper than 128 levels.
    """
    opener, closer = ("[", "]") if form == "array" else ('{"a":', "}")
    text = opener * levels + "1" + closer * levels
    native = assert_same_one(leaf_root("JSON"), text)
    assert (native is not None) == (levels <= 128)
    json_leaf = leaf_root("JSON").shape
    shape = Shape(OBJECT, True, "T", fields=(FieldPlan("r", "r", "root", "T", json_leaf, ()),))
    assert_same_one(root_field(shape), '{"root":' + text + "}")
    # the same depth in a plan: lists of lists, objects in objects
    if form == "array":
        plan: Shape = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
        for _ in range(min(levels, 250)):
            plan = Shape(LIST, True, item=plan)
    else:
        plan = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
        for _ in range(min(levels, 250)):
            plan = Shape(OBJECT, True, "T", fields=(FieldPlan("b", "a", "a", "T", plan, ()),))
    native = assert_same_one(root_field(plan), text)
    assert (native is not None) == (levels <= 128)
    assert_same_rows(root_field(Shape(LIST, True, item=plan)), [text, text])


def test_strings_with_every_escape() -> None:
    body = (
        "".join(f"\\u{code:04x}" for code in range(0x80))
        + '\\"\\\\\\/\\b\\f\\n\\r\\t\\ud83d\\ude00'
    )
    for name in ("String", "ID", "JSON", "DateTime"):
        assert assert_same_one(leaf_root(name), f'"{body}"') is not None


def test_plans_deeper_than_the_c_limit_compile_for_python() -> None:
    shape = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
    for _ in range(300):
        shape = Shape(LIST, True, item=shape)
    assert_same_one(root_field(shape), "[[1]]")
