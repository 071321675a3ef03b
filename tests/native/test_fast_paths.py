"""The C core's fast paths, case by case against the Python builder.

The core scans strings eight bytes at a time, copies unescaped strings whole, converts non-ASCII
``str`` rows to UTF-8 itself (runs of ASCII a word at a time, per Unicode kind), writes integers
without ``snprintf`` and looks up an object's members in one pass. The random documents of
``test_differential.py`` rarely put a special byte at every offset of a word or a row in every
Unicode kind; these tests do, deterministically. Each case must give the same outcome in both
builders, and the valid ones must take the C path.
"""

from __future__ import annotations

import pytest
from tests.native.test_differential import (
    C_PASS_ONLY,
    SERIALIZERS,
    _native,
    as_bytes,
    assert_same_one,
    assert_same_rows,
    leaf_root,
    root_field,
)

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape

pytestmark = C_PASS_ONLY

assert _native is not None

STRING = Shape(LEAF, True, type_name="String", serialize=SERIALIZERS["String"])


def object_root(*fields: tuple[str, str, Shape]) -> FieldPlan:
    """A root field of an object type with ``(response key, source key, shape)`` fields."""
    plans = tuple(FieldPlan(key, key, source, "T", shape, ()) for key, source, shape in fields)
    return root_field(Shape(OBJECT, True, "T", fields=plans))


# Pieces a string scanner must stop at. None of them is the first byte of a plain run.
VALID_PIECES = [
    '\\"',
    "\\\\",
    "\\n",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\x7f",  # DEL is plain JSON text, not a control character
    "é",
    "€",
    "😀",
    "\U0010ffff",
]
INVALID_PIECES = [
    "\x01",  # a raw control character
    "\x1f",
    "\\x",  # an unknown escape
    "\\ud800",  # a lone surrogate escape
    "\udcff",  # in the bytes form: the invalid byte 0xFF; in the str form: a lone surrogate
    "\udce2\udc82",  # a truncated UTF-8 sequence in the bytes form
]


@pytest.mark.parametrize("piece", VALID_PIECES + INVALID_PIECES)
def test_special_characters_at_every_offset_of_a_word(piece: str) -> None:
    root = object_root(("s", "s", STRING), ("t", "t", STRING))
    for before in range(20):
        for after in (0, 1, 7, 8, 9, 17):
            text = '{"s":"' + "a" * before + piece + "b" * after + '","t":"' + "c" * after + '"}'
            for form in (text, as_bytes(text)):
                native = assert_same_one(root, form)
                if piece in VALID_PIECES:
                    assert native is not None, form


@pytest.mark.parametrize("length", range(0, 26))
def test_unterminated_strings_of_every_length(length: int) -> None:
    root = object_root(("s", "s", STRING))
    for tail in ("", "\\", "\\u00", "é"):
        text = '{"s":"' + "x" * length + tail
        assert assert_same_one(root, text) is None
        assert assert_same_one(root, as_bytes(text)) is None


# One character of each width in a str: Latin-1 (1 byte per character in CPython), the BMP
# (2 bytes), beyond it (4 bytes); lone surrogates in the last two kinds.
WIDE_CHARACTERS = ["é", "ÿ", "€", "\uffff", "😀", "\U0010ffff"]
SURROGATES = ["\ud800", "\udfff"]


@pytest.mark.parametrize("wide", WIDE_CHARACTERS)
def test_rows_of_every_unicode_kind(wide: str) -> None:
    """Each row is a str of one kind, its ASCII runs cut at every length around a wide character."""
    root = root_field(
        Shape(LIST, False, item=object_root(("s", "s", STRING), ("n", "n", STRING)).shape)
    )
    rows = [
        '{"s":"' + "a" * before + wide + "b" * after + '","n":"' + wide * before + '"}'
        for before in range(12)
        for after in range(12)
    ]
    assert assert_same_rows(root, rows) is not None
    # keys and structure in the wide kind too; a key with a wide character is not a source here
    rows = ['{"' + wide + '":1,"s":"' + "z" * n + '"}' for n in range(20)]
    assert assert_same_rows(root, rows) is not None


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("wide", ["€", "😀", ""])
def test_rows_with_lone_surrogates_are_left_to_python(surrogate: str, wide: str) -> None:
    root = root_field(Shape(LIST, False, item=object_root(("s", "s", STRING)).shape))
    for before in range(10):
        rows = ['{"s":"ok"}', '{"s":"' + wide + "a" * before + surrogate + '"}']
        assert assert_same_rows(root, rows) is None
        assert assert_same_one(object_root(("s", "s", STRING)), rows[1]) is None


