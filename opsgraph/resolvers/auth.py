"""Root fields of signing in: login, tokenRefresh, logout (public but logout) and me."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from opsgraph.auth.guard import PUBLIC, SIGNED_IN
from opsgraph.errors import DomainError, Unauthenticated
from opsgraph.schema.auth import (
    LoginInput,
    LogoutPayload,
    SignInPayload,
    TokenRefreshInput,
    tokens_of,
)
from opsgraph.schema.errors import user_error
from opsgraph.schema.resolve import Info
from opsgraph.services import auth as service

if TYPE_CHECKING:
    from opsgraph.schema.user import User

UserType = Annotated["User", strawberry.lazy("opsgraph.schema.user")]


async def _signed_in(info: Info, signed: service.SignedIn) -> SignInPayload:
    user: Any = await info.context.loaders.by_key("User").load(signed.user_id)
    return SignInPayload(tokens=tokens_of(signed), user=user)


@strawberry.type
class AuthMutation:
    @strawberry.mutation(
        description="Sign in with a username and password (public).", metadata=PUBLIC
    )
    async def login(self, info: Info, input: LoginInput) -> SignInPayload:
        signed = await info.context.login(input.username, input.password)
        if isinstance(signed, DomainError):
            return SignInPayload(errors=[user_error(signed)])
        return await _signed_in(info, signed)

    @strawberry.mutation(
        description="Spend a refresh token for new tokens (public). A spent token used "
        "again ends its whole session.",
        metadata=PUBLIC,
    )
    async def token_refresh(self, info: Info, input: TokenRefreshInput) -> SignInPayload:
        signed = await info.context.refresh(input.refresh_token)
        if signed is None:
            error = Unauthenticated("The refresh token is not valid; sign in again.")
            return SignInPayload(errors=[user_error(error)])
        return await _signed_in(info, signed)

    @strawberry.mutation(
        description="End the signed-in session of the access token sent.", metadata=SIGNED_IN
    )
    async def logout(self, info: Info) -> LogoutPayload:
        context = info.context
        principal = await context.require_principal()
        if context.session_id is None:
            return LogoutPayload(
                errors=[user_error(DomainError("only a session signed in with login can end"))]
            )
        async with context.transaction() as session:
            await service.logout(session, user_id=principal.user_id, session_id=context.session_id)
        return LogoutPayload(ok=True)


@strawberry.type
class AuthQuery:
    @strawberry.field(
        description="The signed-in user, with roles and permissions.", metadata=SIGNED_IN
    )
    async def me(self, info: Info) -> UserType:
        principal = await info.context.require_principal()
        row: Any = await info.context.loaders.by_key("User").load(principal.user_id)
        return cast("User", row)  # rows stand in for the type (schema/resolve.py)
