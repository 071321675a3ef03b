"""TypeScript for a FraiseQL schema: its types, typed operations and TanStack Query hooks.

``generate_typescript(schema, documents, TypeScriptOptions(...))`` reads the schema model
(the graphql-core schema built from the declarations, never a database) and the client's
``.graphql`` documents; ``fraiseql codegen typescript`` is its command line (see
``docs/guides/typescript.md``).
"""

from fraiseql.codegen.typescript.documents import DocumentError, find_document_files
from fraiseql.codegen.typescript.generator import TypeScriptOptions, generate_typescript
from fraiseql.codegen.typescript.scalars import (
    DEFAULT_SCALARS,
    ScalarOptionError,
    parse_scalar_options,
)

__all__ = [
    "DEFAULT_SCALARS",
    "DocumentError",
    "ScalarOptionError",
    "TypeScriptOptions",
    "find_document_files",
    "generate_typescript",
    "parse_scalar_options",
]
