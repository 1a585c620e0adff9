"""Password hashing with bcrypt (no passlib), and the rules a new password must meet."""

from __future__ import annotations

import asyncio

import bcrypt

DEFAULT_ROUNDS = 12
BCRYPT_MAX_BYTES = 72


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


def hash_password(password: str, *, rounds: int = DEFAULT_ROUNDS, min_length: int = 0) -> str:
    raw = check_password(password, min_length=min_length)
    try:
        return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds)).decode("ascii")
    except ValueError as exc:  # whatever else this bcrypt refuses: the caller's input
        raise PasswordRejected(f"password cannot be used: {exc}") from None


async def hash_password_async(password: str, *, rounds: int, min_length: int) -> str:
    """``hash_password`` off the event loop: a bcrypt hash at cost 12 takes ~250 ms. The
    rules are checked first, on the loop, so a rejected password costs nothing."""
    check_password(password, min_length=min_length)
    return await asyncio.to_thread(hash_password, password, rounds=rounds, min_length=min_length)


def verify_password(password: str, hashed: str) -> bool:
    try:
        raw = password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    if len(raw) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, hashed.encode("ascii"))
    except ValueError:
        return False
