"""A user's account after it exists: profile changes (userUpdate), the password, activation
and roles. Creating users and the shared checks are in ``services.user``.

Every function flushes, never commits: the caller owns the transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.passwords import hash_password_async, verify_password
from opsgraph.auth.principal import Principal
from opsgraph.errors import Conflict, DomainError, InvalidInput, InvalidState, NotFound
from opsgraph.graph.names import name_of
from opsgraph.models import RefreshToken, Role, User, UserRole
from opsgraph.permissions import Permission
from opsgraph.services.audit import audit
from opsgraph.services.checks import InputChecks, checked_email
from opsgraph.services.customer_access import lock_customer
from opsgraph.services.patch import KEEP, Patch, required
from opsgraph.services.role import admins_kept
from opsgraph.services.rows import locked
from opsgraph.services.user import (
    actor_fields,
    check_free,
    check_full_name,
    check_new_password,
    unique_clash,
)
from opsgraph.settings import Settings


class WrongPassword(DomainError):
    """``userChangePassword`` for oneself with a wrong current password."""

    code = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("The current password is wrong.", field=["currentPassword"])


async def _user_for_update(session: AsyncSession, user_id: int, *, field: str = "id") -> User:
    return await locked(session, User, user_id, field=field)


async def _end_sessions(
    session: AsyncSession, user_id: int, *, keep: uuid.UUID | None = None
) -> int:
    """Revoke the user's refresh-token families (all but ``keep``); how many tokens."""
    statement = (
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    if keep is not None:
        statement = statement.where(RefreshToken.family_id != keep)
    result: Any = await session.execute(statement)
    return int(result.rowcount or 0)


async def update_user(
    session: AsyncSession,
    *,
    user_id: int,
    email: Patch[str | None] = KEEP,
    full_name: Patch[str | None] = KEEP,
    customer_id: Patch[int | None] = KEEP,
    actor: Principal,
) -> User:
    """``userUpdate``: one's own email and full name (neither can be null), or anyone's
    with ``user:admin``; the link to a customer (``customer_id``; None: unlinked) only with
    ``user:admin``."""
    if user_id != actor.user_id or customer_id is not KEEP:
        actor.require(Permission.USER_ADMIN)
    checks = InputChecks()  # every broken input rule at once
    with checks:
        given_email = required(email, field="email")
        address = KEEP if given_email is KEEP else checked_email(given_email)
    with checks:
        given_name = required(full_name, field="fullName")
        name = KEEP if given_name is KEEP else check_full_name(given_name)
    checks.done()
    user = await _user_for_update(session, user_id)
    changes: dict[str, Any] = {}
    if customer_id is not KEEP and customer_id != user.customer_id:
        if customer_id is not None:
            await lock_customer(session, customer_id)
        changes["customer_id"] = {"from": user.customer_id, "to": customer_id}
        user.customer_id = customer_id
    if address is not KEEP and address != user.email:
        await check_free(session, username=None, email=address, other_than=user.id)
        changes["email"] = {"from": user.email, "to": address}
        user.email = address
    if name is not KEEP and name != user.full_name:
        changes["full_name"] = {"from": user.full_name, "to": name}
        user.full_name = name
    if changes:
        try:
            await session.flush()
        except IntegrityError as exc:
            raise unique_clash(exc, None, user.email) from None
        audit(
            session,
            "user.update",
            entity_type="User",
            entity_id=user.id,
            changes=changes,
            **actor_fields(actor),
        )
        await session.flush()
    return user


async def change_password(
    session: AsyncSession,
    *,
    user_id: int,
    new_password: str,
    current_password: str | None = None,
    actor: Principal,
    settings: Settings,
    keep_session: uuid.UUID | None = None,
) -> User:
    """``userChangePassword``. For oneself the current password is required (and checked
    with one bcrypt comparison); an actor with ``user:admin`` sets another user's without
    it. The user's other signed-in sessions end (for oneself, all but ``keep_session``)."""
    own = user_id == actor.user_id
    if not own:
        actor.require(Permission.USER_ADMIN)
    check_new_password(new_password, settings.password_min_length, field="newPassword")
    user = await _user_for_update(session, user_id)
    if own:
        if current_password is None:
            raise InvalidInput("give your current password to change it", field=["currentPassword"])
        if not await asyncio.to_thread(verify_password, current_password, user.password_hash):
            raise WrongPassword()
    user.password_hash = await hash_password_async(
        new_password,
        rounds=settings.bcrypt_rounds,
        min_length=settings.password_min_length,
        scheme=settings.password_scheme,
    )
    ended = await _end_sessions(session, user.id, keep=keep_session if own else None)
    audit(
        session,
        "user.password_change",
        entity_type="User",
        entity_id=user.id,
        changes={"by_admin": not own, "refresh_tokens_revoked": ended},
        **actor_fields(actor),
    )
    await session.flush()
    return user


async def set_user_active(
    session: AsyncSession, *, user_id: int, active: bool, actor: Principal
) -> User:
    """``userActivate`` / ``userDeactivate`` (``user:admin``). A deactivated user's access
    tokens and API keys stop working on the next request (every request checks), and
    their refresh tokens are revoked. The last active administrator stays active."""
    actor.require(Permission.USER_ADMIN)
    async with admins_kept(session):
        user = await _user_for_update(session, user_id)
        if user.is_active == active:
            state = "active" if active else "inactive"
            raise InvalidState(f"{name_of(user)} is already {state}", field=["id"])
        user.is_active = active
        ended = 0 if active else await _end_sessions(session, user.id)
    audit(
        session,
        "user.activate" if active else "user.deactivate",
        entity_type="User",
        entity_id=user.id,
        changes={"username": user.username, "refresh_tokens_revoked": ended},
        **actor_fields(actor),
    )
    await session.flush()
    return user


async def _role_named(session: AsyncSession, name: str) -> Role:
    role = await session.scalar(select(Role).where(Role.name == name.strip().lower()))
    if role is None:
        raise NotFound(f"no role named {name!r}", field=["role"])
    return role


async def _holds(session: AsyncSession, user_id: int, role_id: int) -> bool:
    found = await session.scalar(
        select(UserRole.user_id).where(UserRole.user_id == user_id, UserRole.role_id == role_id)
    )
    return found is not None


async def assign_role(session: AsyncSession, *, user_id: int, role: str, actor: Principal) -> User:
    """``userAssignRole`` (``user:admin``): give the user the role named ``role``."""
    actor.require(Permission.USER_ADMIN)
    user = await _user_for_update(session, user_id, field="userId")
    found = await _role_named(session, role)
    if await _holds(session, user.id, found.id):
        raise Conflict(f"user {user.username!r} already holds role {found.name!r}", field=["role"])
    session.add(UserRole(user_id=user.id, role_id=found.id))
    try:
        await session.flush()
    except IntegrityError:  # the role was deleted meanwhile
        raise NotFound(f"no role named {role!r}", field=["role"]) from None
    audit(
        session,
        "user.role_assign",
        entity_type="User",
        entity_id=user.id,
        changes={"username": user.username, "role": found.name},
        **actor_fields(actor),
    )
    await session.flush()
    return user


async def remove_role(session: AsyncSession, *, user_id: int, role: str, actor: Principal) -> User:
    """``userRemoveRole`` (``user:admin``). Refused when it would take ``user:admin`` from
    the last active user holding it."""
    actor.require(Permission.USER_ADMIN)
    async with admins_kept(session):
        user = await _user_for_update(session, user_id, field="userId")
        found = await _role_named(session, role)
        removed = await session.execute(
            delete(UserRole).where(UserRole.user_id == user.id, UserRole.role_id == found.id)
        )
        if not getattr(removed, "rowcount", 0):
            raise InvalidState(
                f"user {user.username!r} doesn't hold role {found.name!r}", field=["role"]
            )
    audit(
        session,
        "user.role_remove",
        entity_type="User",
        entity_id=user.id,
        changes={"username": user.username, "role": found.name},
        **actor_fields(actor),
    )
    await session.flush()
    return user