def test_rows_of_mixed_forms() -> None:
    root = root_field(Shape(LIST, False, item=object_root(("s", "s", STRING)).shape))
    rows: list[object] = ['{"s":"é€😀"}', b'{"s":"\xc3\xa9"}', '{"s":"plain"}', "{}"]
    expected = '[{"s":"é€😀"},{"s":"é"},{"s":"plain"},{"s":null}]'.encode()
    assert assert_same_rows(root, rows) == expected


def test_subclasses_of_str_and_bytes_are_left_to_python() -> None:
    """orjson.loads refuses them (bytearray and memoryview it takes): the C core must not render."""

    class Text(str):
        pass

    class Data(bytes):
        pass

    root = object_root(("s", "s", STRING))
    for text in (Text('{"s":"é"}'), Data(b'{"s":"x"}'), bytearray(b'{"s":"x"}')):
        assert assert_same_one(root, text) is None  # type: ignore[arg-type]
        assert assert_same_rows(root_field(Shape(LIST, False, item=root.shape)), [text]) is None


@pytest.mark.parametrize(
    "number",
    [
        "0",
        "-0",
        "7",
        "-7",
        "10",
        "2147483647",
        "-2147483648",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "1000000000000000000",
    ],
)
@pytest.mark.parametrize("scalar", ["Int", "ID", "Decimal", "Float", "JSON"])
def test_integers_at_the_limits(number: str, scalar: str) -> None:
    assert_same_one(leaf_root(scalar), number)
    assert_same_one(leaf_root(scalar), "[" + number + "]")


@pytest.mark.parametrize(
    "text",
    [
        "01234567-89ab-cdef-0123-456789abcdef",
        "01234567-89ab-cdef-0123-456789abcdeF",
        "01234567-89ab-cdef-0123-456789abcdeg",
        "01234567-89ab-cdef-0123-456789abcde/",
        "01234567-89ab-cdef-0123-456789abcde:",
        "01234567-89ab-cdef-0123-456789abcde`",
        "0123456789ab-cdef-0123-456789abcdef-",
        "01234567-89ab-cdef-0123_456789abcdef",
        "01234567-89ab-cdef-0123-456789abcde",
        "01234567-89ab-cdef-0123-456789abcdef0",
        "0123456-789ab-cdef-0123-456789abcdef",
    ],
)
def test_uuid_forms(text: str) -> None:
    native = assert_same_one(leaf_root("UUID"), '"' + text + '"')
    assert (native is not None) == (text == "01234567-89ab-cdef-0123-456789abcdef")


def test_member_lookup_in_one_pass() -> None:
    """Duplicates: the last member wins; two fields may read one member; missing ones are null."""
    int_leaf = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
    root = object_root(("a", "x", int_leaf), ("b", "x", int_leaf), ("c", "y", int_leaf))
    assert assert_same_one(root, '{"x":1,"y":2,"x":3}') == b'{"a":3,"b":3,"c":2}'
    assert assert_same_one(root, '{"z":1}') == b'{"a":null,"b":null,"c":null}'
    # an escaped key might spell a source: Python decides
    assert assert_same_one(root, '{"\\u0078":1}') is None
    # a plan that reads nothing but __typename does not care about escaped keys
    typename = FieldPlan("t", "__typename", "__typename", "T", None, (), is_typename=True)
    only_typename = root_field(Shape(OBJECT, True, "T", fields=(typename,)))
    assert assert_same_one(only_typename, '{"\\u0078":1}') == b'{"t":"T"}'
    # more fields than the one-pass lookup holds: the per-field lookup, same result
    many = object_root(*[(f"k{i}", f"s{i % 7}", int_leaf) for i in range(70)])
    document = "{" + ",".join(f'"s{i}":{i}' for i in range(7)) + ',"s3":-3}'
    assert assert_same_one(many, document) is not None


