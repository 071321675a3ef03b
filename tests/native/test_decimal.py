"""Decimal fields whose stored value is a JSON number: exact, and the same in both builders.

The rule: a ``Decimal`` field writes an integer as ``str(int)`` and any other number as
``str(decimal.Decimal(<the number's text>))``, every digit of what the document holds. The C core
quotes the text itself when ``str(Decimal)`` leaves it unchanged (plain notation, as PostgreSQL
writes ``numeric`` values) and leaves the other forms (exponents, ``0.0000001``) to the Python
builder. Everything else in those documents must render exactly as it does without a Decimal
field: ``Float``, ``JSON``, ``String`` and ``Int`` fields still see the float orjson reads.
"""

from __future__ import annotations

import decimal
import math

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.native.test_differential import (
    C_PASS_ONLY,
    PYTHON_BUILDER,
    SERIALIZERS,
    _native,
    assert_same_one,
    assert_same_rows,
    compile_root,
    examples,
    leaf_root,
    outcome,
    root_field,
)

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape

pytestmark = C_PASS_ONLY


def exact(text: str) -> bytes:
    """What a Decimal field must write for the JSON number ``text``."""
    if not any(c in text for c in ".eE"):
        return orjson.dumps(str(int(text)))  # "-0" is the integer 0
    return orjson.dumps(str(decimal.Decimal(text)))


def float_of(text: str) -> float:
    """What a Float field writes for the JSON number ``text`` (an integer is int, then float)."""
    return float(int(text)) if not any(c in text for c in ".eE") else float(text)


def leaf(name: str, nullable: bool = True) -> Shape:
    return Shape(LEAF, nullable, type_name=name, serialize=SERIALIZERS[name])


def object_shape(*fields: tuple[str, Shape], name: str = "T") -> Shape:
    plans = tuple(FieldPlan(key, key, key, name, shape, ()) for key, shape in fields)
    return Shape(OBJECT, True, name, fields=plans)


def is_plain(text: str) -> bool:
    """Whether the C core writes the number itself: plain notation that str(Decimal) keeps.

    An exponent always goes to Python, even one str(Decimal) writes back as it is ("1E+30").
    """
    plain = not any(c in text for c in "eE") and len(text) <= 1000
    return plain and str(decimal.Decimal(text)) == text


THIRTY = "123456789012345678901234567890"

FIXED = [
    (THIRTY + ".123456789", '"123456789012345678901234567890.123456789"'),
    ("-" + THIRTY + ".123456789", '"-123456789012345678901234567890.123456789"'),
    (THIRTY, '"123456789012345678901234567890"'),
    ("-" + THIRTY, '"-123456789012345678901234567890"'),
    ("0." + THIRTY, '"0.123456789012345678901234567890"'),
    ("1.50", '"1.50"'),  # trailing zeros kept (a float gave "1.5")
    ("100.000", '"100.000"'),
    ("0.1", '"0.1"'),
    ("0.0", '"0.0"'),
    ("-0.0", '"-0.0"'),
    ("-0", '"0"'),  # an integer: str(int)
    ("0", '"0"'),
    ("1E+30", '"1E+30"'),
    ("1e30", '"1E+30"'),
    ("1e-30", '"1E-30"'),
    ("-2.5E-3", '"-0.0025"'),
    ("1e5", '"1E+5"'),
    ("12.5e1", '"125"'),
    ("0e0", '"0"'),
    ("0.0000001", '"1E-7"'),  # below 1e-6 str(Decimal) uses an exponent
    ("0.000001", '"0.000001"'),
    ("0.000000000000000000000000000001", '"1E-30"'),  # PostgreSQL's 1e-30::numeric
    ("9223372036854775807", '"9223372036854775807"'),
    ("9223372036854775808", '"9223372036854775808"'),
    ("18446744073709551616", '"18446744073709551616"'),  # beyond 2**64: a float to orjson
    ("-9223372036854775809", '"-9223372036854775809"'),
    ("1" * 300, '"' + "1" * 300 + '"'),
    ("1e-400", '"1E-400"'),  # below the double range: 0.0 as a float, exact here
    ("0." + "7" * 1200, '"0.' + "7" * 1200 + '"'),  # longer than the C core's plain check
]


