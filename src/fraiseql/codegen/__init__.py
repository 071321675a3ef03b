"""Code generated from the schema model (never from a live database).

:func:`generate_ddl` writes the PostgreSQL DDL of the declared types: ``tb_*`` write tables
with Trinity columns, ``tv_*`` read models, the ``v_tv_*`` views defining them, their
``fn_sync_tv_*`` functions, write functions honouring the mutation contract, indexes, and
row-level security when asked (see ``docs/guides/ddl.md``).
"""

from fraiseql.codegen.ddl import GENERATED_MARK, check_ddl, generate_ddl, write_ddl
from fraiseql.codegen.model import DDLDefinitionError, TenantOptions

__all__ = [
    "GENERATED_MARK",
    "DDLDefinitionError",
    "TenantOptions",
    "check_ddl",
    "generate_ddl",
    "write_ddl",
]
