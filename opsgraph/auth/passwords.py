"""Password hashing, and the rules a new password must meet.

New hashes use the configured scheme: bcrypt (``bcrypt``, no passlib) at the configured
cost, or Argon2id (``argon2-cffi``, the reference implementation's bindings, with its
RFC 9106 low-memory parameters). Verification accepts both schemes, whatever is
configured; ``needs_rehash`` tells a login that a hash is of another scheme or cost, so
raising the cost or moving to Argon2id upgrades each password at its next sign-in.
"""

from __future__ import annotations

import asyncio
import re
from typing import Final

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError

DEFAULT_ROUNDS = 12
BCRYPT_MAX_BYTES = 72
BCRYPT: Final = "bcrypt"
ARGON2ID: Final = "argon2id"
SCHEMES: Final = (BCRYPT, ARGON2ID)
_BCRYPT_COST = re.compile(r"^\$2[abxy]?\$(\d{2})\$")
_ARGON2ID_PREFIX = "$argon2id$"
_argon2 = PasswordHasher()  # argon2-cffi's defaults: t=3, m=64 MiB, p=4


class PasswordRejected(ValueError):
    """The password can't be used as given; the message says why, in words for a person."""


def check_password(password: str, *, min_length: int) -> bytes:
    """The password as bcrypt takes it, or ``PasswordRejected``: shorter than ``min_length``
    characters, longer than bcrypt's 72 bytes (refused, never truncated), or holding a NUL
    byte (C bcrypt implementations stop at it; refused so every one agrees)."""
    if len(password) < min_length:
        raise PasswordRejected(f"password must be at least {min_length} characters")
    raw = _utf8(password)
    if len(raw) > BCRYPT_MAX_BYTES:
        raise PasswordRejected(
            f"password is longer than {BCRYPT_MAX_BYTES} bytes (in UTF-8); choose a shorter one"
        )
    if b"\x00" in raw:
        raise PasswordRejected("password must not contain a NUL character")
    return raw


def _utf8(password: str) -> bytes:
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot come from JSON text, but may from Python
        raise PasswordRejected("password is not valid Unicode text") from None


def hash_password(
    password: str, *, rounds: int = DEFAULT_ROUNDS, min_length: int = 0, scheme: str = BCRYPT
) -> str:
    """A new hash of the password in ``scheme`` (bcrypt at cost ``rounds``, or Argon2id)."""
    raw = check_password(password, min_length=min_length)
    if scheme == ARGON2ID:
        return _argon2.hash(raw)
    if scheme != BCRYPT:
        raise ValueError(f"unknown password scheme {scheme!r}")
    try:
        return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds)).decode("ascii")
    except ValueError as exc:  # whatever else this bcrypt refuses: the caller's input
        raise PasswordRejected(f"password cannot be used: {exc}") from None


async def hash_password_async(
    password: str, *, rounds: int, min_length: int, scheme: str = BCRYPT
) -> str:
    """``hash_password`` off the event loop: a bcrypt hash at cost 12 takes ~250 ms. The
    rules are checked first, on the loop, so a rejected password costs nothing."""
    check_password(password, min_length=min_length)
    return await asyncio.to_thread(
        hash_password, password, rounds=rounds, min_length=min_length, scheme=scheme
    )


def verify_password(password: str, hashed: str) -> bool:
    """Whether the password matches the hash, of either scheme."""
    try:
        raw = password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    if len(raw) > BCRYPT_MAX_BYTES:
        return False
    if hashed.startswith(_ARGON2ID_PREFIX):
        try:
            return _argon2.verify(hashed, raw)
        except Argon2Error:  # a mismatch, or a damaged hash
            return False
    try:
        return bcrypt.checkpw(raw, hashed.encode("ascii"))
    except ValueError:
        return False


def needs_rehash(hashed: str, *, scheme: str, rounds: int) -> bool:
    """Whether a (verified) hash differs from what ``hash_password`` makes now: another
    scheme, another bcrypt cost, or other Argon2id parameters."""
    if scheme == ARGON2ID:
        if not hashed.startswith(_ARGON2ID_PREFIX):
            return True
        try:
            return _argon2.check_needs_rehash(hashed)
        except InvalidHashError:
            return True
    cost = _BCRYPT_COST.match(hashed)
    return cost is None or int(cost.group(1)) != rounds
