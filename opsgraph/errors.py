"""Domain errors: the expected failures the services raise.

Mutations turn them into ``UserError`` payload entries; queries surface them as top-level
GraphQL errors whose ``extensions.code`` is the error's code. Anything that is not a
DomainError is unexpected: masked for the client and logged with the request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = list(field) if field is not None else None

    @property
    def extensions(self) -> dict[str, Any]:
        """Read by graphql-core when it wraps the exception in a GraphQLError."""
        data: dict[str, Any] = {"code": self.code}
        if self.field is not None:
            data["field"] = self.field
        return data


class InvalidInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class InvalidState(DomainError):
    code = "INVALID_STATE"


class Unauthenticated(DomainError):
    """No valid credentials: every rejected token or key gets this same error."""

    code = "UNAUTHENTICATED"

    def __init__(
        self, message: str = "Authentication required: send a valid access token."
    ) -> None:
        super().__init__(message)


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidCredentials(DomainError):
    """A login that failed: the same for an unknown user and a wrong password."""

    code = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("The username or password is wrong.")


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"
