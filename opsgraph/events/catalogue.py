"""Every event type, what it means, and the read permission that lets a caller see it.

A caller sees an event in the feed (and an endpoint may subscribe to it) only with the read
permission of the object it is about: the feed shows what the objects would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opsgraph.permissions import Permission


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    # the permission that reads the object the event is about
    permission: Permission


CATALOGUE: Final[dict[str, EventType]] = {
    item.name: item
    for item in (
        EventType("customer.created", "A customer was created.", Permission.CUSTOMER_READ),
        EventType(
            "customer.updated",
            "A customer's fields changed (from -> to).",
            Permission.CUSTOMER_READ,
        ),
        EventType("order.created", "An order was placed.", Permission.ORDER_READ),
        EventType(
            "order.status_changed", "An order moved to another status.", Permission.ORDER_READ
        ),
        EventType("invoice.created", "An invoice was made (a draft).", Permission.INVOICE_READ),
        EventType("invoice.sent", "An invoice was sent to its customer.", Permission.INVOICE_READ),
        EventType("invoice.paid", "Payments settled an invoice in full.", Permission.INVOICE_READ),
        EventType("invoice.voided", "An invoice was voided.", Permission.INVOICE_READ),
        EventType(
            "payment.recorded",
            "A payment against an invoice was recorded.",
            Permission.PAYMENT_READ,
        ),
        EventType("ticket.created", "A support ticket was opened.", Permission.TICKET_READ),
        EventType(
            "ticket.status_changed", "A ticket moved to another status.", Permission.TICKET_READ
        ),
        EventType(
            "purchase_order.created",
            "A purchase order arrived from a partner system.",
            Permission.PURCHASE_ORDER_READ,
        ),
        EventType(
            "purchase_order.state_changed",
            "A purchase order moved to another state.",
            Permission.PURCHASE_ORDER_READ,
        ),
        EventType(
            "stock.low",
            "A product's stock fell to or below its reorder level.",
            Permission.STOCK_READ,
        ),
    )
}

EVENT_TYPES: Final = tuple(CATALOGUE)


def readable_types(permissions: frozenset[str]) -> tuple[str, ...]:
    """The event types a holder of ``permissions`` may see."""
    return tuple(name for name, item in CATALOGUE.items() if item.permission in permissions)
