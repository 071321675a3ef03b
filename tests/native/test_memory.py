"""A million calls into the C core must leave the process the size it was: no leaks.

The calls mix the fast path (documents the C core renders), the give-up path (invalid JSON, a
null in a non-null position, escaped keys, lone surrogates, numbers beyond the double range,
nesting beyond the limits, rows it must leave to Python) and ``compile_plan`` with valid and
invalid descriptions (which fail half-way through building a plan). The resident set size is
read from ``/proc/self/statm`` after a warm-up round and after the million calls; reference
counts of the inputs are checked too. The calls are driven by ``map`` over iterators, so that
the loop itself runs in C and costs (almost) nothing, even under coverage.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable
from itertools import cycle, islice, repeat
from typing import Any

import pytest

from fraiseql.execution.shapes import LEAF, LIST, OBJECT, FieldPlan, Shape
from fraiseql.native.c_builder import _describe
from fraiseql.native.canonical import float_output, json_output
from fraiseql.types import scalars

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("FRAISEQL_IMPL") == "python",
        reason="measures the C core whatever FRAISEQL_IMPL says: runs in the FRAISEQL_IMPL=c pass",
    ),
    pytest.mark.skipif(
        not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm (Linux)"
    ),
]

_native = pytest.importorskip(
    "fraiseql._native", reason="the C extension fraiseql._native cannot be imported"
)

CALLS = 1_000_000
MAX_GROWTH = 4 * 1024 * 1024  # bytes; a leak of 8 bytes per call would be twice that


def rss() -> int:
    """The resident set size of this process, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def leaf(serialize: Callable[[Any], Any], nullable: bool = False) -> Shape:
    return Shape(LEAF, nullable, type_name="S", serialize=serialize)


def obj(type_name: str, nullable: bool, **fields: Shape) -> Shape:
    plans = [FieldPlan("__typename", "__typename", "", type_name, None, (), is_typename=True)]
    plans += [FieldPlan(key, key, key, type_name, shape, ()) for key, shape in fields.items()]
    return Shape(OBJECT, nullable, type_name, fields=tuple(plans))


AUTHOR = obj(
    "Author",
    False,
    id=leaf(scalars.UUID_SCALAR.serialize),
    name=leaf(scalars.STRING.serialize),
    email=leaf(scalars.EMAIL.serialize, True),
)
POST = obj(
    "Post",
    True,
    id=leaf(scalars.UUID_SCALAR.serialize),
    title=leaf(scalars.STRING.serialize),
    views=leaf(scalars.INT.serialize),
    rating=leaf(float_output, True),
    price=leaf(scalars.DECIMAL.serialize, True),
    ident=leaf(scalars.ID_SCALAR.serialize),
    published=leaf(scalars.BOOLEAN.serialize),
    meta=leaf(json_output, True),
    tags=Shape(LIST, False, item=leaf(scalars.STRING.serialize)),
    author=AUTHOR,
)
POSTS = Shape(LIST, False, item=Shape(POST.kind, False, POST.type_name, fields=POST.fields))

GOOD = (
    '{"id":"6f1c1f9e-6f7b-4c55-9d3b-1c0f5e0a7b21","title":"Caf\\u00e9 \\"quoted\\" \\ud83d\\ude00",'
    '"views":42,"rating":4.5,"price":"12.50","ident":7,"published":true,'
    '"meta":{"a":[1,2.5,-0.0,null,"x"],"b":{"c":true}},"tags":["a","b\\n"],'
    '"author":{"id":"0b8a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d","name":"Zoë","email":null},'
    '"extra":[{"deep":[1,2,3]}]}'
)
GIVE_UP = [
    GOOD + " x",  # trailing garbage
    GOOD.replace('"views":42', '"views":null'),  # null in a non-null position
    GOOD.replace('"title"', '"t\\u0069tle"'),  # an escaped key
    GOOD.replace('"views":42', '"views":1e400'),  # beyond the double range
    GOOD.replace('"views":42', '"views":"42"'),  # a value Python converts
    GOOD.replace('"price":"12.50"', '"price":"0.0000001"'),  # exponent form in Python
    GOOD.replace('"meta":{', '"meta":{"a":0,'),  # a duplicate key in a JSON value
    GOOD.replace('"extra":[', '"extra":' + "[" * 600) + "]" * 600,  # nesting beyond MAX_DEPTH
    GOOD.replace('"meta":{', '"meta":' + "[" * 200 + "{") + "]" * 200,  # beyond the render depth
    GOOD[:-7],  # truncated
    "\ufeff" + GOOD,  # BOM
    GOOD.replace("Zoë", "Zo\ud800"),  # a lone surrogate: the str has no UTF-8 form
    "",
]
ONE_INPUTS: list[Any] = [GOOD, GOOD.encode(), None, *GIVE_UP, GIVE_UP[0].encode()]
ROWS_INPUTS: list[Any] = [
    [GOOD, GOOD.encode(), GOOD],
    (GOOD,),
    [],
    [GOOD, GIVE_UP[1], GOOD],  # gives up on the second row
    [GOOD, None],  # a NULL row
    [GOOD, 12],  # not text
]
BAD_DESCRIPTIONS: list[Any] = [
    (
        OBJECT,
        False,
        0,
        b'"T"',
        ((b'"a":', b"a", False, (LEAF, False, 99, None, None, None, None)),),
        None,
        None,
    ),
    (
        OBJECT,
        False,
        0,
        b'"T"',
        ((b'"a":', b"a", False, _describe(AUTHOR)), (b'"b":', "not bytes", False, None)),
        None,
        None,
    ),
    (
        LIST,
        False,
        0,
        None,
        None,
        (LEAF, False, 8, None, None, None, ((b"x", b'"X"'), (b"y",))),
        None,
    ),
    (LEAF, False, 8, None, None, None, ((b"x", b'"X"'), "not a tuple")),
    (OBJECT, True, 0, b'"T"', ((b'"a":', b"a", False, None),), None, None),
    (1, 2, 3),
    "not a tuple",
]


