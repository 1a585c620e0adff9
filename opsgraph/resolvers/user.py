"""Root fields of user management: userRegister, userUpdate, userChangePassword,
userActivate/userDeactivate, userAssignRole/userRemoveRole.

Thin: convert the input, call one service in one transaction, wrap the result. Expected
failures come back in ``errors``; ``Unauthenticated``/``Forbidden`` stay top-level errors.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import SIGNED_IN, requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import Ref, in_transaction, load, mutate
from opsgraph.schema.account import (
    UserActivateInput,
    UserActivatePayload,
    UserAssignRoleInput,
    UserAssignRolePayload,
    UserChangePasswordInput,
    UserChangePasswordPayload,
    UserDeactivateInput,
    UserDeactivatePayload,
    UserRegisterInput,
    UserRegisterPayload,
    UserRemoveRoleInput,
    UserRemoveRolePayload,
    UserUpdateInput,
    UserUpdatePayload,
)
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.services import user as service
from opsgraph.services import user_account as account
from opsgraph.services.patch import mapped


def user_id(raw: strawberry.ID | None, own: int) -> int:
    """The user a global id names; no id: the caller's own."""
    return own if raw is None else parse_global_id(raw, "User")


def _customer_pk(raw: strawberry.ID) -> int:
    return parse_global_id(raw, "Customer", field="customerId")


@strawberry.type
class UserMutation:
    @strawberry.mutation(
        description="Create a user (`user:admin`; anyone when self-signup is on, who then "
        "gets the default role `staff` and chooses no roles and no customer).",
        metadata=requires("user:admin", public_if="self_signup"),
    )
    async def user_register(self, info: Info, input: UserRegisterInput) -> UserRegisterPayload:
        context = info.context
        actor = await context.principal()
        done = await in_transaction(
            context,
            lambda session: service.register_user(
                session,
                username=input.username,
                email=input.email,
                password=input.password,
                full_name=input.full_name,
                roles=input.roles,
                customer_id=(
                    None
                    if input.customer_id is None
                    else parse_global_id(input.customer_id, "Customer", field="customerId")
                ),
                actor=actor,
                settings=context.settings,
            ),
        )
        if isinstance(done, list):
            return UserRegisterPayload(errors=done)
        return UserRegisterPayload(user=await load(info, "User", done.id))

    @strawberry.mutation(
        description="Change your own email or full name; anyone's, and the customer a user "
        "is linked to, with `user:admin`.",
        metadata=SIGNED_IN,
    )
    async def user_update(self, info: Info, input: UserUpdateInput) -> UserUpdatePayload:
        return await mutate(
            info,
            UserUpdatePayload,
            lambda session, actor: account.update_user(
                session,
                user_id=user_id(input.id, actor.user_id),
                email=patch(input.email),
                full_name=patch(input.full_name),
                customer_id=mapped(patch(input.customer_id), _customer_pk),
                actor=actor,
            ),
            lambda done: {"user": Ref("User", done.id)},
        )

    @strawberry.mutation(
        description="Change your own password (give the current one; your other sessions "
        "end), or set another user's with `user:admin` (all their sessions end).",
        metadata=SIGNED_IN,
    )
    async def user_change_password(
        self, info: Info, input: UserChangePasswordInput
    ) -> UserChangePasswordPayload:
        context = info.context
        return await mutate(
            info,
            UserChangePasswordPayload,
            lambda session, actor: account.change_password(
                session,
                user_id=user_id(input.id, actor.user_id),
                current_password=input.current_password,
                new_password=input.new_password,
                actor=actor,
                settings=context.settings,
                keep_session=context.session_id,
            ),
            lambda done: {"user": Ref("User", done.id)},
        )

    @strawberry.mutation(
        description="Let a deactivated user sign in again (`user:admin`).",
        metadata=requires("user:admin"),
    )
    async def user_activate(self, info: Info, input: UserActivateInput) -> UserActivatePayload:
        return await mutate(
            info,
            UserActivatePayload,
            lambda session, actor: account.set_user_active(
                session, user_id=parse_global_id(input.id, "User"), active=True, actor=actor
            ),
            lambda done: {"user": Ref("User", done.id)},
        )

    @strawberry.mutation(
        description="Stop a user: their tokens and API keys fail from the next request on, "
        "their sessions end (`user:admin`). The last administrator can't be deactivated.",
        metadata=requires("user:admin"),
    )
    async def user_deactivate(
        self, info: Info, input: UserDeactivateInput
    ) -> UserDeactivatePayload:
        return await mutate(
            info,
            UserDeactivatePayload,
            lambda session, actor: account.set_user_active(
                session, user_id=parse_global_id(input.id, "User"), active=False, actor=actor
            ),
            lambda done: {"user": Ref("User", done.id)},
        )

    @strawberry.mutation(
        description="Give a user a role (`user:admin`).", metadata=requires("user:admin")
    )
    async def user_assign_role(
        self, info: Info, input: UserAssignRoleInput
    ) -> UserAssignRolePayload:
        return await mutate(
            info,
            UserAssignRolePayload,
            lambda session, actor: account.assign_role(
                session,
                user_id=parse_global_id(input.user_id, "User", field="userId"),
                role=input.role,
                actor=actor,
            ),
            lambda done: {"user": Ref("User", done.id)},
        )

    @strawberry.mutation(
        description="Take a role from a user (`user:admin`); refused when that would leave "
        "no active administrator.",
        metadata=requires("user:admin"),
    )
    async def user_remove_role(
        self, info: Info, input: UserRemoveRoleInput
    ) -> UserRemoveRolePayload:
        return await mutate(
            info,
            UserRemoveRolePayload,
            lambda session, actor: account.remove_role(
                session,
                user_id=parse_global_id(input.user_id, "User", field="userId"),
                role=input.role,
                actor=actor,
            ),
            lambda done: {"user": Ref("User", done.id)},
        )