@pytest.mark.parametrize(("text", "expected"), FIXED)
def test_decimal_numbers_are_exact(text: str, expected: str) -> None:
    root = leaf_root("Decimal")
    assert exact(text) == expected.encode()
    native = assert_same_one(root, text)
    assert PYTHON_BUILDER.render_one(root, text).value == expected.encode()
    # plain texts take the C path; the rest is left to Python, which must be exact too
    assert (native is not None) == (is_plain(text) or text == "-0")
    assert_same_one(root, text.encode())


# JSON number texts: any sign, 0 to 40 integer digits, fractions with trailing zeros, exponents
NUMBER_TEXT = st.builds(
    lambda sign, integer, fraction, exponent: sign + integer + fraction + exponent,
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,39}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,40}", fullmatch=True)),
    st.one_of(
        st.just(""),
        st.just(""),
        st.from_regex(r"[eE][+-]?[0-9]{1,3}", fullmatch=True),
    ),
).filter(lambda text: math.isfinite(float(text)))


@given(NUMBER_TEXT)
@examples()
def test_any_decimal_number_matches_str_decimal(text: str) -> None:
    native = assert_same_one(leaf_root("Decimal"), text)
    assert PYTHON_BUILDER.render_one(leaf_root("Decimal"), text).value == exact(text)
    if is_plain(text):
        assert native == exact(text), "a plain number takes the C path"


@given(st.lists(NUMBER_TEXT, max_size=5), st.lists(NUMBER_TEXT, min_size=1, max_size=3))
@examples(0.5)
def test_decimal_numbers_inside_lists_and_objects(items: list[str], deep: list[str]) -> None:
    line = object_shape(("amount", leaf("Decimal")), ("rate", leaf("Float")), name="Line")
    shape = object_shape(
        ("amounts", Shape(LIST, True, item=leaf("Decimal"))),
        ("matrix", Shape(LIST, True, item=Shape(LIST, True, item=leaf("Decimal")))),
        ("lines", Shape(LIST, True, item=line)),
        ("total", leaf("Decimal")),
    )
    root = root_field(shape)
    numbers = ",".join(items)
    lines = ",".join(f'{{"rate":{text},"amount":{text}}}' for text in deep)
    document = (
        f'{{"amounts":[{numbers}],"matrix":[[{numbers}],[]],"lines":[{lines}],"total":{deep[0]}}}'
    )
    rendered = PYTHON_BUILDER.render_one(root, document)
    assert not rendered.errors
    value = orjson.loads(rendered.value)
    assert value["amounts"] == [orjson.loads(exact(text)) for text in items]
    assert value["matrix"] == [value["amounts"], []]
    assert value["total"] == orjson.loads(exact(deep[0]))
    assert [line["amount"] for line in value["lines"]] == [orjson.loads(exact(t)) for t in deep]
    assert [repr(line["rate"]) for line in value["lines"]] == [repr(float_of(t)) for t in deep]
    assert_same_one(root, document)
    assert_same_rows(root_field(Shape(LIST, True, item=shape)), [document, document.encode()])


OTHER_FIELDS = [
    ("Float", ["1.50", "1e5", "-0.0", THIRTY, THIRTY + ".5", "18446744073709551616", "-0"]),
    ("JSON", [f'{{"a":1.50,"b":[{THIRTY},1e-30,0.1,-0]}}', "18446744073709551616", "2.50"]),
    ("String", ["1.50", "1e5", THIRTY, "-0.0"]),
    ("Int", ["2.0", "1.5", THIRTY, "1e2", "-0"]),
    ("ID", ["1.50", THIRTY, "18446744073709551615"]),
]


