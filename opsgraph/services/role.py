"""Roles and their permission sets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.permissions import BUILTIN_ROLES
from opsgraph.models import Role, RolePermission


async def ensure_builtin_roles(session: AsyncSession) -> dict[str, int]:
    """Create any missing built-in role with its permissions; return every role's id by name.

    Existing roles keep their permissions: an operator's edits are never undone.
    """
    await session.execute(
        insert(Role)
        .values([{"name": name, "description": desc} for name, (desc, _) in BUILTIN_ROLES.items()])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    ids = {row.name: row.id for row in await session.execute(select(Role.name, Role.id))}
    have_permissions = set((await session.scalars(select(RolePermission.role_id).distinct())).all())
    rows = [
        {"role_id": ids[name], "permission": permission}
        for name, (_, permissions) in BUILTIN_ROLES.items()
        if ids[name] not in have_permissions
        for permission in sorted(permissions)
    ]
    if rows:
        await session.execute(insert(RolePermission).on_conflict_do_nothing(), rows)
    await session.flush()
    return ids
