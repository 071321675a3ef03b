"""The GIN index (and the optional stored vector column) of a searchable read model.

Both are written from :func:`fraiseql.sql.search.document_vector`, the expression the
statements use, so PostgreSQL matches the index to the ``@@`` condition: the two-argument
``to_tsvector('<config>'::regconfig, ...)`` is IMMUTABLE, which an index expression (and a
generated column) must be.
"""

from __future__ import annotations

from fraiseql.codegen.model import MAX_NAME, DDLDefinitionError, Entity, ident
from fraiseql.codegen.tables import ReadIndex
from fraiseql.schema.model import SchemaModel
from fraiseql.schema.refs import SchemaDefinitionError
from fraiseql.sql.search import declared_search, document_vector


def _vector(entity: Entity, schema: SchemaModel) -> str | None:
    model = entity.type_model
    search = declared_search(model)
    if search is None:
        return None
    try:
        return document_vector(schema, model, "data", search.language)
    except SchemaDefinitionError as error:
        raise DDLDefinitionError(str(error)) from None


def search_column(entity: Entity, schema: SchemaModel) -> tuple[str, str] | None:
    """``(name, definition)`` of the read model's stored vector column, when one is declared."""
    search = declared_search(entity.type_model)
    vector = _vector(entity, schema)
    if search is None or search.column is None or vector is None:
        return None
    if search.column in ("id", "identifier", "data"):
        raise DDLDefinitionError(
            f"{entity.type_model.cls.__qualname__}: Search(column={search.column!r}) would "
            "replace a column the read model already has"
        )
    return ident(search.column), f"tsvector GENERATED ALWAYS AS ({vector}) STORED"


def search_index(entity: Entity, schema: SchemaModel) -> ReadIndex | None:
    """The GIN index serving the type's searches: on the stored column, else the expression."""
    search = declared_search(entity.type_model)
    vector = _vector(entity, schema)
    if search is None or vector is None:
        return None
    name = f"{entity.read_model}_search_idx"
    if len(name) > MAX_NAME:
        raise DDLDefinitionError(f"{entity.type_model.cls.__qualname__}: {name!r} is too long")
    expression = ident(search.column) if search.column is not None else vector
    return ReadIndex(name, expression, "gin", ordering=False)
