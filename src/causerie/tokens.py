"""Random identifiers and secrets, and how secrets are stored (always hashed).

Session tokens and API tokens carry 256 random bits, so a single SHA-256 is a sound way to store
them: no one can guess a preimage. Passwords are chosen by people and get argon2.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# argon2's, made at the first password hashed or checked (tests put a cheaper one here).
_hasher: PasswordHasher | None = None


def _password_hasher() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


# Base32 (RFC 4648, lower case) two characters at a time: 10 bits each.
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]


def new_id() -> str:
    """A public identifier: 120 random bits as 24 characters of [a-z2-7], never sequential:
    their base32 (`base64.b32encode`, lower case), spelt here in a fifth of its time (every
    message takes one): ten bits at a time, written out rather than looped over."""
    bits = int.from_bytes(os.urandom(15))  # what `secrets.token_bytes` reads, without its call
    p = _B32_PAIRS
    return (
        p[bits >> 110]
        + p[bits >> 100 & 1023]
        + p[bits >> 90 & 1023]
        + p[bits >> 80 & 1023]
        + p[bits >> 70 & 1023]
        + p[bits >> 60 & 1023]
        + p[bits >> 50 & 1023]
        + p[bits >> 40 & 1023]
        + p[bits >> 30 & 1023]
        + p[bits >> 20 & 1023]
        + p[bits >> 10 & 1023]
        + p[bits & 1023]
    )


def new_token() -> str:
    """A secret bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def derive(secret_key: str, purpose: str, value: str) -> str:
    """A value bound to this server and `purpose` (e.g. the CSRF token of a login): HMAC-SHA256."""
    message = f"{purpose}:{value}".encode()
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(password: str, stored_hash: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _password_hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A one-time password printed to an administrator: 16 characters, easy to copy."""
    return secrets.token_urlsafe(12)
