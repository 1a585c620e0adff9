"""GraphQL types of account management: the ApiKey type, and the inputs and payloads of
the user, role and API key mutations.

A payload's object field (``user``, ``role``, ``apiKey``) declares ``PUBLIC``: the
mutation's own guard already decided who may act on (and so see) that object; the
fields selected inside it are still checked as everywhere.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from opsgraph.auth.guard import PUBLIC
from opsgraph.graph.ids import to_global_id
from opsgraph.schema.errors import UserError
from opsgraph.schema.resolve import Info

if TYPE_CHECKING:
    from opsgraph.models import ApiKey as ApiKeyModel
    from opsgraph.schema.user import Role, User

UserType = Annotated["User", strawberry.lazy("opsgraph.schema.user")]
RoleType = Annotated["Role", strawberry.lazy("opsgraph.schema.user")]


def _errors() -> Any:
    return strawberry.field(default_factory=list, description="Why nothing was changed.")


# --- users ---------------------------------------------------------------------------


@strawberry.input(description="A new user. Passwords: see `userChangePassword`.")
class UserRegisterInput:
    username: str = strawberry.field(description="2-64 characters: letters, digits, . _ -")
    email: str
    password: str
    full_name: str = ""
    roles: list[str] | None = strawberry.field(
        default=None,
        description="Role names, chosen by an administrator only; default `staff`.",
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The customer a portal user belongs to (set by an administrator only).",
    )


@strawberry.input(
    description="Fields of a user to change; null leaves a field as it is, except `customerId`."
)
class UserUpdateInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="The user to change (`user:admin`); null: yourself."
    )
    email: str | None = None
    full_name: str | None = None
    customer_id: strawberry.Maybe[strawberry.ID | None] = strawberry.field(
        description="Link the user to this customer (`user:admin`): a portal user sees only "
        "its customer's data, and none while linked to no customer. Null: unlink. Left "
        "out: the link is kept.",
    )


@strawberry.input(
    description="A new password: at least the configured minimum of characters, at most "
    "72 bytes in UTF-8, no NUL character."
)
class UserChangePasswordInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose password (`user:admin`); null: your own."
    )
    current_password: str | None = strawberry.field(
        default=None, description="Required to change your own password."
    )
    new_password: str


@strawberry.input(description="The user to activate.")
class UserActivateInput:
    id: strawberry.ID


@strawberry.input(description="The user to deactivate.")
class UserDeactivateInput:
    id: strawberry.ID


@strawberry.input(description="A user and the name of a role to give them.")
class UserAssignRoleInput:
    user_id: strawberry.ID
    role: str = strawberry.field(description="The role's name, e.g. `accountant`.")


@strawberry.input(description="A user and the name of a role to take from them.")
class UserRemoveRoleInput:
    user_id: strawberry.ID
    role: str = strawberry.field(description="The role's name.")


@strawberry.type(description="The user a mutation acted on, or why it did nothing.")
class UserPayloadBase:
    user: UserType | None = strawberry.field(
        default=None, description="The user, as changed.", metadata=PUBLIC
    )
    errors: list[UserError] = _errors()


@strawberry.type(description="The result of `userRegister`.")
class UserRegisterPayload(UserPayloadBase):
    pass


@strawberry.type(description="The result of `userUpdate`.")
class UserUpdatePayload(UserPayloadBase):
    pass


@strawberry.type(description="The result of `userChangePassword`.")
class UserChangePasswordPayload(UserPayloadBase):
    pass


@strawberry.type(description="The result of `userActivate`.")
class UserActivatePayload(UserPayloadBase):
    pass


@strawberry.type(description="The result of `userDeactivate`.")
class UserDeactivatePayload(UserPayloadBase):
    pass


@strawberry.type(description="The result of `userAssignRole`.")
class UserAssignRolePayload(UserPayloadBase):
    pass


@strawberry.type(description="The result of `userRemoveRole`.")
class UserRemoveRolePayload(UserPayloadBase):
    pass


# --- roles -----------------------------------------------------------------------------


@strawberry.input(description="A new role.")
class RoleCreateInput:
    name: str = strawberry.field(description="2-64 characters: a letter, then a-z 0-9 _ -")
    description: str = ""
    permissions: list[str] = strawberry.field(
        description="Permissions (`<domain>:<action>`, see `permissions`), each one held by you."
    )


@strawberry.input(description="Changes to a role; null leaves a field as it is.")
class RoleUpdateInput:
    id: strawberry.ID
    description: str | None = None
    permissions: list[str] | None = strawberry.field(
        default=None, description="The role's whole new permission set."
    )


@strawberry.input(description="The role to delete.")
class RoleDeleteInput:
    id: strawberry.ID


@strawberry.type(description="The role a mutation acted on, or why it did nothing.")
class RolePayloadBase:
    role: RoleType | None = strawberry.field(
        default=None, description="The role, as changed.", metadata=PUBLIC
    )
    errors: list[UserError] = _errors()


@strawberry.type(description="The result of `roleCreate`.")
class RoleCreatePayload(RolePayloadBase):
    pass


@strawberry.type(description="The result of `roleUpdate`.")
class RoleUpdatePayload(RolePayloadBase):
    pass


@strawberry.type(description="The result of `roleDelete`.")
class RoleDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global id the role had."
    )
    errors: list[UserError] = _errors()


# --- API keys --------------------------------------------------------------------------


@strawberry.type(description="An API key for an integration. Its secret is never shown again.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(
        description="The public part of the key (`og_<prefix>_...`), to tell keys apart."
    )
    scopes: list[str] = strawberry.field(
        description="What the key may do, within what its creator may do at the time."
    )
    created_at: dt.datetime
    last_used_at: dt.datetime | None = strawberry.field(
        description="When a request last used the key (to the minute)."
    )
    revoked_at: dt.datetime | None
    customer_id: strawberry.ID | None = strawberry.field(
        description="The regional office (a Customer) the key speaks for to the sales "
        "webhook, if it is bound to one."
    )
    manufacturer: str | None = strawberry.field(
        description="The manufacturer (a brand) the key speaks for to the state webhook, "
        "if it is bound to one."
    )
    created_by_id: strawberry.Private[int]

    @strawberry.field(description="The user the key acts for.", metadata=PUBLIC)
    async def created_by(self, info: Info) -> UserType | None:
        row: Any = await info.context.loaders.by_key("User").load(self.created_by_id)
        return cast("User | None", row)  # rows stand in for the type (schema/resolve.py)

    @classmethod
    def of(cls, key: ApiKeyModel) -> ApiKey:
        return cls(
            id=strawberry.ID(to_global_id("ApiKey", key.id)),
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            customer_id=None
            if key.customer_id is None
            else strawberry.ID(to_global_id("Customer", key.customer_id)),
            manufacturer=key.manufacturer,
            created_by_id=key.created_by,
        )


@strawberry.input(description="A new API key.")
class ApiKeyCreateInput:
    name: str = strawberry.field(description="What the key is for, e.g. `ERP sync`.")
    scopes: list[str] = strawberry.field(
        description="Permissions for the key, each one held by you."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Bind the key to this regional office (a Customer) for the sales "
        "webhook (`webhook:sales`); admins only.",
    )
    manufacturer: str | None = strawberry.field(
        default=None,
        description="Bind the key to this manufacturer (a brand) for the state webhook "
        "(`webhook:manufacturer`); admins only. Not together with `customerId`.",
    )


@strawberry.input(description="The API key to revoke.")
class ApiKeyRevokeInput:
    id: strawberry.ID


@strawberry.type(description="The result of `apiKeyCreate`.")
class ApiKeyCreatePayload:
    api_key: ApiKey | None = strawberry.field(
        default=None, description="The new key.", metadata=PUBLIC
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The key itself, shown this once: send it as `Authorization: Bearer "
        "<secret>` or `Client-Secret: <secret>`.",
    )
    errors: list[UserError] = _errors()


@strawberry.type(description="The result of `apiKeyRevoke`.")
class ApiKeyRevokePayload:
    api_key: ApiKey | None = strawberry.field(
        default=None, description="The revoked key.", metadata=PUBLIC
    )
    errors: list[UserError] = _errors()
