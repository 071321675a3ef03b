"""The C core reads each document once: duplicates, slots, nested output and its buffers.

An object's members are read in the document's order and kept in slots, nested objects and
lists are written into a scratch buffer before their parent, and the response grows inside the
bytes object that is returned. These cases pin what that order of work must not change: the
last member of a name wins whatever an earlier one held, invalid JSON anywhere still makes
Python decide, and outputs of any size come out whole. Each case is compared with the Python
builder; the valid ones must take the C path.
"""

from __future__ import annotations

import pytest
from tests.native.test_differential import (
    C_PASS_ONLY,
    SERIALIZERS,
    _native,
    assert_same_one,
    assert_same_rows,
    root_field,
)

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape

pytestmark = C_PASS_ONLY

assert _native is not None

STRING = Shape(LEAF, False, type_name="String", serialize=SERIALIZERS["String"])
INT = Shape(LEAF, True, type_name="Int", serialize=SERIALIZERS["Int"])


def obj(*fields: tuple[str, str, Shape], nullable: bool = True) -> Shape:
    """An object shape with ``(response key, source key, shape)`` fields."""
    plans = tuple(FieldPlan(key, key, source, "T", shape, ()) for key, source, shape in fields)
    return Shape(OBJECT, nullable, "T", fields=plans)


def strings(nullable: bool = True) -> Shape:
    """A list of non-null strings."""
    return Shape(LIST, nullable, item=STRING)


INNER = obj(("s", "s", STRING))
ROOT = root_field(obj(("o", "o", INNER), ("l", "l", strings()), ("x", "x", INT)))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # a leaf: a container, then a number
        ('{"x":[1,2],"x":3}', b'{"o":null,"l":null,"x":3}'),
        ('{"x":{"a":[1]},"x":null}', b'{"o":null,"l":null,"x":null}'),
        # an object: a string, a list, then an object
        ('{"o":"text","o":[1],"o":{"s":"v"}}', b'{"o":{"s":"v"},"l":null,"x":null}'),
        # an object whose own member has the wrong type, then a good one
        ('{"o":{"s":5},"o":{"s":"v"}}', b'{"o":{"s":"v"},"l":null,"x":null}'),
        # deeper: the bad value two levels down
        ('{"o":{"s":{"deep":[{"x":1}]}},"o":{"s":"v"}}', b'{"o":{"s":"v"},"l":null,"x":null}'),
        # a list: an object, a list with a bad item, then a good list
        ('{"l":{"a":1},"l":["a",1],"l":["b","c"]}', b'{"o":null,"l":["b","c"],"x":null}'),
        # a good value replaced by null, and null replaced by a good value
        ('{"o":{"s":"v"},"o":null}', b'{"o":null,"l":null,"x":null}'),
        ('{"l":null,"l":["d"]}', b'{"o":null,"l":["d"],"x":null}'),
    ],
)
def test_the_last_member_of_a_name_wins_whatever_an_earlier_one_held(
    document: str, expected: bytes
) -> None:
    assert assert_same_one(ROOT, document) == expected


@pytest.mark.parametrize(
    "document",
    [
        '{"o":{"s":"v"},"o":"text"}',  # the last value has the wrong type
        '{"o":{"s":"v"},"o":{"s":5}}',
        '{"o":{"s":5,},"o":{"s":"v"}}',  # the replaced value is invalid JSON
        '{"o":{"s":"\\x"},"o":{"s":"v"}}',  # ... an invalid escape in it
        '{"x":[1,],"x":3}',
        '{"s":"v","unread":[1,2,}',  # invalid JSON in a member no field reads
        '{"unread":{"a":"\\ud800"},"x":1}',  # a lone surrogate there
        '{"unread":1e400,"x":1}',  # a number orjson.loads refuses
        '{"x":1} x',  # text after the document
    ],
)
def test_python_decides_when_the_winning_value_or_any_byte_is_wrong(document: str) -> None:
    assert assert_same_one(ROOT, document) is None


