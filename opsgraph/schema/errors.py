"""Errors as data: the ``UserError`` every mutation payload lists (Shopify/Saleor style)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from opsgraph.auth.guard import PUBLIC
from opsgraph.errors import CODES, DomainError

if TYPE_CHECKING:
    ErrorCode = Enum
else:  # one member per code in opsgraph.errors.CODES, so the two can't drift apart
    ErrorCode = strawberry.enum(
        Enum("ErrorCode", {code: code for code in CODES}),
        description="What went wrong, for programs to branch on.",
    )


@strawberry.type(description="An expected failure of a mutation; nothing was changed by it.")
class UserError:
    code: ErrorCode
    message: str
    field: list[str] | None = strawberry.field(
        default=None, description="Path into the input of the value at fault, if any."
    )


def user_error(error: DomainError) -> UserError:
    return UserError(code=ErrorCode(error.code), message=error.message, field=error.field)


def errors_field() -> Any:
    """A payload's ``errors``: empty when the mutation did what it was asked."""
    return strawberry.field(default_factory=list, description="Why nothing was changed.")


def changed_field(description: str) -> Any:
    """A payload's object field (``order``, ``invoice``...). It declares ``PUBLIC``: the
    mutation's own guard already decided who may act on (and so see) the object; the
    fields selected inside it are still checked as everywhere."""
    return strawberry.field(default=None, description=description, metadata=PUBLIC)


def dry_run_field() -> Any:
    return strawberry.field(
        default=False,
        description="Check every rule and return the payload as it would be, then roll "
        "everything back: nothing is kept.",
    )