@pytest.mark.parametrize(("name", "texts"), OTHER_FIELDS)
def test_other_fields_render_as_without_a_decimal_field(name: str, texts: list[str]) -> None:
    """Numbers read for a plan with a Decimal field are still floats to every other scalar."""
    for text in texts:
        alone = root_field(object_shape(("x", leaf(name))))
        beside = root_field(object_shape(("x", leaf(name)), ("d", leaf("Decimal"))))
        document = f'{{"x":{text},"d":{text}}}'
        without = outcome(PYTHON_BUILDER.render_one, alone, document)
        with_decimal = outcome(PYTHON_BUILDER.render_one, beside, document)
        assert without[0] == with_decimal[0] == "renders", text
        assert orjson.loads(with_decimal[1])["x"] == orjson.loads(without[1])["x"], text
        x_errors = [error for error in with_decimal[2] if error["path"] == ["root", "x"]]
        assert x_errors == without[2], text  # the same field errors, same messages
        assert_same_one(beside, document)


@pytest.mark.parametrize(
    "document",
    [
        '{"d":1.5,"x":"\\ud800"}',  # a lone surrogate: json accepts it, orjson does not
        '{"d":1.5,"x":NaN}',
        '{"d":1.5,"x":Infinity}',
        '{"d":1.5,"x":1e400}',
        '{"d":1' + "0" * 400 + "}",
        '{"d":1.5}x',
        b'\xef\xbb\xbf{"d":1.5}',  # a BOM
        b'{"d":1.5,"x":"\xff"}',  # invalid UTF-8
    ],
)
def test_documents_orjson_refuses_are_refused_the_same_way(document: str | bytes) -> None:
    with_decimal = root_field(object_shape(("d", leaf("Decimal"))))
    without = root_field(object_shape(("d", leaf("Float"))))
    refused = outcome(PYTHON_BUILDER.render_one, without, document)
    assert refused[0] == "raises"
    assert outcome(PYTHON_BUILDER.render_one, with_decimal, document) == refused
    assert_same_one(with_decimal, document)


def test_an_exponent_decimal_cannot_hold_is_a_field_error() -> None:
    root = root_field(object_shape(("d", leaf("Decimal")), ("f", leaf("Float"))))
    text = "1e-99999999999999999999"  # 0.0 as a float; beyond decimal's exponent range
    rendered = PYTHON_BUILDER.render_one(root, f'{{"d":{text},"f":{text}}}')
    assert rendered.value == b'{"d":null,"f":0.0}'
    assert [error["message"] for error in rendered.errors] == [
        f"Decimal cannot represent value: '{text}'"
    ]
    assert_same_one(root, f'{{"d":{text},"f":{text}}}')


def test_decimal_strings_keep_their_behaviour() -> None:
    root = leaf_root("Decimal")
    for text, expected in [
        (f'"{THIRTY}.10"', f'"{THIRTY}.10"'),
        ('"1e5"', '"1E+5"'),
        ('"0.0000001"', '"1E-7"'),
        ('"-0"', '"-0"'),
    ]:
        assert PYTHON_BUILDER.render_one(root, text).value == expected.encode()
        assert_same_one(root, text)


def test_plain_decimal_numbers_take_the_c_path_in_a_document() -> None:
    shape = object_shape(
        ("price", leaf("Decimal", nullable=False)),
        ("prices", Shape(LIST, False, item=leaf("Decimal", nullable=False))),
    )
    root = root_field(shape)
    document = f'{{"price": {THIRTY}.000, "prices": [-0.50, {THIRTY}, 0.000001, -0]}}'
    compiled = compile_root(root)
    assert compiled.native is not None
    native = _native.render_one(compiled.native, document)
    assert native == (
        f'{{"price":"{THIRTY}.000","prices":["-0.50","{THIRTY}","0.000001","0"]}}'.encode()
    )
    assert_same_one(root, document)