def test_two_fields_read_one_member_with_their_own_selections() -> None:
    both = obj(("s", "s", STRING), ("t", "t", STRING))
    root = root_field(
        obj(
            ("a", "o", obj(("s", "s", STRING))),
            ("b", "o", obj(("t", "t", STRING))),
            ("c", "o", both),
            ("n", "o", Shape(LEAF, True, type_name="String", serialize=SERIALIZERS["String"])),
        )
    )
    document = '{"o":{"t":"T","s":"S"}}'
    # a String field cannot hold an object: Python reports it, so the C core leaves it to Python
    assert assert_same_one(root, document) is None
    root = root_field(
        obj(
            ("a", "o", obj(("s", "s", STRING))),
            ("b", "o", obj(("t", "t", STRING))),
            ("c", "o", both),
        )
    )
    assert assert_same_one(root, document) == (
        b'{"a":{"s":"S"},"b":{"t":"T"},"c":{"s":"S","t":"T"}}'
    )


def test_nested_output_comes_out_in_selection_order_at_every_level() -> None:
    leaf = obj(("z", "z", STRING), ("a", "a", STRING))
    middle = obj(("items", "items", Shape(LIST, True, item=leaf)), ("one", "one", leaf))
    root = root_field(obj(("m", "m", middle), ("k", "k", STRING), ("m2", "m", middle)))
    document = (
        '{"k": "K", "m": {"one": {"a": "1", "z": "2"}, "skip": {"a": [1, {"b": 2}]}, '
        '"items": [{"a": "3", "z": "4"}, {"z": "5", "a": "6", "extra": null}]}}'
    )
    once = b'{"items":[{"z":"4","a":"3"},{"z":"5","a":"6"}],"one":{"z":"2","a":"1"}}'
    assert assert_same_one(root, document) == b'{"m":' + once + b',"k":"K","m2":' + once + b"}"


def test_lists_of_lists_and_empty_containers() -> None:
    grid = Shape(LIST, True, item=Shape(LIST, True, item=INNER))
    root = root_field(obj(("g", "g", grid), ("e", "e", INNER), ("l", "l", strings())))
    document = '{"g": [[{"s": "a"}], [], [{"s": "b"}, {"s": "c"}]], "e": {}, "l": []}'
    # "e" is an object without its non-null "s": Python reports it
    assert assert_same_one(root, document) is None
    document = '{"g": [[{"s": "a"}], [], [{"s": "b"}, {"s": "c"}]], "e": {"s": ""}, "l": []}'
    assert assert_same_one(root, document) == (
        b'{"g":[[{"s":"a"}],[],[{"s":"b"},{"s":"c"}]],"e":{"s":""},"l":[]}'
    )


def test_whitespace_other_than_postgresql_s_is_read_the_slow_way() -> None:
    spaced = ' \n{ "o" :\t{"s":"v"} ,\r\n"x":1 ,"l" : [ "a" , "b" ] } \n'
    assert assert_same_one(ROOT, spaced) == b'{"o":{"s":"v"},"l":["a","b"],"x":1}'
    tight = '{"o":{"s":"v"},"x":1,"l":["a","b"]}'
    assert assert_same_one(ROOT, tight) == b'{"o":{"s":"v"},"l":["a","b"],"x":1}'


def test_outputs_larger_than_the_first_reservation_come_out_whole() -> None:
    text = "é" + "x" * 50_000
    root = root_field(Shape(LIST, False, item=obj(("s", "s", STRING), ("x", "x", INT))))
    rows = [f'{{"x": {i}, "s": "{text}"}}' for i in range(5)]  # about 250 kB of output
    native = assert_same_rows(root, rows)
    assert native is not None and len(native) > 250_000
    one = root_field(obj(("s", "s", STRING), ("o", "o", INNER)))
    document = '{"o": {"s": "' + "y" * 300_000 + '"}, "s": "' + text + '"}'
    native = assert_same_one(one, document)
    assert native is not None and len(native) > 350_000


def test_deep_members_no_field_reads_are_checked_to_the_depth_limit() -> None:
    deep = '{"x":1,"unread":' + "[" * 400 + "]" * 400 + "}"
    assert assert_same_one(ROOT, deep) == b'{"o":null,"l":null,"x":1}'
    too_deep = '{"x":1,"unread":' + "[" * 600 + "]" * 600 + "}"
    assert assert_same_one(ROOT, too_deep) is None
