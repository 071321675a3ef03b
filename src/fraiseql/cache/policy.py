"""``CachePolicy``: how long a root field's (or a type's) responses may be served from cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CacheScope = Literal["claims", "private"]


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How a response that reads this field (or type) may be cached.

    ``ttl`` seconds fresh, then ``stale_while_revalidate`` seconds during which the old
    response is still served while one request refreshes it in the background. ``scope``:
    ``"claims"`` (the default) shares an entry between requests with the same database
    settings (role, tenant claims, timeout); ``"private"`` also keys it by the user (the
    cache's ``user_key`` of the context; a request without a user is not cached).
    """

    ttl: float
    stale_while_revalidate: float = 0.0
    scope: CacheScope = "claims"

    def __post_init__(self) -> None:
        if not self.ttl > 0:
            raise ValueError("CachePolicy.ttl must be a positive number of seconds")
        if self.stale_while_revalidate < 0:
            raise ValueError("CachePolicy.stale_while_revalidate must not be negative")
        if self.scope not in ("claims", "private"):
            raise ValueError(f"CachePolicy.scope must be 'claims' or 'private', not {self.scope!r}")


def combined(policies: list[CachePolicy]) -> CachePolicy | None:
    """The policy of an operation reading fields with ``policies``: the strictest of them."""
    if not policies:
        return None
    return CachePolicy(
        ttl=min(policy.ttl for policy in policies),
        stale_while_revalidate=min(policy.stale_while_revalidate for policy in policies),
        scope="private" if any(p.scope == "private" for p in policies) else "claims",
    )
