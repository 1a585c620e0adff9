"""Password hashing with bcrypt (no passlib)."""

from __future__ import annotations

import bcrypt

DEFAULT_ROUNDS = 12
BCRYPT_MAX_BYTES = 72


class PasswordRejected(ValueError):
    """The password can't be hashed as given; the message says why."""


def hash_password(password: str, *, rounds: int = DEFAULT_ROUNDS) -> str:
    raw = password.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        # bcrypt 5 refuses rather than truncates; say so in words
        raise PasswordRejected(f"password is longer than {BCRYPT_MAX_BYTES} bytes")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    raw = password.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, hashed.encode("ascii"))
    except ValueError:
        return False
