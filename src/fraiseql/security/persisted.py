"""Persisted queries and allow-list mode.

Clients send ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`` with or
without the query text (the format Apollo clients use). Registered documents are looked up by
hash; in allow-list mode only registered documents run at all, so a production API answers only
the operations its own clients were built with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from fraiseql.execution.outcome import GraphQLRequest, RequestError


def document_hash(query: str) -> str:
    """The SHA-256 hex digest clients use to name a document."""
    return hashlib.sha256(query.encode()).hexdigest()


def _error(message: str, code: str) -> RequestError:
    return RequestError([{"message": message, "extensions": {"code": code}}])


class PersistedQueries:
    """Registered documents by hash, and whether only they may run."""

    def __init__(
        self, documents: Iterable[str] | Mapping[str, str] = (), *, allow_only: bool = False
    ) -> None:
        if isinstance(documents, Mapping):
            self.documents = dict(documents)
            for digest, query in self.documents.items():
                if document_hash(query) != digest:
                    raise ValueError(f"persisted query {digest[:12]}... does not match its hash")
        else:
            self.documents = {document_hash(query): query for query in documents}
        self.allow_only = allow_only

    def resolve(self, request: GraphQLRequest) -> str:
        """The document text of a request; :class:`RequestError` when it may not run."""
        extension: Any = (request.extensions or {}).get("persistedQuery")
        digest = None
        if extension is not None:
            digest = extension.get("sha256Hash") if isinstance(extension, dict) else None
            if not isinstance(digest, str) or len(digest) != 64:
                raise _error("persistedQuery needs a sha256Hash of 64 hex digits.", "BAD_REQUEST")
            if extension.get("version", 1) != 1:
                raise _error("Only version 1 of persistedQuery is supported.", "BAD_REQUEST")
        query = request.query
        if query is None:
            if digest is None:
                raise _error("Must provide a query string.", "BAD_REQUEST")
            known: str | None = self.documents.get(digest.lower())
            if known is None:
                raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            return known
        if digest is not None and document_hash(query) != digest.lower():
            raise _error("The query does not match its sha256Hash.", "BAD_REQUEST")
        if self.allow_only and document_hash(query) not in self.documents:
            raise _error(
                "Only registered queries may run on this server.", "PERSISTED_QUERY_REQUIRED"
            )
        return query
