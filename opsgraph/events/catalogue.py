"""Every event type, what it means, and the read permission that lets a caller see it.

A caller sees an event in the feed (and an endpoint may subscribe to it) only with the read
permission of the object it is about: the feed shows what the objects would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    # the permission that reads the object the event is about
    permission: str


CATALOGUE: Final[dict[str, EventType]] = {
    item.name: item
    for item in (
        EventType("customer.created", "A customer was created.", "customer:read"),
        EventType("customer.updated", "A customer's fields changed (from -> to).", "customer:read"),
        EventType("order.created", "An order was placed.", "order:read"),
        EventType("order.status_changed", "An order moved to another status.", "order:read"),
        EventType("invoice.created", "An invoice was made (a draft).", "invoice:read"),
        EventType("invoice.sent", "An invoice was sent to its customer.", "invoice:read"),
        EventType("invoice.paid", "Payments settled an invoice in full.", "invoice:read"),
        EventType("invoice.voided", "An invoice was voided.", "invoice:read"),
        EventType("payment.recorded", "A payment against an invoice was recorded.", "payment:read"),
        EventType("ticket.created", "A support ticket was opened.", "ticket:read"),
        EventType("ticket.status_changed", "A ticket moved to another status.", "ticket:read"),
        EventType(
            "purchase_order.created",
            "A purchase order arrived from a partner system.",
            "purchase_order:read",
        ),
        EventType(
            "purchase_order.state_changed",
            "A purchase order moved to another state.",
            "purchase_order:read",
        ),
        EventType(
            "stock.low",
            "A product's stock fell to or below its reorder level.",
            "stock:read",
        ),
    )
}

EVENT_TYPES: Final = tuple(CATALOGUE)


def readable_types(permissions: frozenset[str]) -> tuple[str, ...]:
    """The event types a holder of ``permissions`` may see."""
    return tuple(name for name, item in CATALOGUE.items() if item.permission in permissions)
