"""Who is calling: the principal a request's credentials resolve to."""

from __future__ import annotations

from dataclasses import dataclass

from opsgraph.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    """A signed-in user (or, later, an API key acting for one) and what it may do.

    ``customer_id`` is set for customer-portal users: they see only that customer's rows.
    """

    user_id: int
    username: str
    permissions: frozenset[str]
    customer_id: int | None = None
    api_key_id: int | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this needs the permission {permission}")
