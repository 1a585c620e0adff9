"""Users: creation rules shared by the CLI, the bootstrap admin and (later) the API."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.passwords import PasswordRejected, hash_password
from opsgraph.errors import Conflict, InvalidInput
from opsgraph.models import Role, User, UserRole
from opsgraph.services.role import ensure_builtin_roles
from opsgraph.settings import Settings

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10


def normalise_email(raw: str, *, field: str = "email") -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"email {raw!r} is not valid: {exc}", field=[field]) from None


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    roles: list[str],
    password_rounds: int = 12,
    min_password_length: int = MIN_PASSWORD_LENGTH,
) -> User:
    name = username.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            "username must be 2-64 characters: letters, digits, '.', '_' or '-'",
            field=["username"],
        )
    address = normalise_email(email)
    if len(password) < min_password_length:
        raise InvalidInput(
            f"password must be at least {min_password_length} characters", field=["password"]
        )
    try:
        hashed = hash_password(password, rounds=password_rounds)
    except PasswordRejected as exc:
        raise InvalidInput(str(exc), field=["password"]) from None
    clash = await session.scalar(
        select(User.username).where(or_(User.username == name, func.lower(User.email) == address))
    )
    if clash is not None:
        raise Conflict(f"a user with username {name!r} or email {address!r} already exists")
    role_ids = await ensure_builtin_roles(session)
    unknown = [role for role in roles if role not in role_ids]
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(unknown)}", field=["roles"])
    user = User(username=name, email=address, password_hash=hashed)
    session.add(user)
    await session.flush()
    session.add_all(UserRole(user_id=user.id, role_id=role_ids[role]) for role in roles)
    await session.flush()
    return user


async def ensure_bootstrap_admin(
    session: AsyncSession, *, username: str, email: str, password: str, settings: Settings
) -> bool:
    """Create the configured first admin when no user holds the admin role; True if made.
    Start-ups of several workers take turns on an advisory lock."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('opsgraph:bootstrap'))"))
    has_admin = await session.scalar(
        select(UserRole.user_id).join(Role, Role.id == UserRole.role_id).where(Role.name == "admin")
    )
    if has_admin is not None:
        return False
    await create_user(
        session,
        username=username,
        email=email,
        password=password,
        roles=["admin"],
        password_rounds=settings.bcrypt_rounds,
        min_password_length=settings.password_min_length,
    )
    return True
