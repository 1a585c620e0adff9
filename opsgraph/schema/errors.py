"""Errors as data: the ``UserError`` every mutation payload lists (Shopify/Saleor style)."""

from __future__ import annotations

from enum import Enum

import strawberry

from opsgraph.errors import DomainError


@strawberry.enum(description="What went wrong, for programs to branch on.")
class ErrorCode(Enum):
    BAD_REQUEST = "BAD_REQUEST"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_STATE = "INVALID_STATE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    ROLE_IN_USE = "ROLE_IN_USE"
    LAST_ADMIN = "LAST_ADMIN"


@strawberry.type(description="An expected failure of a mutation; nothing was changed by it.")
class UserError:
    code: ErrorCode
    message: str
    field: list[str] | None = strawberry.field(
        default=None, description="Path into the input of the value at fault, if any."
    )


def user_error(error: DomainError) -> UserError:
    return UserError(code=ErrorCode(error.code), message=error.message, field=error.field)
