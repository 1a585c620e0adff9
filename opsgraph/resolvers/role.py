"""Root fields of roles and permissions: roleCreate, roleUpdate, roleDelete (each needs
`role:write`) and the `permissions` list (any signed-in caller)."""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import SIGNED_IN, requires
from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.account import (
    RoleCreateInput,
    RoleCreatePayload,
    RoleDeleteInput,
    RoleDeletePayload,
    RoleUpdateInput,
    RoleUpdatePayload,
)
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.services import role as service


@strawberry.type
class RoleMutation:
    @strawberry.mutation(
        description="Create a role with permissions you hold yourself (`role:write`).",
        metadata=requires("role:write"),
    )
    async def role_create(self, info: Info, input: RoleCreateInput) -> RoleCreatePayload:
        return await mutate(
            info,
            RoleCreatePayload,
            lambda session, actor: service.create_role(
                session,
                name=input.name,
                description=input.description,
                permissions=input.permissions,
                actor=actor,
            ),
            lambda done: {"role": Ref("Role", done.id)},
        )

    @strawberry.mutation(
        description="Change a role's description or replace its permission set "
        "(`role:write`; permissions added must be yours; the admin role keeps all of its).",
        metadata=requires("role:write"),
    )
    async def role_update(self, info: Info, input: RoleUpdateInput) -> RoleUpdatePayload:
        return await mutate(
            info,
            RoleUpdatePayload,
            lambda session, actor: service.update_role(
                session,
                role_id=parse_global_id(input.id, "Role"),
                description=patch(input.description),
                permissions=patch(input.permissions),
                actor=actor,
            ),
            lambda done: {"role": Ref("Role", done.id)},
        )

    @strawberry.mutation(
        description="Delete a role nobody holds (`role:write`); built-in roles stay.",
        metadata=requires("role:write"),
    )
    async def role_delete(self, info: Info, input: RoleDeleteInput) -> RoleDeletePayload:
        return await mutate(
            info,
            RoleDeletePayload,
            lambda session, actor: service.delete_role(
                session, role_id=parse_global_id(input.id, "Role"), actor=actor
            ),
            lambda done: {"deleted_id": strawberry.ID(to_global_id("Role", done.id))},
        )


@strawberry.type
class RoleQuery:
    @strawberry.field(
        description="Every permission there is (`<domain>:<action>`), sorted.",
        metadata=SIGNED_IN,
    )
    def permissions(self) -> list[str]:
        return service.list_permissions()
