"""Secrets at rest (Zalo OA access and refresh tokens): a column type that stores Fernet
(AES-128-CBC + HMAC-SHA256) ciphertext, keyed from the environment — TOCNS_SECRET_KEY, or else
derived from the OA app secret, which lives only in the environment. A copy of the database or a
backup alone reveals no token.

The key is set by bot/ when it reads the Zalo OA settings (`use_key`); rows written before
encryption (plain text) are still read, and sealed on their next write."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "fernet:"
_KEY: list[Fernet] = []  # set once by bot/ at start-up (the only place that reads configuration)


def derive_key(material: str) -> bytes:
    """A Fernet key from any secret string (a given Fernet key is used as is)."""
    try:
        Fernet(material.encode())
        return material.encode()
    except (ValueError, TypeError):
        digest = hashlib.sha256(b"tocns-secrets-at-rest:" + material.encode()).digest()
        return base64.urlsafe_b64encode(digest)


def use_key(material: str) -> None:
    _KEY[:] = [Fernet(derive_key(material))]


def seal(plain: str) -> str:
    if not _KEY:
        raise RuntimeError("no key for secrets at rest: set TOCNS_SECRET_KEY (or the Zalo OA settings)")
    return PREFIX + _KEY[0].encrypt(plain.encode()).decode()


def unseal(stored: str) -> str | None:
    """The plain value; None when it cannot be read with the current key (log in again)."""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption
    if not _KEY:
        return None
    try:
        return _KEY[0].decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        return None


class SealedText(TypeDecorator[str]):
    """Text encrypted in the database, plain in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(value)
