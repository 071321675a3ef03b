"""The roles of a member, and the ``requires=`` checks built on them.

The checks read the ``role`` claim of the verified token (``context["auth"]``, set by
:class:`fraiseql.JWTAuth`): they refuse a request in the GraphQL layer, before any SQL. The
SQL functions and policies check the role again, from ``tb_member`` (see
``db/schema/40_functions/02_tenancy.sql``), so a stale token or SQL run outside GraphQL gets
no further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fraiseql.security.auth import AuthInfo

RANKS = {"member": 1, "admin": 2, "owner": 3}
"""Each role with its rank: an owner may do what an admin may, an admin what a member may."""


def caller_role(context: Mapping[str, Any]) -> str | None:
    """The role claim of the request's token, ``None`` without a (valid) one."""
    info = context.get("auth")
    if not isinstance(info, AuthInfo) or info.anonymous:
        return None
    role = info.claims.get("role")
    return role if isinstance(role, str) and role in RANKS else None


def at_least(role: str) -> Callable[[dict[str, Any]], bool]:
    """A ``requires=`` check: the caller's role ranks at least as high as ``role``."""
    rank = RANKS[role]

    def check(context: dict[str, Any]) -> bool:
        caller = caller_role(context)
        return caller is not None and RANKS[caller] >= rank

    check.__name__ = f"at_least_{role}"
    check.__doc__ = f"Whether the caller is at least {role}."
    return check


IS_MEMBER = at_least("member")
IS_ADMIN = at_least("admin")
IS_OWNER = at_least("owner")
