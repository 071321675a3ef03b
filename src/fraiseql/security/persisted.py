"""Persisted queries: pre-registered documents, allow-list mode, and automatic registration.

Clients send ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`` with or
without the query text (Apollo's protocol, used by Apollo Client's and urql's persisted-query
links), or a top-level ``documentId`` (graphql-codegen's client preset with
``persistedDocuments``, and the GraphQL-over-HTTP persisted documents appendix).

- Pre-registered documents (given to :class:`PersistedQueries`, or loaded from a trusted
  documents manifest with :meth:`PersistedQueries.from_manifest`) are looked up by hash.
- ``allow_only=True``: only pre-registered documents run at all, so a production API answers
  only the operations its own clients were built with; nothing is ever registered at run time.
- ``automatic=True`` (Automatic Persisted Queries): a request with the text and its hash
  registers the document, once it parsed and validated, in a bounded store
  (:mod:`fraiseql.security.apq`); later requests may send the hash alone.

An unknown hash is answered with Apollo's ``PersistedQueryNotFound`` error (code
``PERSISTED_QUERY_NOT_FOUND``), which makes those clients send the text again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fraiseql.execution.outcome import GraphQLRequest, RequestError
from fraiseql.security.apq import MemoryPersistedStore, PersistedStore
from fraiseql.security.manifest import HashAlgorithm, load_manifest, manifest_documents

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_DOCUMENT_ID = re.compile(r"(?:sha256:)?([0-9a-f]{40}|[0-9a-f]{64})")

NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
"""Apollo's message for an unknown hash; clients match it (and the code) to resend the text."""


def document_hash(query: str) -> str:
    """The SHA-256 hex digest clients use to name a document."""
    return hashlib.sha256(query.encode()).hexdigest()


def _error(message: str, code: str) -> RequestError:
    return RequestError([{"message": message, "extensions": {"code": code}}])


def _not_found() -> RequestError:
    return _error(NOT_FOUND_MESSAGE, "PERSISTED_QUERY_NOT_FOUND")


def _requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The verified-format ``sha256Hash`` of a request's ``persistedQuery`` extension, if any."""
    extension: Any = (extensions or {}).get("persistedQuery")
    if extension is None:
        return None
    if not isinstance(extension, dict):
        raise _error("extensions.persistedQuery must be an object.", "BAD_REQUEST")
    digest = extension.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest.lower()):
        raise _error("persistedQuery needs a sha256Hash of 64 hex digits.", "BAD_REQUEST")
    version = extension.get("version", 1)
    if type(version) is not int or version != 1:
        raise _error(
            "Unsupported persisted query version: only version 1 is supported.", "BAD_REQUEST"
        )
    return digest.lower()


class PersistedQueries:
    """Registered documents by hash, whether only they may run, and automatic registration.

    ``documents`` are document texts, or a mapping of SHA-256 hex digests to texts (each digest
    is verified). ``automatic`` turns Automatic Persisted Queries on: ``True`` for an in-process
    :class:`~fraiseql.security.apq.MemoryPersistedStore` (10 000 documents, 64 MiB), or a store
    of your own (such as :class:`~fraiseql.security.apq.SharedPersistedStore` over Redis). It
    cannot be combined with ``allow_only``, whose point is that nothing else runs.
    """

    def __init__(
        self,
        documents: Iterable[str] | Mapping[str, str] = (),
        *,
        allow_only: bool = False,
        automatic: bool | PersistedStore = False,
    ) -> None:
        self.documents: dict[str, str]
        """Pre-registered documents by their SHA-256 hex digest."""
        if isinstance(documents, Mapping):
            self.documents = dict(documents)
            for digest, query in self.documents.items():
                if document_hash(query) != digest:
                    raise ValueError(f"persisted query {digest[:12]}... does not match its hash")
        else:
            self.documents = {document_hash(query): query for query in documents}
        self.ids: dict[str, str] = dict(self.documents)
        """Documents by the ids clients send as ``documentId`` (manifest hashes, SHA-256)."""
        self.allow_only = allow_only
        if allow_only and automatic is not False:
            raise ValueError(
                "allow_only and automatic cannot be combined: in allow-list mode only "
                "pre-registered documents run, so none may register at run time"
            )
        self.store: PersistedStore | None
        if automatic is True:
            self.store = MemoryPersistedStore()
        elif automatic is False:
            self.store = None
        else:
            self.store = automatic

    @classmethod
    def from_manifest(
        cls,
        manifest: str | os.PathLike[str] | Mapping[str, object],
        *,
        allow_only: bool = False,
        automatic: bool | PersistedStore = False,
        algorithm: HashAlgorithm = "auto",
    ) -> PersistedQueries:
        """Pre-register the documents of a trusted documents manifest (a path, or its content).

        The manifest is graphql-codegen's ``persisted-documents.json`` (see
        :mod:`fraiseql.security.manifest`); a hash that does not match its document raises
        :class:`~fraiseql.security.manifest.ManifestError` naming it.
        """
        if isinstance(manifest, Mapping):
            trusted = manifest_documents(manifest, algorithm=algorithm)
        else:
            trusted = load_manifest(manifest, algorithm=algorithm)
        persisted = cls(trusted.values(), allow_only=allow_only, automatic=automatic)
        persisted.ids.update(trusted)
        return persisted

    def resolve(self, request: GraphQLRequest) -> str:
        """The document text of a request; :class:`RequestError` when it may not run."""
        digest = _requested_hash(request.extensions)
        query = request.query
        document_id = request.document_id
        if document_id is not None:
            if query is not None or digest is not None:
                raise _error(
                    "Send documentId alone, without query or persistedQuery.", "BAD_REQUEST"
                )
            return self._by_id(document_id)
        if query is None:
            if digest is None:
                raise _error("Must provide a query string.", "BAD_REQUEST")
            known = self.documents.get(digest)
            if known is None and self.store is not None:
                known = self.store.get(digest)
            if known is None:
                raise _not_found()
            return known
        if digest is not None and document_hash(query) != digest:
            raise _error("The query does not match its sha256Hash.", "BAD_REQUEST")
        if self.allow_only and document_hash(query) not in self.documents:
            raise _error(
                "Only registered queries may run on this server.", "PERSISTED_QUERY_REQUIRED"
            )
        return query

    def register(self, request: GraphQLRequest, query: str) -> None:
        """Register the document of an APQ request (text and hash) once it parsed and validated.

        The executor calls this after :meth:`resolve` accepted the request and the document
        passed the query limits and validation, so junk never takes a place in the store.
        """
        if self.store is None or request.query is None or not request.extensions:
            return
        if not isinstance(request.extensions.get("persistedQuery"), dict):
            return
        digest = document_hash(query)
        if digest not in self.documents:
            self.store.put(digest, query)

    def _by_id(self, document_id: str) -> str:
        match = _DOCUMENT_ID.fullmatch(document_id.lower())
        if match is None:
            raise _error(
                "documentId must be a SHA-1 or SHA-256 hex digest (optionally 'sha256:<hex>').",
                "BAD_REQUEST",
            )
        key = match.group(1)
        known = self.ids.get(key)
        if known is None and self.store is not None and len(key) == 64:
            known = self.store.get(key)
        if known is None:
            raise _not_found()
        return known
