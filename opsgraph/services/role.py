"""Roles and their permission sets: the built-in roles, roleCreate/roleUpdate/roleDelete,
and the rule that some active user always keeps ``user:admin``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.permissions import BUILTIN_ROLES, PERMISSIONS, PORTAL_SCOPED
from opsgraph.auth.principal import Principal
from opsgraph.errors import Conflict, InvalidInput, InvalidState
from opsgraph.models import Role, RolePermission, User, UserRole
from opsgraph.permissions import Permission
from opsgraph.services.audit import audit
from opsgraph.services.checks import InputChecks, checked_text
from opsgraph.services.patch import KEEP, Patch, mapped, required
from opsgraph.services.rows import locked

ROLE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
MAX_DESCRIPTION = 1000
ADMIN_ROLE = "admin"
ADMIN_PERMISSION = Permission.USER_ADMIN
# taken by every change that could leave no administrator, so two of them can't race
ADMINS_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('opsgraph:admins'))")


class RoleInUse(Conflict):
    """``roleDelete`` of a role some user still holds."""

    code = "ROLE_IN_USE"


class LastAdmin(InvalidState):
    """A change that would leave no active user with ``user:admin``."""

    code = "LAST_ADMIN"

    def __init__(self) -> None:
        super().__init__(
            "this would leave no active user with the permission user:admin; "
            "make another user an administrator first"
        )


async def ensure_builtin_roles(session: AsyncSession) -> dict[str, int]:
    """Create any missing built-in role with its permissions; return every role's id by name.

    Existing roles keep their permissions, even an emptied set: an operator's edits are
    never undone.
    """
    created = await session.execute(
        insert(Role)
        .values([{"name": name, "description": desc} for name, (desc, _) in BUILTIN_ROLES.items()])
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(Role.name, Role.id)
    )
    rows = [
        {"role_id": role_id, "permission": permission}
        for name, role_id in created
        for permission in sorted(BUILTIN_ROLES[name][1])
    ]
    if rows:
        await session.execute(insert(RolePermission).on_conflict_do_nothing(), rows)
    ids = {row.name: row.id for row in await session.execute(select(Role.name, Role.id))}
    await session.flush()
    return ids


def list_permissions() -> list[str]:
    """Every permission there is, sorted."""
    return sorted(PERMISSIONS)


def checked_permissions(given: Iterable[str], *, field: str = "permissions") -> list[str]:
    """The distinct permissions given, sorted; ``InvalidInput`` naming any unknown one."""
    wanted = sorted({permission.strip() for permission in given})
    unknown = [permission for permission in wanted if permission not in PERMISSIONS]
    if unknown:
        raise InvalidInput(f"unknown permissions: {', '.join(unknown)}", field=[field])
    return wanted


def check_grantable(permissions: Iterable[str], actor: Principal, *, field: str) -> None:
    """Nobody hands out a permission they don't hold themselves (roles, API key scopes);
    ``portal:scoped`` only narrows what a role's holders see, so anyone may give it."""
    beyond = sorted(set(permissions) - actor.permissions - {PORTAL_SCOPED})
    if beyond:
        raise InvalidInput(
            f"you can't grant permissions you don't hold: {', '.join(beyond)}", field=[field]
        )


async def holds_portal_role(session: AsyncSession, user_id: int) -> bool:
    """Whether one of the user's roles makes it a customer-portal user (``portal:scoped``)."""
    found = await session.scalar(
        select(UserRole.user_id)
        .join(RolePermission, RolePermission.role_id == UserRole.role_id)
        .where(UserRole.user_id == user_id, RolePermission.permission == PORTAL_SCOPED)
        .limit(1)
    )
    return found is not None


async def count_admins(session: AsyncSession) -> int:
    """Active users holding ``user:admin`` through any role."""
    return int(
        await session.scalar(
            select(func.count(User.id.distinct()))
            .join(UserRole, UserRole.user_id == User.id)
            .join(RolePermission, RolePermission.role_id == UserRole.role_id)
            .where(User.is_active.is_(True), RolePermission.permission == ADMIN_PERMISSION)
        )
        or 0
    )


@asynccontextmanager
async def admins_kept(session: AsyncSession) -> AsyncIterator[None]:
    """Run a change, then refuse it (``LastAdmin``) if it took the last administrator away.
    Such changes take turns on an advisory lock, so two can't each leave the other."""
    await session.execute(ADMINS_LOCK)
    before = await count_admins(session)
    yield
    await session.flush()
    if before and not await count_admins(session):
        raise LastAdmin()


def _check_description(description: str) -> str:
    return checked_text(description, field="description", limit=MAX_DESCRIPTION)


async def _role_for_update(session: AsyncSession, role_id: int) -> Role:
    return await locked(session, Role, role_id)


async def role_permissions(session: AsyncSession, role_id: int) -> set[str]:
    found = await session.scalars(
        select(RolePermission.permission).where(RolePermission.role_id == role_id)
    )
    return set(found.all())


def _actor(actor: Principal) -> dict[str, int | None]:
    return {"actor": actor.user_id, "actor_api_key": actor.api_key_id}


