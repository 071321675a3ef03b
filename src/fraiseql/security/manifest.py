"""Trusted documents: the manifest graphql-codegen's client preset writes.

With ``presetConfig: {persistedDocuments: true}`` the client preset writes
``persisted-documents.json``: one JSON object mapping each document's hash to its text (the
normalized, printed document the client will name by that hash)::

    {"b2c3...": "query Posts { posts { id } }", ...}

The hash is the hex digest of the text; SHA-1 by default (``hashAlgorithm: 'sha1'``), SHA-256
with ``hashAlgorithm: 'sha256'``. Keys written as ``sha256:<hex>`` (the GraphQL-over-HTTP
persisted documents appendix) are accepted too. Each hash is verified when the manifest loads.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from typing import Literal

import orjson

HashAlgorithm = Literal["auto", "sha1", "sha256"]

_HEX = re.compile(r"[0-9a-f]+")
_LENGTHS = {40: "sha1", 64: "sha256"}


class ManifestError(ValueError):
    """A manifest that cannot be trusted: unreadable, malformed, or a hash that does not match."""


def manifest_documents(
    manifest: Mapping[str, object], *, algorithm: HashAlgorithm = "auto", source: str = "manifest"
) -> dict[str, str]:
    """The verified ``{id: document}`` of a decoded manifest (ids lower case, prefix kept off).

    ``algorithm="auto"`` tells SHA-1 and SHA-256 apart by the digest's length. Raises
    :class:`ManifestError` naming the first entry that is not a string, not a hex digest, or
    not the hash of its document.
    """
    documents: dict[str, str] = {}
    for key, text in manifest.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise ManifestError(f"{source}: entry {key!r} must map a hash to a document string")
        digest = key.lower()
        named = algorithm
        if digest.startswith("sha256:"):
            digest, named = digest[len("sha256:") :], "sha256"
        if not _HEX.fullmatch(digest):
            raise ManifestError(f"{source}: {key!r} is not a hex digest")
        expected = _LENGTHS.get(len(digest)) if named == "auto" else named
        if expected is None or (named != "auto" and _LENGTHS.get(len(digest)) != named):
            raise ManifestError(f"{source}: {key!r} is not a SHA-1 or SHA-256 hex digest")
        actual = hashlib.new(expected, text.encode()).hexdigest()
        if actual != digest:
            raise ManifestError(
                f"{source}: the document under {key!r} does not match its hash "
                f"({expected} of the text is {actual})"
            )
        documents[digest] = text
    return documents


def load_manifest(
    path: str | os.PathLike[str], *, algorithm: HashAlgorithm = "auto"
) -> dict[str, str]:
    """Read and verify a ``persisted-documents.json`` file (see :func:`manifest_documents`)."""
    try:
        with open(path, "rb") as file:
            decoded = orjson.loads(file.read())
    except OSError as error:
        raise ManifestError(f"{os.fspath(path)}: cannot read the manifest: {error}") from None
    except orjson.JSONDecodeError as error:
        raise ManifestError(f"{os.fspath(path)}: the manifest is not JSON: {error}") from None
    if not isinstance(decoded, dict):
        raise ManifestError(f"{os.fspath(path)}: the manifest must be a JSON object")
    return manifest_documents(decoded, algorithm=algorithm, source=os.fspath(path))
