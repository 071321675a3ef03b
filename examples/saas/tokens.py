"""The example's own token issuer: an Ed25519 key, JWTs signed with it, and their verifier.

Why Ed25519 (``EdDSA``) rather than an HS256 secret: the key that signs (held by the login
route) and the key that verifies (given to :class:`fraiseql.JWTAuth`) are different, so a
process or a service that only checks tokens never holds what could mint them, and the
public key can be published as it is. Ed25519 keys are small, signatures are deterministic,
and there is no parameter choice to get wrong.

The private key is made at the first start and kept, PEM (PKCS #8) with mode 0600, in the
example's data directory (``.fraiseql/saas-data/signing-key.pem`` for
``python -m examples.saas.serve``): tokens stay valid across restarts, and deleting the file
revokes every token at once. The ``kid`` header names the key (a hash of its public half).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from examples.saas.security import TENANT_SETTING, USER_SETTING

import fraiseql

ISSUER = "fraiseql-saas-example"
AUDIENCE = "fraiseql-saas-api"
ALGORITHM = "EdDSA"
DEFAULT_TTL = 3600
"""Tokens live an hour: a removed member keeps reading (never writing) until then at most."""

KEY_FILE = "signing-key.pem"


@dataclass(frozen=True)
class SigningKey:
    """The Ed25519 key pair the example signs its tokens with."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The half that verifies (what :class:`fraiseql.JWTAuth` gets)."""
        return self.private_key.public_key()

    @property
    def kid(self) -> str:
        """The key's id: the first 16 hex digits of the SHA-256 of the raw public key."""
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key, kept in memory only (tests)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, directory: Path) -> SigningKey:
        """The key of ``directory``, made (mode 0600) when there is none yet."""
        path = directory / KEY_FILE
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            return cls(loaded)
        key = cls.generate()
        directory.mkdir(parents=True, exist_ok=True)
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        return key

    def issue(
        self,
        *,
        member: uuid.UUID,
        organisation: uuid.UUID,
        role: str,
        ttl: float = DEFAULT_TTL,
        now: float | None = None,
    ) -> str:
        """A signed token for ``member`` of ``organisation`` with ``role``, valid ``ttl`` s."""
        issued = time.time() if now is None else now
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(member),
            "org": str(organisation),
            "role": role,
            "iat": int(issued),
            "exp": int(issued + ttl),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verifier(self) -> fraiseql.JWTAuth:
        """The authenticator of the GraphQL endpoint: tokens of this key, claims to settings.

        ``org`` becomes ``app.tenant_id`` (the tenant policies), ``sub`` ``app.user_id`` (the
        functions' role checks). The token's ``role`` is left in ``context["auth"].claims``
        for the ``requires=`` checks; it never chooses the database role.
        """
        return fraiseql.JWTAuth(
            public_key=self.public_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=5,
            required_claims=("exp", "sub", "org", "role"),
            claims={TENANT_SETTING: "org", USER_SETTING: "sub"},
        )
