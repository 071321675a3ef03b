"""``fraiseql generate model|resolver``: written into a new project, whose own tests then pass.

The project is made by ``fraiseql init``; the generated tests create, read, update and delete
through GraphQL against a real PostgreSQL, run by the project's ``.ci/run`` (``make test``:
the DDL check, then pytest), as ``test_init`` runs it. Refused inputs leave every file as it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_init import BIN, REPO, _clean_env
from tests.conftest import temporary_database

from fraiseql.cli.generate_resolver import check_resolver_name
from fraiseql.cli.init import create_project
from fraiseql.cli.model_spec import FIELD_TYPES, ModelSpecError, parse_model, plural

MODELS = [
    ["Customer", "name:str", "email:email?"],
    ["Invoice", "number:str", "amount:decimal", "due:date", "paid:bool?", "customer:Customer"],
    # Every field type once, long names, an optional reference and a required one.
    [
        "ShipmentLineWithALongName",
        "due_date:date",
        "count_of_items:int",
        "ratio:float?",
        "fragile:bool",
        "at_time:time?",
        "shipped_at:datetime",
        "tracking:uuid?",
        "extra:json?",
        "contact:email?",
        "price:decimal?",
        "label:str?",
        "invoice:Invoice?",
        "buyer:Customer",
    ],
]


def fraiseql(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line in ``project`` (a fresh interpreter: the project is imported anew)."""
    return subprocess.run(
        [sys.executable, "-m", "fraiseql", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_clean_env(PYTHONDONTWRITEBYTECODE="1"),
    )


def snapshot(project: Path) -> dict[str, str]:
    """Every file of the project (but caches) and a digest of its bytes."""
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not {".venv", "__pycache__", ".fraiseql"} & set(path.parts)
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``fraiseql init gen-shop``, then three models and a resolver generated in it."""
    root = create_project("gen-shop", tmp_path_factory.mktemp("generate"), fraiseql_source=REPO)
    for model in MODELS:
        result = fraiseql(root, "generate", "model", *model)
        assert result.returncode == 0, result.stdout + result.stderr
    result = fraiseql(root, "generate", "resolver", "shout")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_the_files_are_written(project: Path) -> None:
    package = project / "gen_shop"
    for entity in ("customer", "invoice", "shipment_line_with_a_long_name"):
        assert (package / "models" / f"{entity}.py").is_file()
        assert (project / "tests" / f"test_{entity}.py").is_file()
        for folder, name in (
            ("10_tables", f"tb_{entity}"),
            ("20_read_models", f"tv_{entity}"),
            ("30_views", f"v_tv_{entity}"),
            ("40_functions", f"fn_sync_tv_{entity}"),
            ("40_functions", f"fn_{entity}"),
        ):
            assert list((project / "db" / "schema" / folder).glob(f"*_{name}.sql")), name
    functions = (project / "db" / "schema" / "40_functions").glob("*_fn_invoice.sql")
    text = next(functions).read_text()
    assert "fn_create_invoice" in text and "fn_update_invoice" in text
    assert "fn_delete_invoice" in text and "fn_customer_pk(input->>'customer')" in text
    invoice = (package / "models" / "invoice.py").read_text()
    assert '@fraiseql.type(sql_source="tv_invoice")' in invoice
    assert "    paid: bool | None\n" in invoice and "    customer: Customer\n" in invoice
    assert "from gen_shop.models.customer import Customer" in invoice
    schema = (package / "schema.py").read_text()
    assert schema.count("from gen_shop import models, resolvers\n") == 1
    assert "QUERIES += resolvers.QUERIES\n" in schema
    assert (
        'packages = ["gen_shop", "gen_shop.models", "gen_shop.resolvers"]'
        in (project / "pyproject.toml").read_text()
    )


def test_the_project_is_lint_clean(project: Path) -> None:
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


async def test_the_generated_tests_pass_against_postgresql(project: Path, server_dsn: str) -> None:
    """``.ci/run`` → ``make test``: the DDL check, then every test, the generated ones too."""
    if shutil.which("make") is None or not (BIN / "fraiseql").exists():
        pytest.skip("needs make and the fraiseql script beside this interpreter")
    stamp = project / ".venv" / ".installed-stamp"  # the venv: this one, already installed
    stamp.parent.mkdir(exist_ok=True)
    stamp.touch()
    async with temporary_database(server_dsn) as dsn:
        env = _clean_env(
            FRAISEQL_TEST_DATABASE_URL=dsn, MAKEFLAGS=f"BIN={BIN}", PYTHONDONTWRITEBYTECODE="1"
        )
        result = await asyncio.to_thread(
            subprocess.run,
            [str(project / ".ci" / "run")],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "db/schema is up to date" in output
    # 3 for the notes of `fraiseql init`, 3 per model (CRUD, conflict, required), 2 for shout.
    assert "14 passed" in output, output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["model", "invoice", "a:str"], "invalid model name 'invoice': use PascalCase"),
        (["model", "Customer", "a:str"], "Customer exists already"),
        (["model", "Note", "a:str", "--force"], "in gen_shop.types; --force only replaces"),
        (["model", "Order", "total:Nothing"], "the known types are str, int, float, bool"),
        (["resolver", "notes"], "the query notes exists already (gen_shop.schema)"),
        (["resolver", "shout"], "pass --force to write it again"),
    ],
)
def test_refused_inputs_write_nothing(project: Path, arguments: list[str], message: str) -> None:
    before = snapshot(project)
    result = fraiseql(project, "generate", *arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
    assert snapshot(project) == before


def test_a_model_the_ddl_generator_refuses_is_undone(project: Path) -> None:
    before = snapshot(project)
    # Valid on the command line, but tb_<entity>_<column>_check would pass 63 characters.
    name = "AnEntityWithAVeryLongNameIndeed"
    result = fraiseql(project, "generate", "model", name, "with_a_long_column_name:str")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "longer than PostgreSQL's 63 characters" in result.stderr
    assert snapshot(project) == before


def test_force_writes_a_generated_model_again(project: Path) -> None:
    module = project / "gen_shop" / "models" / "customer.py"
    before = module.read_text()
    try:
        result = fraiseql(project, "generate", "model", "Customer", "name:str", "--force")
        assert result.returncode == 0, result.stderr
        assert "email" not in module.read_text()
        assert (
            fraiseql(project, "generate", "ddl", "gen_shop.schema:schema", "--check").returncode
            == 0
        )
    finally:
        result = fraiseql(project, "generate", "model", *MODELS[0], "--force")
        assert result.returncode == 0, result.stderr
    assert module.read_text() == before


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("Bad-Name", ["a:str"], "invalid model name"),
        ("None", ["a:str"], "a reserved word"),
        ("Query", ["a:str"], "a reserved word"),
        ("OrderInput", ["a:str"], "taken by the types FraiseQL derives"),
        ("Order", [], "needs at least one field"),
        ("Order", ["total:money"], "unknown type 'money' for field 'total'"),
        ("Order", ["a:str", "a:int"], "the field 'a' is given twice"),
        ("Order", ["class:str"], "a reserved word in Python or PostgreSQL"),
        ("Order", ["select:str"], "a reserved word in Python or PostgreSQL"),
        ("Order", ["id:uuid"], "the Trinity id"),
        ("Order", ["Total:int"], "invalid field name 'Total'"),
        ("Order", ["total"], "write each field as name:type"),
        ("Order", ["fk_x:int"], "pk_*, fk_*, v_* and input"),
        ("Order", ["a:Customer", "b:Customer?"], "both reference Customer"),
        ("Order", ["parent:Order"], "cannot reference itself"),
    ],
)
def test_a_bad_model_is_refused(name: str, fields: list[str], message: str) -> None:
    with pytest.raises(ModelSpecError) as raised:
        parse_model(name, fields, {"Customer"})
    assert message in str(raised.value)


@pytest.mark.parametrize("name", ["Shout", "9lives", "a__b", "class", "match", "x" * 41])
def test_a_bad_resolver_name_is_refused(name: str) -> None:
    with pytest.raises(ModelSpecError, match="invalid resolver name"):
        check_resolver_name(name)


def test_names_and_plurals() -> None:
    spec = parse_model("InvoiceLine", ["unit_price:decimal", "note:str?"], set())
    assert spec.entity == "invoice_line" and spec.plural == "invoice_lines"
    assert [(f.name, f.annotation) for f in spec.fields] == [
        ("unit_price", "Decimal"),
        ("note", "str | None"),
    ]
    assert [plural(w) for w in ("category", "day", "box", "status", "match")] == [
        "categories",
        "days",
        "boxes",
        "statuses",
        "matches",
    ]
    with pytest.raises(ModelSpecError, match="str, int, float, bool, decimal, date"):
        parse_model("Order", ["total:money"], set())
    assert set(FIELD_TYPES) == {
        "str",
        "int",
        "float",
        "bool",
        "decimal",
        "date",
        "datetime",
        "time",
        "uuid",
        "json",
        "email",
    }
