"""Root fields of roles and permissions: roleCreate, roleUpdate, roleDelete (each needs
`role:write`) and the `permissions` list (any signed-in caller)."""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import SIGNED_IN, requires
from opsgraph.resolvers.mutate import in_transaction, load
from opsgraph.schema.account import (
    RoleCreateInput,
    RoleCreatePayload,
    RoleDeleteInput,
    RoleDeletePayload,
    RoleUpdateInput,
    RoleUpdatePayload,
)
from opsgraph.schema.node import parse_global_id, to_global_id
from opsgraph.schema.resolve import Info
from opsgraph.services import role as service


@strawberry.type
class RoleMutation:
    @strawberry.mutation(
        description="Create a role with permissions you hold yourself (`role:write`).",
        metadata=requires("role:write"),
    )
    async def role_create(self, info: Info, input: RoleCreateInput) -> RoleCreatePayload:
        actor = await info.context.require_principal()
        done = await in_transaction(
            info.context,
            lambda session: service.create_role(
                session,
                name=input.name,
                description=input.description,
                permissions=input.permissions,
                actor=actor,
            ),
        )
        if isinstance(done, list):
            return RoleCreatePayload(errors=done)
        return RoleCreatePayload(role=await load(info, "Role", done.id))

    @strawberry.mutation(
        description="Change a role's description or replace its permission set "
        "(`role:write`; permissions added must be yours; the admin role keeps all of its).",
        metadata=requires("role:write"),
    )
    async def role_update(self, info: Info, input: RoleUpdateInput) -> RoleUpdatePayload:
        actor = await info.context.require_principal()
        done = await in_transaction(
            info.context,
            lambda session: service.update_role(
                session,
                role_id=parse_global_id(input.id, "Role"),
                description=input.description,
                permissions=input.permissions,
                actor=actor,
            ),
        )
        if isinstance(done, list):
            return RoleUpdatePayload(errors=done)
        return RoleUpdatePayload(role=await load(info, "Role", done.id))

    @strawberry.mutation(
        description="Delete a role nobody holds (`role:write`); built-in roles stay.",
        metadata=requires("role:write"),
    )
    async def role_delete(self, info: Info, input: RoleDeleteInput) -> RoleDeletePayload:
        actor = await info.context.require_principal()
        done = await in_transaction(
            info.context,
            lambda session: service.delete_role(
                session, role_id=parse_global_id(input.id, "Role"), actor=actor
            ),
        )
        if isinstance(done, list):
            return RoleDeletePayload(errors=done)
        return RoleDeletePayload(deleted_id=strawberry.ID(to_global_id("Role", done.id)))


@strawberry.type
class RoleQuery:
    @strawberry.field(
        description="Every permission there is (`<domain>:<action>`), sorted.",
        metadata=SIGNED_IN,
    )
    def permissions(self) -> list[str]:
        return service.list_permissions()