def drive(function: Callable[..., Any], *arguments: Iterable[Any]) -> None:
    """Call ``function`` over the argument iterators, with the loop in C."""
    deque(map(function, *arguments), maxlen=0)


def workload(scale: int, plan: Any, rows_plan: Any, description: tuple[Any, ...]) -> int:
    """About ``scale`` calls into the module, in the mix described above; returns the count."""
    render_one, render_rows, compile_plan = (
        _native.render_one,
        _native.render_rows,
        _native.compile_plan,
    )
    one = scale * 60 // 100
    rows = scale * 20 // 100
    compiles = scale * 15 // 100
    failures = scale - one - rows - compiles
    drive(render_one, repeat(plan, one), islice(cycle(ONE_INPUTS), one))
    drive(render_rows, repeat(rows_plan, rows), islice(cycle(ROWS_INPUTS), rows))
    drive(render_rows, repeat(plan, 1000), repeat([GOOD], 1000))  # not a list plan: Python's
    drive(compile_plan, repeat(description, compiles))
    bad = cycle(BAD_DESCRIPTIONS)
    for _ in range(failures):
        with contextlib.suppress(TypeError, ValueError):
            compile_plan(next(bad))
    return one + rows + 1000 + compiles + failures


def test_a_million_calls_do_not_grow_the_process() -> None:
    description = _describe(POST)
    plan = _native.compile_plan(description)
    rows_plan = _native.compile_plan(_describe(POSTS))
    # the inputs do what the mix intends
    assert _native.render_one(plan, GOOD) is not None
    assert _native.render_rows(rows_plan, ROWS_INPUTS[0]) is not None
    for text in GIVE_UP:
        assert _native.render_one(plan, text) is None, text
    for rows in ROWS_INPUTS[3:]:
        assert _native.render_rows(rows_plan, rows) is None, rows

    watched = [plan, rows_plan, description, GOOD, *(text for text in GIVE_UP if text)]
    watched += ROWS_INPUTS
    references = [sys.getrefcount(value) for value in watched]
    nones = sys.getrefcount(None)
    workload(100_000, plan, rows_plan, description)  # warm-up: caches and allocator arenas
    gc.collect()
    before = rss()
    calls = workload(CALLS, plan, rows_plan, description)
    gc.collect()
    growth = rss() - before
    assert calls >= CALLS
    assert growth < MAX_GROWTH, f"RSS grew by {growth / 1024:.0f} KiB over {calls} calls"
    after = [sys.getrefcount(value) for value in watched]
    assert after == references
    # a reference to None leaked per give-up would add hundreds of thousands
    assert abs(sys.getrefcount(None) - nones) < 50_000


def test_big_outputs_do_not_grow_the_process() -> None:
    """Output buffers that grow (and are dropped on give-up) are released."""
    plan = _native.compile_plan(_describe(POSTS))
    big = "[" + ",".join([GOOD] * 2000) + "]"
    broken = big[:-1] + ",null]"  # the last item is null in a non-null position
    assert _native.render_one(plan, big) is not None
    assert _native.render_one(plan, broken) is None
    drive(_native.render_one, repeat(plan, 50), cycle([big, broken]))
    gc.collect()
    before = rss()
    drive(_native.render_one, repeat(plan, 1000), cycle([big, broken]))
    gc.collect()
    growth = rss() - before
    assert growth < MAX_GROWTH, f"RSS grew by {growth / 1024:.0f} KiB"
