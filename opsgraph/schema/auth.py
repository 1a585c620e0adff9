"""GraphQL types of signing in: tokens and the payloads of login, tokenRefresh, logout."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from opsgraph.auth.guard import PUBLIC
from opsgraph.schema.errors import UserError

if TYPE_CHECKING:
    from opsgraph.schema.user import User

UserType = Annotated["User", strawberry.lazy("opsgraph.schema.user")]


@strawberry.type(description="Tokens of a signed-in session.")
class AuthTokens:
    access_token: str = strawberry.field(
        description="Send as `Authorization: Bearer <accessToken>`; short-lived."
    )
    access_token_expires_at: dt.datetime
    refresh_token: str = strawberry.field(
        description="Single use: `tokenRefresh` spends it for new tokens."
    )
    refresh_token_expires_at: dt.datetime
    token_type: str = strawberry.field(default="Bearer", description="Always `Bearer`.")


@strawberry.input(description="A username and its password.")
class LoginInput:
    username: str
    password: str


@strawberry.input(description="The refresh token to spend.")
class TokenRefreshInput:
    refresh_token: str


@strawberry.type(description="The result of `login` or `tokenRefresh`.")
class SignInPayload:
    tokens: AuthTokens | None = None
    user: UserType | None = strawberry.field(
        default=None,
        description="The user who signed in: their own fields need no permission here.",
        metadata=PUBLIC,
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of `logout`.")
class LogoutPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def tokens_of(signed: Any) -> AuthTokens:
    return AuthTokens(
        access_token=signed.access.token,
        access_token_expires_at=signed.access.expires_at,
        refresh_token=signed.refresh_token,
        refresh_token_expires_at=signed.refresh_expires_at,
    )
