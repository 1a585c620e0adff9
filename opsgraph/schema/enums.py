"""GraphQL enums of the data model: the graph's enums (``opsgraph.graph.enums``) with
their descriptions, and the event types of the catalogue."""

from enum import StrEnum
from typing import Any

import strawberry

from opsgraph.events.catalogue import CATALOGUE
from opsgraph.graph import enums as g
from opsgraph.graph.enums import graph_enum


def described(enum: type[StrEnum], description: str) -> Any:
    """``enum`` as a GraphQL enum (the same class: filters of the graph name it too)."""
    return strawberry.enum(enum, description=description)


def graphql_enum(name: str, source: type[StrEnum], description: str) -> Any:
    return described(graph_enum(name, source), description)


OrderStatus = described(g.OrderStatus, "Where an order is in its life.")
InvoiceStatus = described(g.InvoiceStatus, "Where an invoice is.")
PaymentMethod = described(g.PaymentMethod, "How a payment was made.")
TicketStatus = described(g.TicketStatus, "Where a ticket is.")
TicketPriority = described(g.TicketPriority, "How urgent a ticket is.")
StockReason = described(g.StockReason, "Why stock moved.")
PurchaseOrderState = described(g.PurchaseOrderState, "Where a purchase order is (forward only).")
TransactionKind = described(g.TransactionKind, "Kind of transaction.")
WebhookDeliveryStatus = described(g.WebhookDeliveryStatus, "Where a webhook delivery is.")


def _event_types() -> Any:
    """The event catalogue as an enum: ``CUSTOMER_CREATED`` is ``customer.created``."""
    members = {name.upper().replace(".", "_"): name for name in CATALOGUE}
    made: Any = StrEnum("EventType", members)  # type: ignore[misc]
    return strawberry.enum(
        made, description="A type of event (opsgraph.events.catalogue; the value is its name)."
    )


EventType = _event_types()
