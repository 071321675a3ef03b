"""Every ```python block of docs/ runs, or is checked against the installed package.

The marker before a block chooses (see ``tests/docs/blocks.py``): ``execute`` (the default)
runs the page's blocks in order in one module, top-level ``await`` allowed; ``check`` compiles
the block, runs its imports, resolves every attribute read from an imported module and binds
the keywords of every call of an imported callable to its signature.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from tests.docs.blocks import ROOT, Block, doc_pages, page_blocks

PAGES = [page for page in doc_pages() if any(b.language == "python" for b in page_blocks(page))]
MODES = {None, "execute", "check"}


def _compile(block: Block) -> types.CodeType:
    return compile(
        block.text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )


async def _execute(block: Block, module: types.ModuleType) -> str:
    code = _compile(block)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = eval(code, module.__dict__)
        if inspect.iscoroutine(result):
            await result
    return printed.getvalue()


def _resolve(node: ast.expr, names: dict[str, Any]) -> tuple[bool, Any]:
    """The object an attribute chain rooted at an imported name denotes, if it is one."""
    if isinstance(node, ast.Name):
        return (True, names[node.id]) if node.id in names else (False, None)
    if isinstance(node, ast.Attribute):
        known, value = _resolve(node.value, names)
        if not known:
            return False, None
        if not hasattr(value, node.attr):
            raise AssertionError(f"{ast.unparse(node)}: {value!r} has no attribute {node.attr!r}")
        return True, getattr(value, node.attr)
    return False, None


def _forwarded_keywords(target: Any) -> inspect.Signature | None:
    """The signature that receives the ``**options`` of ``target``, when it forwards them."""
    import fraiseql

    return inspect.signature(fraiseql.Schema) if target is fraiseql.create_app else None


def _check_call(call: ast.Call, target: Any, where: str) -> None:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return
    forwarded = _forwarded_keywords(target)
    if forwarded is not None:
        named = set(signature.parameters)
        for keyword in call.keywords:
            name = keyword.arg
            if name is not None and name not in named and name not in forwarded.parameters:
                raise AssertionError(f"{where}: {ast.unparse(call)[:80]}: no keyword {name!r}")
    positional = [
        a
        for a in call.args
        if not isinstance(a, ast.Starred)
        and not (isinstance(a, ast.Constant) and a.value is Ellipsis)
    ]
    if any(isinstance(a, ast.Starred) for a in call.args):
        positional = []
    keywords = {k.arg: None for k in call.keywords if k.arg is not None}
    try:
        signature.bind_partial(*[None] * len(positional), **keywords)
    except TypeError as error:
        raise AssertionError(f"{where}: {ast.unparse(call)[:80]}: {error}") from None


def _check(block: Block) -> None:
    tree = ast.parse(block.text, block.where)
    _compile(block)
    names: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), block.where, "exec"), names)
    names.pop("__builtins__", None)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            _resolve(node, names)
        elif isinstance(node, ast.Call):
            known, target = _resolve(node.func, names)
            if known and callable(target):
                _check_call(node, target, block.where)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
async def test_python_blocks(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks that build an app without database_url= take it from the environment, as the
    # guides say; nothing connects to it (building an app opens no connection).
    monkeypatch.setenv("FRAISEQL_DATABASE_URL", "postgresql://docs@127.0.0.1:9/docs")
    module = types.ModuleType(f"docs_page_{abs(hash(page))}")
    sys.modules[module.__name__] = module
    try:
        blocks = page_blocks(page)
        for index, block in enumerate(blocks):
            if block.language != "python":
                continue
            assert block.mode in MODES, f"{block.where}: unknown docs-test mode {block.mode!r}"
            if block.mode == "check":
                _check(block)
                continue
            try:
                printed = await _execute(block, module)
            except Exception as error:
                raise AssertionError(f"{block.where}: {type(error).__name__}: {error}") from error
            if "output" in block.options:
                following = blocks[index + 1]
                assert printed.strip() == following.text.strip(), (
                    f"{block.where} prints something else than the block at {following.where}"
                )
    finally:
        del sys.modules[module.__name__]


def test_check_mode_finds_a_wrong_keyword(tmp_path: Path) -> None:
    """The check mode is not a no-op: an unknown keyword and a missing attribute fail it."""
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: check -->\n```python\nimport fraiseql\n"
        "fraiseql.create_app(no_such_keyword=1)\n```\n\n"
        "<!-- docs-test: check -->\n```python\nimport fraiseql\nfraiseql.no_such_thing\n```\n"
    )
    wrong_keyword, missing = (
        Block(b.path, b.line, b.language, b.text, b.mode, b.options) for b in page_blocks(page)
    )
    for block in (wrong_keyword, missing):
        with pytest.raises(AssertionError):
            _check(block)