async def create_role(
    session: AsyncSession,
    *,
    name: str,
    description: str,
    permissions: list[str],
    actor: Principal,
) -> Role:
    actor.require(Permission.ROLE_WRITE)
    actor.require_staff("change roles")
    checks = InputChecks()  # every broken input rule at once
    name = name.strip().lower()
    if not ROLE_NAME_PATTERN.match(name):
        checks.add(
            InvalidInput(
                "role name must be 2-64 characters: a letter, then letters, digits, '_' or '-'",
                field=["name"],
            )
        )
    with checks:
        description = _check_description(description)
    with checks:
        wanted = checked_permissions(permissions)
        check_grantable(wanted, actor, field="permissions")
    checks.done()
    if await session.scalar(select(Role.id).where(Role.name == name)) is not None:
        raise Conflict(f"a role named {name!r} already exists", field=["name"])
    role = Role(name=name, description=description)
    session.add(role)
    try:
        await session.flush()
    except IntegrityError:  # created meanwhile by another request
        raise Conflict(f"a role named {name!r} already exists", field=["name"]) from None
    if wanted:
        await session.execute(
            insert(RolePermission), [{"role_id": role.id, "permission": p} for p in wanted]
        )
    audit(
        session,
        "role.create",
        entity_type="Role",
        entity_id=role.id,
        changes={"name": name, "description": description, "permissions": wanted},
        **_actor(actor),
    )
    await session.flush()
    return role


def _permission_set(permissions: list[str]) -> set[str]:
    return set(checked_permissions(permissions))


async def update_role(
    session: AsyncSession,
    *,
    role_id: int,
    description: Patch[str | None] = KEEP,
    permissions: Patch[list[str] | None] = KEEP,
    actor: Principal,
) -> Role:
    """Change a role's description and/or replace its permission set (neither can be
    null). Permissions added must be held by the actor; the built-in admin role keeps
    every permission it has."""
    actor.require(Permission.ROLE_WRITE)
    actor.require_staff("change roles")
    checks = InputChecks()  # every broken input rule at once
    new_description: Patch[str] = KEEP
    wanted: Patch[set[str]] = KEEP
    with checks:
        new_description = mapped(required(description, field="description"), _check_description)
    with checks:
        wanted = mapped(
            required(permissions, field="permissions"),
            lambda given: set(checked_permissions(given)),
        )
    checks.done()
    role = await _role_for_update(session, role_id)
    changes: dict[str, object] = {}
    if new_description is not KEEP and new_description != role.description:
        changes["description"] = {"from": role.description, "to": new_description}
        role.description = new_description
    if wanted is not KEEP:
        current = await role_permissions(session, role.id)
        added, removed = sorted(wanted - current), sorted(current - wanted)
        if role.name == ADMIN_ROLE and removed:
            raise InvalidState(
                "the built-in admin role keeps every permission; can't remove "
                + ", ".join(removed),
                field=["permissions"],
            )
        check_grantable(added, actor, field="permissions")
        if added or removed:
            async with admins_kept(session):
                if removed:
                    await session.execute(
                        delete(RolePermission).where(
                            RolePermission.role_id == role.id,
                            RolePermission.permission.in_(removed),
                        )
                    )
                if added:
                    await session.execute(
                        insert(RolePermission).on_conflict_do_nothing(),
                        [{"role_id": role.id, "permission": p} for p in added],
                    )
            role.updated_at = func.now()  # set by the server, read back below
            changes["permissions"] = {"added": added, "removed": removed}
    if changes:
        audit(
            session,
            "role.update",
            entity_type="Role",
            entity_id=role.id,
            changes={"name": role.name, **changes},
            **_actor(actor),
        )
    await session.flush()
    await session.refresh(role)
    return role


@dataclass(frozen=True)
class DeletedRole:
    id: int
    name: str


async def delete_role(session: AsyncSession, *, role_id: int, actor: Principal) -> DeletedRole:
    """Delete a role nobody holds. Built-in roles stay: they would only come back at the
    next start-up (``ensure_builtin_roles``)."""
    actor.require(Permission.ROLE_WRITE)
    actor.require_staff("change roles")
    role = await _role_for_update(session, role_id)
    if role.name in BUILTIN_ROLES:
        raise InvalidState(f"the built-in role {role.name!r} can't be deleted", field=["id"])
    holders = int(
        await session.scalar(select(func.count()).where(UserRole.role_id == role.id)) or 0
    )
    in_use = RoleInUse(
        f"role {role.name!r} is held by {holders or 'some'} user(s); remove it from them first",
        field=["id"],
    )
    if holders:
        raise in_use
    permissions = sorted(await role_permissions(session, role.id))
    deleted = DeletedRole(role.id, role.name)
    await session.delete(role)
    try:
        await session.flush()
    except IntegrityError:  # assigned meanwhile (user_role's key to role is RESTRICT)
        raise in_use from None
    audit(
        session,
        "role.delete",
        entity_type="Role",
        entity_id=deleted.id,
        changes={"name": deleted.name, "permissions": permissions},
        **_actor(actor),
    )
    await session.flush()
    return deleted
