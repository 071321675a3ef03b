"""A type's own ``requires=`` check, for root fields that reach types by their ids.

Fields are checked where the schema says which type they return; ``node``/``nodes`` (Relay)
and ``_entities`` (federation) return an interface or a union and learn the concrete type only
from the ids they are given, so they ask here, before any statement reads that type.
"""

from __future__ import annotations

import logging
from typing import Any

from fraiseql.execution.errors import FraiseQLError
from fraiseql.schema.model import TypeModel

logger = logging.getLogger("fraiseql.execution")


def check_type_allowed(model: TypeModel, context: dict[str, Any]) -> None:
    """Refuse a type whose ``requires`` check refuses the request (a failing check refuses)."""
    check = model.definition.requires
    if check is None:
        return
    try:
        allowed = bool(check(context))
    except Exception:
        logger.exception("authorization check of %s failed", model.name)
        allowed = False
    if not allowed:
        raise FraiseQLError(f"Not authorized to access {model.name}.", code="FORBIDDEN")
