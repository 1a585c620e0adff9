"""The status machines of orders, tickets, invoices and purchase orders, as tables.

The services check every status change against these tables, and the GraphQL types'
``availableTransitions`` read the same tables, so what is offered is what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opsgraph.errors import InvalidTransition
from opsgraph.graph.names import article, enum_value, enum_values


@dataclass(frozen=True)
class Transitions:
    """``moves``: each status and the statuses it may change to, in the order offered."""

    entity: str
    moves: Mapping[str, tuple[str, ...]]

    def available(self, current: str) -> list[str]:
        return list(self.moves.get(current, ()))

    def check(self, current: str, target: str, *, field: str = "status") -> None:
        """Nothing when ``current`` may become ``target``; else ``InvalidTransition``."""
        if target in self.moves.get(current, ()):
            return
        allowed = self.available(current)
        then = f"it can become {enum_values(allowed)}" if allowed else "it can't change any more"
        now, wanted = article(enum_value(current)), enum_value(target)
        raise InvalidTransition(
            f"{now} {self.entity} can't become {wanted}: {then}",
            field=[field],
        )


ORDER = Transitions(
    "order",
    {
        "pending": ("confirmed", "cancelled"),
        "confirmed": ("completed", "cancelled"),
        "completed": (),
        "cancelled": (),
    },
)

TICKET = Transitions(
    "ticket",
    {
        "open": ("in_progress",),
        "in_progress": ("resolved",),
        "resolved": ("closed", "in_progress"),  # back to in_progress: reopened
        "closed": (),
    },
)

INVOICE = Transitions(
    "invoice",
    {
        "draft": ("sent", "void"),
        "sent": ("paid", "void"),  # paid: by payments only; void: not once paid or with payments
        "paid": (),
        "void": (),
    },
)

PURCHASE_ORDER = Transitions(
    "purchase order",
    {
        "received": ("approved", "cancelled"),
        "approved": ("in_progress", "cancelled"),
        "in_progress": ("completed", "cancelled"),
        "completed": (),
        "cancelled": (),
    },
)
