"""Who is calling: the principal a request's credentials resolve to."""

from __future__ import annotations

from dataclasses import dataclass

from opsgraph.errors import Forbidden
from opsgraph.permissions import Permission


@dataclass(frozen=True)
class Principal:
    """A signed-in user (or an API key acting for one) and what it may do.

    ``customer_id`` is the customer the user is linked to. Whether that limits what it
    sees follows from its permissions, not from the link: see ``portal``.

    ``office_id`` and ``manufacturer`` come from an API key bound to a regional office (a
    customer) or a manufacturer (a brand): who the key speaks for to inbound webhooks.
    """

    user_id: int
    username: str
    permissions: frozenset[str]
    customer_id: int | None = None
    api_key_id: int | None = None
    office_id: int | None = None
    manufacturer: str | None = None

    @property
    def portal(self) -> bool:
        """A customer-portal principal (``portal:scoped``): it sees only its customer's
        rows, and none while its user is linked to no customer."""
        return Permission.PORTAL_SCOPED in self.permissions

    def require_staff(self, what: str) -> None:
        """``Forbidden`` for a portal principal: ``what`` is staff work, whatever
        permissions its roles grant."""
        if self.portal:
            raise Forbidden(f"customer-portal users can't {what}")

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this needs the permission {permission}")