def test_member_lookup_with_colliding_buckets() -> None:
    """Keys of equal length, first and last byte share a bucket: each still finds its member."""
    int_leaf = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
    sources = ["axb", "ayb", "azb", "a", "", "ab", "ba"]
    root = object_root(*[(f"k{i}", source, int_leaf) for i, source in enumerate(sources)])
    members = ",".join(f'"{source}":{i}' for i, source in enumerate(reversed(sources)))
    native = assert_same_one(root, "{" + members + ',"awb":99}')
    expected = ",".join(f'"k{i}":{len(sources) - 1 - i}' for i in range(len(sources)))
    assert native == ("{" + expected + "}").encode()


# Number texts around the edges of the float fast path (written as they are when repr(float)
# would write the same text): trailing zeros, 15/16/17 significant digits, 1e-4 and 1e16.
FLOAT_TEXTS = [
    "2.18",
    "-2.18",
    "0.5",
    "-0.5",
    "2.10",
    "2.0",
    "0.0",
    "-0.0",
    "0.0001",
    "0.00012",
    "0.00001",
    "0.000012",
    "123456789012345.6",
    "12345678901234.5",
    "1234567890123.45",
    "0.123456789012345",
    "0.1234567890123456",
    "0.12345678901234567",
    "0.30000000000000004",
    "999999999999999.9",
    "9999999999999999.9",
    "1.7976931348623157",
    "5e-324",
    "1.5e3",
    "00.5",
    "1.",
    ".5",
]


@pytest.mark.parametrize("text", FLOAT_TEXTS)
@pytest.mark.parametrize("scalar", ["Float", "JSON"])
def test_float_texts(text: str, scalar: str) -> None:
    assert_same_one(leaf_root(scalar), text)
    assert_same_one(leaf_root(scalar), "[" + text + "," + text + "]")


def test_short_decimals_round_trip_as_written() -> None:
    """Every decimal with up to 15 significant digits that ends in a non-zero digit."""
    import random

    generator = random.Random(1234)
    for _ in range(3000):
        digits = generator.randint(1, 15)
        mantissa = str(generator.randrange(10 ** (digits - 1), 10**digits))
        point = generator.randint(-3, digits - 1)
        if point <= 0:
            text = "0." + "0" * -point + mantissa
        else:
            text = mantissa[:point] + "." + mantissa[point:]
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
        if generator.random() < 0.5:
            text = "-" + text
        assert assert_same_one(leaf_root("Float"), text) == repr(float(text)).encode()


@pytest.mark.parametrize("offset", range(0, 40))
def test_uuids_at_every_offset(offset: int) -> None:
    """A UUID member after keys of every length: the 16-byte checks read within its text."""
    uuid = Shape(LEAF, True, type_name="UUID", serialize=SERIALIZERS["UUID"])
    root = object_root(("id", "id", uuid))
    text = "01234567-89ab-cdef-0123-456789abcdef"
    document = '{"' + "k" * offset + '":1,"id":"' + text + '"}'
    assert assert_same_one(root, document) == ('{"id":"' + text + '"}').encode()
    assert assert_same_one(root, document.encode()) is not None


@pytest.mark.parametrize("length", range(1, 25))
def test_member_names_of_every_length(length: int) -> None:
    """Names that differ in their first, middle or last byte only, at every length."""
    int_leaf = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])
    base = "n" * length
    variants = {base[:i] + "x" + base[i + 1 :] for i in (0, length // 2, length - 1)}
    root = object_root(("k", base, int_leaf))
    document = "{" + ",".join(f'"{name}":1' for name in sorted(variants)) + f',"{base}":2}}'
    assert assert_same_one(root, document) == b'{"k":2}'
    string_leaf = Shape(LEAF, True, type_name="String", serialize=SERIALIZERS["String"])
    text = root_field(string_leaf)
    assert assert_same_one(text, '"' + base + '"') == ('"' + base + '"').encode()
