"""Password hashing with the standard library's scrypt (RFC 7914).

A hash is the text ``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and key in unpadded urlsafe
base64), so that the cost parameters can be raised later without breaking stored hashes.
Verification recomputes the key with the stored parameters and compares in constant time.
Passwords are never logged, stored or returned in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1
"""The cost: 16 MiB of memory and about 50 ms per hash (n = 2^14, r = 8, p = 1)."""

KEY_LENGTH = 32
SALT_LENGTH = 16
MAX_PASSWORD_LENGTH = 1024
"""Longer passwords are refused before hashing (bounded work per login attempt)."""
MIN_PASSWORD_LENGTH = 8

_MAX_N = 2**18  # a stored hash may not ask for more than this much work


class PasswordError(ValueError):
    """A password that cannot be accepted (too short, too long, not text)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_password(password: object) -> str:
    """``password`` if it is acceptable for a new account, else :class:`PasswordError`."""
    if not isinstance(password, str):
        raise PasswordError("the password must be a string")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordError(f"the password has more than {MAX_PASSWORD_LENGTH} characters")
    return password


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * r * n, dklen=KEY_LENGTH
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``password`` (a fresh random salt unless one is given)."""
    salt = os.urandom(SALT_LENGTH) if salt is None else salt
    key = _derive(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


_DUMMY = hash_password("not the password of anybody", salt=b"\0" * SALT_LENGTH)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the ``stored`` hash.

    With ``stored`` ``None`` (no such account) a hash is still computed, so that an unknown
    email takes as long to refuse as a wrong password. A malformed hash never matches.
    """
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if stored is None:
        verify_password(password, _DUMMY)
        return False
    try:
        scheme, n_text, r_text, p_text, salt_text, key_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, key = _unb64(salt_text), _unb64(key_text)
    except ValueError:
        return False
    if scheme != "scrypt" or not (1 < n <= _MAX_N and 0 < r <= 16 and 0 < p <= 4):
        return False
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)
